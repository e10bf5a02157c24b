// Imports of this package's dependencies that also work when the package is
// installed as a link (`npm install <folder>`, `npm link`).  Node resolves a
// module's imports from its real path: for a linked folder that is the
// folder itself, not the application that installed it, and npm installs
// nothing into a linked folder that lies outside the application.  So when
// an import fails there, the same package is looked up in the application's
// node_modules (from the main script, then the working directory), where
// LangGraph's own packages are anyway.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

/** The ESM entry point of the installed package directory `dir`. */
function entryPoint(dir) {
  const pkg = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8"));
  const pick = (e) => {
    if (typeof e === "string") return e;
    if (Array.isArray(e)) return pick(e[0]);
    if (e !== null && typeof e === "object") return pick(e.import ?? e.node ?? e.default);
    return undefined;
  };
  let exp = pkg.exports;
  if (exp !== null && typeof exp === "object" && !Array.isArray(exp) && "." in exp) exp = exp["."];
  return path.join(dir, pick(exp) ?? pkg.module ?? pkg.main ?? "index.js");
}

/** The directory of package `name` in node_modules above `start`, if any. */
function findPackage(name, start) {
  for (let dir = path.resolve(start); ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, "node_modules", name);
    if (existsSync(path.join(candidate, "package.json"))) return candidate;
    if (path.dirname(dir) === dir) return undefined;
  }
}

/** `import(name)`, falling back to the application's copy of `name`. */
export async function importDependency(name) {
  try {
    return await import(name);
  } catch (err) {
    if (err?.code !== "ERR_MODULE_NOT_FOUND") throw err;
    const starts = [process.argv[1] && path.dirname(process.argv[1]), process.cwd()];
    for (const start of starts.filter(Boolean)) {
      const dir = findPackage(name, start);
      if (dir !== undefined) return import(pathToFileURL(entryPoint(dir)).href);
    }
    throw new Error(
      `@agentstore/langgraph-checkpoint cannot import ${name}: installed from a folder,` +
        ` it is a link, and npm does not install a linked folder's dependencies;` +
        ` add ${name} to your project (npm install ${name}), or install the package` +
        ` with --install-links or from the tarball of npm pack`,
      { cause: err }
    );
  }
}
