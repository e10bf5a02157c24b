"""agentstore's Python clients against the frameworks' own PostgreSQL stores,
on the same server, in alternating rounds (medians printed):

  run   a 200-step LangGraph run (one node looping, put_writes + put per
        step): AgentstoreSaver vs langgraph-checkpoint-postgres's PostgresSaver
  list  list() of a thread of N checkpoints with 20 channels, stored by each
        saver's own put()
  adk   a 50-turn Google ADK conversation (get_session with a window of 20
        events, then two append_event calls with state deltas, per turn):
        AgentstoreSessionService vs ADK's DatabaseSessionService

Environment: AGENTSTORE_DSN (libpq conninfo of a database with the
extension), BASELINE_DSN (where PostgresSaver keeps its tables; default
AGENTSTORE_DSN), BENCH_SQLALCHEMY_URL (the database of DatabaseSessionService,
postgresql+psycopg://...), BENCH_LIST_N (default
10000), BENCH_ROUNDS (default 5).  Output lines: "<what> <baseline ms>
<agentstore ms>".  Needs langgraph-checkpoint-postgres and sqlalchemy besides
the package's test extras.
"""

import asyncio
import os
import statistics
import time
import uuid
from typing import TypedDict

from google.adk.events.event import Event
from google.adk.events.event_actions import EventActions
from google.adk.sessions.base_session_service import GetSessionConfig
from google.adk.sessions.database_session_service import DatabaseSessionService
from google.genai import types
from langgraph.checkpoint.base.id import uuid6
from langgraph.checkpoint.postgres import PostgresSaver
from langgraph.graph import END, START, StateGraph
from psycopg import Connection
from psycopg.rows import dict_row

from agentstore.adk import AgentstoreSessionService
from agentstore.langgraph import AgentstoreSaver

DSN = os.environ["AGENTSTORE_DSN"]
BASELINE_DSN = os.environ.get("BASELINE_DSN") or DSN
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
LIST_N = int(os.environ.get("BENCH_LIST_N", "10000"))


class S(TypedDict):
    count: int
    text: str
    items: list[dict]


def step(s: S) -> dict:
    n = s["count"] + 1
    return {"count": n, "text": f"step {n} " + "x" * 200, "items": [{"i": n, "k": k} for k in range(5)]}


def graph(saver):
    g = StateGraph(S)
    g.add_node("step", step)
    g.add_edge(START, "step")
    g.add_conditional_edges("step", lambda s: END if s["count"] >= 200 else "step")
    return g.compile(checkpointer=saver)


def time_run(saver) -> float:
    g = graph(saver)
    cfg = {"configurable": {"thread_id": f"run-{uuid.uuid4()}"}, "recursion_limit": 1000}
    t = time.perf_counter()
    out = g.invoke({"count": 0, "text": "", "items": []}, cfg)
    elapsed = (time.perf_counter() - t) * 1000
    assert out["count"] == 200
    return elapsed


def fill(saver, thread: str, n: int) -> None:
    channels = [f"ch{j}" for j in range(20)]
    versions = {c: saver.get_next_version(None, None) for c in channels}
    parent = None
    for i in range(n):
        changed = channels[i % 20]
        versions[changed] = saver.get_next_version(versions[changed], None)
        cp = {
            "v": 4,
            "id": str(uuid6(clock_seq=i)),
            "ts": "2026-12-01T00:00:00+00:00",
            "channel_values": {c: f"value of {c} at {i}" for c in channels},
            "channel_versions": dict(versions),
            "versions_seen": {"node": dict(versions)},
            "updated_channels": [changed],
        }
        cfg = {"configurable": {"thread_id": thread, "checkpoint_ns": ""}}
        if parent:
            cfg["configurable"]["checkpoint_id"] = parent
        saver.put(cfg, cp, {"source": "loop", "step": i}, {changed: versions[changed]})
        parent = cp["id"]


def time_list(saver, thread: str) -> float:
    t = time.perf_counter()
    n = sum(1 for _ in saver.list({"configurable": {"thread_id": thread}}))
    elapsed = (time.perf_counter() - t) * 1000
    assert n == LIST_N, n
    return elapsed


async def conversation(service, app: str) -> float:
    session = await service.create_session(app_name=app, user_id="u", state={"turn": 0})
    t = time.perf_counter()
    for i in range(50):
        session = await service.get_session(
            app_name=app, user_id="u", session_id=session.id, config=GetSessionConfig(num_recent_events=20)
        )
        for author, text, delta in (
            ("user", f"question {i} " + "q" * 100, {"turn": i, "user:last_turn": i}),
            ("agent", f"answer {i} " + "a" * 400, {"answer": f"answer {i}", "temp:scratch": i}),
        ):
            await service.append_event(
                session,
                Event(
                    invocation_id=f"inv-{i}",
                    author=author,
                    content=types.Content(role="user" if author == "user" else "model", parts=[types.Part(text=text)]),
                    actions=EventActions(state_delta=delta),
                    timestamp=time.time(),
                ),
            )
    return (time.perf_counter() - t) * 1000


def line(what: str, base: list[float], ours: list[float]) -> None:
    print(f"{what} {statistics.median(base):.1f} {statistics.median(ours):.1f}", flush=True)


def main() -> None:
    with Connection.connect(BASELINE_DSN, autocommit=True, prepare_threshold=0, row_factory=dict_row) as pconn, \
            Connection.connect(DSN, autocommit=True) as aconn:
        baseline = PostgresSaver(pconn)
        baseline.setup()
        ours = AgentstoreSaver(aconn)
        ours.setup()
        time_run(baseline), time_run(ours)  # warm up both
        base, mine = [], []
        for r in range(ROUNDS):
            pair = [(baseline, base), (ours, mine)]
            for saver, out in pair if r % 2 == 0 else pair[::-1]:
                out.append(time_run(saver))
        line("run", base, mine)

        thread = f"list-{uuid.uuid4()}"
        fill(baseline, thread, LIST_N)
        fill(ours, thread, LIST_N)
        base, mine = [], []
        for r in range(3):
            pair = [(baseline, base), (ours, mine)]
            for saver, out in pair if r % 2 == 0 else pair[::-1]:
                out.append(time_list(saver, thread))
        line("list", base, mine)
        baseline.delete_thread(thread)
        ours.delete_thread(thread)

    async def adk() -> None:
        db = DatabaseSessionService(os.environ["BENCH_SQLALCHEMY_URL"])
        async with AgentstoreSessionService.from_conn_string(DSN) as svc:
            await conversation(db, "warmup"), await conversation(svc, "warmup")
            base, mine = [], []
            for r in range(ROUNDS):
                pair = [(db, base), (svc, mine)]
                for service, out in pair if r % 2 == 0 else pair[::-1]:
                    out.append(await conversation(service, f"bench-{uuid.uuid4().hex[:8]}"))
            line("adk", base, mine)
        await db.close()

    asyncio.run(adk())


if __name__ == "__main__":
    main()
