// Node-level comparison of AgentstoreSaver with LangGraph's own
// PostgresSaver (@langchain/langgraph-checkpoint-postgres, tables in schema
// "bench") on the same server, as a LangGraph graph run drives a
// checkpointer.  Run by bench/scenarios/33_checkpoints_node.sh; connects
// with the PG* environment variables.  Prints one line per measurement:
//
//   run <postgressaver ms> <agentstore ms>    a 200-step run (median)
//   list <postgressaver ms> <agentstore ms> <tuples>
//
// A step is what the Pregel loop asks of its checkpointer: the step's task
// stores its writes (putWrites), the next checkpoint is stored (put, 2 of
// 20 channels new), and the checkpoint is read back (getTuple).  Values are
// JSON objects of about 400 bytes, as in the SQL-level scenarios.
import assert from "node:assert/strict";
import pg from "pg";
import { uuid6 } from "@langchain/langgraph-checkpoint";
import { PostgresSaver } from "@langchain/langgraph-checkpoint-postgres";
import { AgentstoreSaver } from "../src/index.js";

const STEPS = Number(process.env.BENCH_STEPS ?? 200);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const CHANNELS = 20;
const LIST_THREAD = process.env.BENCH_LIST_THREAD;

const channel = (c) => `ch${String(c).padStart(2, "0")}`;
const value = (c, step) => ({ channel: c, step, text: "y".repeat(350) });

/** One graph run of STEPS steps on a new thread; returns milliseconds. */
async function graphRun(saver, threadId) {
  const versions = {};
  const values = {};
  for (let c = 0; c < CHANNELS; c += 1) {
    versions[channel(c)] = 1;
    values[channel(c)] = value(c, 0);
  }
  let config = await saver.put(
    { configurable: { thread_id: threadId, checkpoint_ns: "" } },
    { v: 4, id: uuid6(-1), ts: new Date().toISOString(), channel_values: { ...values },
      channel_versions: { ...versions }, versions_seen: {} },
    { source: "input", step: -1, parents: {} },
    { ...versions }
  );
  const start = performance.now();
  for (let step = 0; step < STEPS; step += 1) {
    const changed = [channel(step % CHANNELS), channel((step + 7) % CHANNELS)];
    const taskId = uuid6(-1);
    await saver.putWrites(config, changed.map((ch) => [ch, value(ch, step)]), taskId);
    const newVersions = {};
    for (const ch of changed) {
      versions[ch] += 1;
      values[ch] = value(ch, step);
      newVersions[ch] = versions[ch];
    }
    config = await saver.put(
      config,
      { v: 4, id: uuid6(-1), ts: new Date().toISOString(), channel_values: { ...values },
        channel_versions: { ...versions }, versions_seen: { agent: { ...versions } } },
      { source: "loop", step, parents: {} },
      newVersions
    );
    const tuple = await saver.getTuple({ configurable: { thread_id: threadId, checkpoint_ns: "" } });
    assert.equal(tuple.checkpoint.id, config.configurable.checkpoint_id);
  }
  return performance.now() - start;
}

/** Milliseconds to list a whole thread; the number of tuples. */
async function listAll(saver, threadId) {
  const start = performance.now();
  let n = 0;
  for await (const tuple of saver.list({ configurable: { thread_id: threadId } })) {
    if (tuple.checkpoint.channel_values) n += 1;
  }
  return [performance.now() - start, n];
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const langgraph = new PostgresSaver(new pg.Pool({ max: 4 }), undefined, { schema: "bench" });
await langgraph.setup();
const agentstore = new AgentstoreSaver(new pg.Pool({ max: 4 }));
const savers = { langgraph, agentstore };

// Warm up both (connections, prepared statements, caches), and check that
// the two savers give back the same tuples.
const warm = {};
for (const [name, saver] of Object.entries(savers)) {
  warm[name] = `bench-warmup-${name}-${uuid6(-1)}`;
  await graphRun(saver, warm[name]);
}
const a = await langgraph.getTuple({ configurable: { thread_id: warm.langgraph } });
const b = await agentstore.getTuple({ configurable: { thread_id: warm.agentstore } });
assert.deepEqual(Object.keys(b.checkpoint.channel_values).sort(), Object.keys(a.checkpoint.channel_values).sort());
assert.deepEqual(b.checkpoint.channel_values, a.checkpoint.channel_values);
assert.deepEqual(b.pendingWrites.length, a.pendingWrites.length);

const times = { langgraph: [], agentstore: [] };
for (let r = 0; r < RUNS; r += 1) {
  const order = r % 2 === 0 ? ["langgraph", "agentstore"] : ["agentstore", "langgraph"];
  for (const name of order) {
    times[name].push(await graphRun(savers[name], `bench-run-${name}-${uuid6(-1)}`));
  }
}
console.log(`run ${median(times.langgraph).toFixed(1)} ${median(times.agentstore).toFixed(1)}`);

if (LIST_THREAD) {
  const lists = { langgraph: [], agentstore: [] };
  let count = {};
  for (let r = 0; r < 3; r += 1) {
    for (const name of r % 2 === 0 ? ["langgraph", "agentstore"] : ["agentstore", "langgraph"]) {
      const [ms, n] = await listAll(savers[name], LIST_THREAD);
      lists[name].push(ms);
      count[name] = n;
    }
  }
  assert.equal(count.agentstore, count.langgraph);
  console.log(`list ${median(lists.langgraph).toFixed(1)} ${median(lists.agentstore).toFixed(1)} ${count.agentstore}`);
}

for (const [name, thread] of Object.entries(warm)) await savers[name].deleteThread(thread);
await langgraph.end();
await agentstore.end();
