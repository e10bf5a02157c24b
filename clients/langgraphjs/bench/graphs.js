// Real LangGraph.js graphs (@langchain/langgraph StateGraph, no LLM) on
// AgentstoreSaver and on LangGraph's PostgresSaver
// (@langchain/langgraph-checkpoint-postgres, tables in schema "bench") on the
// same server, with LangGraph's default durability ("async").  Run by
// bench/scenarios/35_checkpoints_graphs.sh; connects with the PG*
// environment variables.  Prints one line per measurement, medians of
// BENCH_RUNS runs (default 5) whose order alternates between the savers:
//
//   loop <postgressaver ms> <agentstore ms> <memorysaver ms>
//                                                 a 200-step loop, one invoke
//   branches <postgressaver ms> <agentstore ms> <memorysaver ms>
//                                                 20 rounds of 5 parallel branches and a join
//   history <postgressaver ms> <agentstore ms> <snapshots>
//                                                 getStateHistory of a thread of
//                                                 BENCH_HISTORY checkpoints (default 10,000)
//
// Every node writes a value of about 400 bytes, as in the other scenarios.
// MemorySaver's time is LangGraph's own work (a floor for any saver).
import assert from "node:assert/strict";
import pg from "pg";
import { Annotation, END, MemorySaver, START, StateGraph } from "@langchain/langgraph";
import { PostgresSaver } from "@langchain/langgraph-checkpoint-postgres";
import { AgentstoreSaver } from "../src/index.js";

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const LOOP_STEPS = Number(process.env.BENCH_LOOP_STEPS ?? 200);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 20);
const BRANCHES = 5;
const HISTORY = Number(process.env.BENCH_HISTORY ?? 10000);
const text = (tag) => `${tag}:${"y".repeat(390)}`;

/** A loop of `steps` steps: one node that counts and rewrites a value. */
function loopGraph(steps) {
  const State = Annotation.Root({
    count: Annotation({ reducer: (_, b) => b, default: () => 0 }),
    payload: Annotation({ reducer: (_, b) => b, default: () => "" }),
  });
  return new StateGraph(State)
    .addNode("step", (s) => ({ count: s.count + 1, payload: text(s.count) }))
    .addEdge(START, "step")
    .addConditionalEdges("step", (s) => (s.count < steps ? "step" : END));
}

/** Rounds of five parallel branches, each with its own channel, and a join. */
function branchGraph(rounds) {
  const channels = { round: Annotation({ reducer: (_, b) => b, default: () => 0 }) };
  for (let b = 0; b < BRANCHES; b++) {
    channels[`branch${b}`] = Annotation({ reducer: (_, v) => v, default: () => "" });
  }
  const State = Annotation.Root(channels);
  let builder = new StateGraph(State).addNode("join", (s) => ({ round: s.round + 1 }));
  const names = [];
  for (let b = 0; b < BRANCHES; b++) {
    const name = `b${b}`;
    names.push(name);
    builder = builder.addNode(name, (s) => ({ [`branch${b}`]: text(`${b}.${s.round}`) }));
    builder = builder.addEdge(START, name);
  }
  return builder
    .addEdge(names, "join")
    .addConditionalEdges("join", (s) => (s.round < rounds ? names : END));
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
let seq = 0;
const thread = (name) => `bench-graph-${name}-${process.pid}-${seq++}`;

const postgres = new PostgresSaver(new pg.Pool({ max: 4 }), undefined, { schema: "bench" });
await postgres.setup();
const agentstore = new AgentstoreSaver(new pg.Pool({ max: 4 }));
const savers = { postgres, agentstore };
const order = (r) => (r % 2 === 0 ? ["postgres", "agentstore"] : ["agentstore", "postgres"]);
const created = [];

/** Median milliseconds of `fn(saver)` per saver, alternating the order. */
async function measure(fn, withMemory = false) {
  const times = { postgres: [], agentstore: [], memory: [] };
  for (let r = 0; r < RUNS; r++) {
    for (const name of withMemory ? [...order(r), "memory"] : order(r)) {
      const start = performance.now();
      await fn(name === "memory" ? new MemorySaver() : savers[name], name);
      times[name].push(performance.now() - start);
    }
  }
  return times;
}

async function invoke(builder, saver, name, input, recursionLimit) {
  const id = thread(name);
  if (name !== "memory") created.push([saver, id]);
  const graph = builder.compile({ checkpointer: saver });
  const config = { configurable: { thread_id: id }, recursionLimit };
  const out = await graph.invoke(input, config);
  return out;
}

const loop = loopGraph(LOOP_STEPS);
const branches = branchGraph(ROUNDS);
// warm up (connections, prepared statements), and check both give the same
for (const [name, saver] of Object.entries(savers)) {
  assert.equal((await invoke(loop, saver, name, {}, 10 * LOOP_STEPS)).count, LOOP_STEPS);
  assert.equal((await invoke(branches, saver, name, {}, 10 * ROUNDS)).round, ROUNDS);
}

const medians = (t) => [t.postgres, t.agentstore, t.memory].map((x) => median(x).toFixed(1)).join(" ");
const loopTimes = await measure((saver, name) => invoke(loop, saver, name, {}, 10 * LOOP_STEPS), true);
console.log(`loop ${medians(loopTimes)}`);
const branchTimes = await measure((saver, name) => invoke(branches, saver, name, {}, 10 * ROUNDS), true);
console.log(`branches ${medians(branchTimes)}`);

// A thread of HISTORY checkpoints per saver, written by the loop graph
// (durability "exit" would keep one: each step is a checkpoint here), then
// read back whole with getStateHistory.
if (HISTORY > 0) {
  const threads = {};
  for (const [name, saver] of Object.entries(savers)) {
    threads[name] = thread(`history-${name}`);
    created.push([saver, threads[name]]);
    await loopGraph(HISTORY - 2)
      .compile({ checkpointer: saver })
      .invoke({}, { configurable: { thread_id: threads[name] }, recursionLimit: 2 * HISTORY, durability: "sync" });
  }
  const counts = {};
  const historyTimes = await measure(async (saver, name) => {
    const graph = loopGraph(HISTORY - 2).compile({ checkpointer: saver });
    let n = 0;
    for await (const s of graph.getStateHistory({ configurable: { thread_id: threads[name] } })) {
      if (s.values.count !== undefined) n++;
    }
    counts[name] = n;
  });
  assert.equal(counts.agentstore, counts.postgres);
  console.log(
    `history ${median(historyTimes.postgres).toFixed(1)} ${median(historyTimes.agentstore).toFixed(1)} ${counts.agentstore}`
  );
}

for (const [saver, id] of created) await saver.deleteThread(id);
await postgres.end();
await agentstore.end();
