// The node-postgres example of docs/clients.md, run by test/suites/drivers.sh
// against a throwaway cluster (PG* variables): COPY into
// agentstore.session_import with pg-copy-streams, a call with jsonb
// parameters, and the trap the document names (arrays).  Prints one
// "ok - ..." or "not ok - ..." line per check.
import pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { pipeline } from "node:stream/promises";
import { Readable } from "node:stream";

let failed = false;
const check = (name, ok, detail = "") => {
  console.log(`${ok ? "ok" : "not ok"} - node: ${name}${ok ? "" : " " + detail}`);
  if (!ok) failed = true;
};

const csv = (v) => (v == null ? "" : '"' + String(v).replaceAll('"', '""') + '"');
const sessions = [
  { app: "drivers-js", id: "s1", user: "ann", state: { topic: "js, \"quoted\"" } },
  { app: "drivers-js", id: "s2", user: "ann", state: { topic: "js" } },
  { app: "drivers-js", id: "s3", user: "bob", state: null },
];
const client = new pg.Client();
await client.connect();
try {
  const lines = sessions.map((s) =>
    [s.app, s.id, s.user, s.state == null ? null : JSON.stringify(s.state)].map(csv).join(",") + "\n");
  await pipeline(Readable.from(lines), client.query(copyFrom(
    "COPY agentstore.session_import (app_name, session_id, user_id, state) FROM STDIN WITH (FORMAT csv)")));
  const { rows: [result] } = await client.query(
    "SELECT inserted, updated FROM agentstore.session_import_result()");
  check("pg-copy-streams imports 3 new sessions",
    Number(result.inserted) === 3 && Number(result.updated) === 0, JSON.stringify(result));

  const { rows: [{ version }] } = await client.query(
    "SELECT version FROM agentstore.append_event($1, $2, $3, $4, $5)",
    ["drivers-js", "ann", "s1", JSON.stringify({ id: "e-1", author: "user" }), JSON.stringify({ turn: 1 })]);
  check("append_event with JSON.stringify'd parameters", Number(version) === 1, version);

  const { rows: [{ topic, turn }] } = await client.query(
    "SELECT s -> 'state' ->> 'topic' AS topic, s -> 'state' ->> 'turn' AS turn " +
    "FROM agentstore.get_session('drivers-js', 'ann', 's1') s");
  check("the CSV-quoted state and the delta arrived", topic === 'js, "quoted"' && turn === "1", `${topic} ${turn}`);

  // The trap: a JavaScript array parameter becomes a PostgreSQL array literal.
  let err = null;
  try {
    await client.query("SELECT * FROM agentstore.append_events($1, $2::jsonb)", ["order-js", [{ type: "a" }]]);
  } catch (e) {
    err = e;
  }
  check("an array parameter is not JSON (invalid input syntax for type json)",
    err !== null && /json/.test(err.message), err && err.message);
  const { rows: [{ last_version }] } = await client.query(
    "SELECT last_version FROM agentstore.append_events($1, $2)", ["order-js", JSON.stringify([{ type: "a" }])]);
  check("the same array JSON.stringify'd appends", Number(last_version) === 1, last_version);
} finally {
  await client.end();
}
process.exit(failed ? 1 : 0);
