// The package installs like a package: into a fresh project, from a tarball
// made by `npm pack` and from a folder (`npm install <folder>`, which npm
// installs as a link), then imported and used by a small graph run on the
// database the PG* variables name (a database of its own next to it), and
// type-checked by TypeScript.  The folder is a copy of this one without its
// node_modules, as in a fresh clone: nothing of the devDependencies is there.
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";

const HERE = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const LANGGRAPH = "@langchain/langgraph@1.7.3";
const DB = `agentstore_install_${process.pid}`;
let root;
let admin;

/** Runs a command; its output is in the error when it fails. */
function run(cwd, cmd, args) {
  try {
    return execFileSync(cmd, args, {
      cwd,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        DATABASE_URL:
          `postgresql://${encodeURIComponent(process.env.PGUSER ?? "postgres")}@/${DB}` +
          `?host=${encodeURIComponent(process.env.PGHOST ?? "/var/run/postgresql")}` +
          `&port=${process.env.PGPORT ?? 5432}`,
      },
    });
  } catch (e) {
    e.message += `\n${e.stdout ?? ""}${e.stderr ?? ""}`;
    throw e;
  }
}
const npm = (cwd, ...args) => run(cwd, "npm", [...args, "--no-audit", "--no-fund", "--loglevel=error"]);

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), "agentstore-install-"));
  // the package as a fresh clone has it: no node_modules
  cpSync(HERE, path.join(root, "package"), {
    recursive: true,
    filter: (src) => !src.split(path.sep).includes("node_modules"),
  });
  admin = new pg.Pool({ max: 1 });
  await admin.query(`CREATE DATABASE ${DB}`);
  const setup = new pg.Client({ database: DB });
  await setup.connect();
  await setup.query("CREATE EXTENSION agentstore");
  await setup.end();
}, 120_000);

afterAll(async () => {
  await admin?.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
  await admin?.end();
  if (root) rmSync(root, { recursive: true, force: true });
}, 120_000);

// The README's example, shortened: a graph that counts, on a saver from the
// package, run twice on one thread.
const APP = `
import { Annotation, StateGraph, START, END } from "@langchain/langgraph";
import { AgentstoreSaver } from "@agentstore/langgraph-checkpoint";

const State = Annotation.Root({ count: Annotation({ reducer: (a, b) => a + b, default: () => 0 }) });
const graph = new StateGraph(State)
  .addNode("step", () => ({ count: 1 }))
  .addEdge(START, "step")
  .addEdge("step", END)
  .compile({ checkpointer: AgentstoreSaver.fromConnString(process.env.DATABASE_URL) });
const config = { configurable: { thread_id: process.argv[2] } };
await graph.invoke({ count: 10 }, config);
const out = await graph.invoke({ count: 100 }, config);
let history = 0;
for await (const _ of graph.getStateHistory(config)) history++;
console.log(JSON.stringify({ count: out.count, history }));
await graph.checkpointer.end();
`;

const TS = `
import pg from "pg";
import { AgentstoreSaver, type AgentstoreSaverOptions } from "@agentstore/langgraph-checkpoint";
import { Annotation, StateGraph, START, END } from "@langchain/langgraph";

const options: AgentstoreSaverOptions = { ttl: "30 days" };
const saver: AgentstoreSaver = new AgentstoreSaver(new pg.Pool(), undefined, options);
const State = Annotation.Root({ count: Annotation<number>() });
export const graph = new StateGraph(State)
  .addNode("step", () => ({ count: 1 }))
  .addEdge(START, "step")
  .addEdge("step", END)
  .compile({ checkpointer: saver });
export const deleted: Promise<void> = saver.deleteThread("t");
// @ts-expect-error ttl is an interval's text
new AgentstoreSaver(new pg.Pool(), undefined, { ttl: 5 });
`;

/** A fresh project that installs `spec` with LangGraph. */
function freshProject(name, ...specs) {
  const dir = path.join(root, name);
  mkdirSync(dir);
  writeFileSync(
    path.join(dir, "package.json"),
    JSON.stringify({ name: `fresh-${name}`, version: "1.0.0", private: true, type: "module" })
  );
  npm(dir, "install", ...specs, LANGGRAPH);
  writeFileSync(path.join(dir, "app.mjs"), APP);
  return dir;
}

test("npm install <tarball from npm pack>", { timeout: 300_000 }, () => {
  npm(path.join(root, "package"), "pack", "--pack-destination", root);
  const tarball = readdirSync(root).find((f) => f.endsWith(".tgz"));
  expect(tarball).toBe("agentstore-langgraph-checkpoint-0.1.0.tgz");
  const dir = freshProject("from-tarball", path.join(root, tarball));
  expect(JSON.parse(run(dir, "node", ["app.mjs", "tarball"]))).toEqual({ count: 112, history: 6 });
  // the README's example runs as it is
  const readme = readFileSync(path.join(HERE, "README.md"), "utf8");
  const example = readme.split("## Example")[1].split("```js\n")[1].split("```")[0];
  writeFileSync(path.join(dir, "example.mjs"), example);
  expect(run(dir, "node", ["example.mjs"])).toBe(
    "What is your name?\n[ 'hello', 'name: Ada' ]\n2 loop []\n1 loop [ 'ask' ]\n0 loop [ 'greet' ]\n-1 input [ '__start__' ]\n"
  );
  // npm sees a valid tree (dependencies and peer dependencies satisfied)
  run(dir, "npm", ["ls", "--all"]);
  // TypeScript finds the declarations
  npm(dir, "install", "typescript@5", "pg");
  writeFileSync(path.join(dir, "check.ts"), TS);
  run(dir, "npx", [
    "tsc",
    "--noEmit",
    "--strict",
    "--module",
    "nodenext",
    "--moduleResolution",
    "nodenext",
    "--target",
    "es2022",
    "check.ts",
  ]);
});

// npm installs a folder outside the project as a link and does not install
// the folder's dependencies: the package then imports them from the
// project, and says what to do when pg is not there.
test("npm install <folder> (a link)", { timeout: 300_000 }, () => {
  const dir = freshProject("from-folder", path.join(root, "package"));
  expect(run(dir, "npm", ["ls", "@agentstore/langgraph-checkpoint"])).toContain("-> ./../package");
  let failure;
  try {
    run(dir, "node", ["app.mjs", "folder"]);
  } catch (e) {
    failure = e.stderr;
  }
  expect(failure).toContain("cannot import pg: installed from a folder, it is a link");
  npm(dir, "install", "pg");
  expect(JSON.parse(run(dir, "node", ["app.mjs", "folder"]))).toEqual({ count: 112, history: 6 });
});

// With --install-links the folder installs as a tarball would (npm ls needs
// the same setting to see that tree: install-links=true in .npmrc).
test("npm install --install-links <folder>", { timeout: 300_000 }, () => {
  const dir = freshProject("install-links", "--install-links", path.join(root, "package"));
  expect(JSON.parse(run(dir, "node", ["app.mjs", "install-links"]))).toEqual({ count: 112, history: 6 });
  writeFileSync(path.join(dir, ".npmrc"), "install-links=true\n");
  run(dir, "npm", ["ls", "--all"]);
});
