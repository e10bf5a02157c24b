"""Real LangGraph StateGraphs (no LLM) on agentstore, compared with
LangGraph's own savers: each scenario runs on InMemorySaver, on
langgraph-checkpoint-postgres's PostgresSaver (AsyncPostgresSaver for the
async API; its tables in a schema of their own of the test database) and on
the agentstore saver, with the same API (sync invoke or async ainvoke) and
durability mode, and their normalised results (final state, state history,
next tasks, interrupts, every checkpoint's pending writes, how often each node
ran) must be equal.  The two references agree with each other on every
scenario and mode (test_references_agree), so agentstore is compared with
both, not with whichever of them it happens to match."""


import asyncio
import enum
import operator
import threading
import uuid
from typing import Annotated, Any, Callable

import pytest
from langgraph.channels.delta import DeltaChannel
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.postgres import PostgresSaver
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from langgraph.graph import END, START, StateGraph
from langgraph.types import Command, Interrupt, Send, StateSnapshot, interrupt
from psycopg import AsyncConnection, Connection
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool
from typing_extensions import TypedDict

from agentstore.langgraph import AgentstoreSaver, AsyncAgentstoreSaver


class Driver:
    """Runs a compiled graph through the sync API (in a worker thread, as a
    sync application would) or the async API, with one durability mode."""

    def __init__(self, graph: Any, api: str, durability: str) -> None:
        self.graph = graph
        self.api = api
        self.durability = durability

    async def _call(self, sync: Callable, asyn: Callable, *args: Any, **kw: Any) -> Any:
        if self.api == "sync":
            return await asyncio.to_thread(sync, *args, **kw)
        return await asyn(*args, **kw)

    async def invoke(self, value: Any, config: dict) -> Any:
        g = self.graph
        return await self._call(g.invoke, g.ainvoke, value, config, durability=self.durability)

    async def state(self, config: dict, subgraphs: bool = False) -> Any:
        g = self.graph
        return await self._call(g.get_state, g.aget_state, config, subgraphs=subgraphs)

    async def history(self, config: dict) -> list:
        g = self.graph
        if self.api == "sync":
            return await asyncio.to_thread(lambda: list(g.get_state_history(config)))
        return [s async for s in g.aget_state_history(config)]

    async def pending_writes(self, config: dict) -> list:
        """The pending writes the checkpointer returns with a checkpoint."""
        cp = self.graph.checkpointer
        tup = await self._call(cp.get_tuple, cp.aget_tuple, config)
        return list(tup.pending_writes) if tup else []

    async def update(self, config: dict, values: Any, as_node: str | None = None) -> dict:
        g = self.graph
        return await self._call(g.update_state, g.aupdate_state, config, values, as_node=as_node)


def norm_snapshot(s: Any) -> Any:
    """A StateSnapshot without ids and timestamps."""
    return {
        "values": s.values,
        "next": tuple(s.next),
        # The whole metadata, but for the ids of the parent checkpoints (random).
        "metadata": {
            k: sorted(v) if k == "parents" else v for k, v in (s.metadata or {}).items()
        },
        "has_parent": s.parent_config is not None,
        "tasks": [
            {
                "name": t.name,
                "error": repr(t.error) if t.error else None,
                "interrupts": [i.value for i in t.interrupts],
                "state": norm_snapshot(t.state) if isinstance(t.state, StateSnapshot) else None,
                "result": t.result,
            }
            for t in s.tasks
        ],
        "interrupts": [i.value for i in s.interrupts],
    }


# LangGraph's task id for writes of no task (update_state, Command(resume=)).
NULL_TASK_ID = "00000000-0000-0000-0000-000000000000"


def norm_value(v: Any) -> Any:
    """A pending write's value without ids: an interrupt's value, a Send's
    node and argument, an error's repr."""
    if isinstance(v, Interrupt):
        return ("Interrupt", v.value)
    if isinstance(v, Send):
        return ("Send", v.node, v.arg)
    if isinstance(v, (list, tuple)):
        return [norm_value(x) for x in v]
    if isinstance(v, BaseException):
        return repr(v)
    return v


def norm_writes(s: StateSnapshot, writes: list) -> list:
    """A checkpoint's pending writes without task ids (random per run): each
    task's writes in their order, under the name of its task in the snapshot
    (NULL_TASK_ID's writes, update_state's and resume values, under "null"),
    tasks sorted by name and writes."""
    names = {t.id: t.name for t in s.tasks}
    by_task: dict[str, list] = {}
    for task_id, channel, value in writes:
        by_task.setdefault(task_id, []).append((channel, norm_value(value)))
    return sorted(
        ([names.get(task_id, "null" if task_id == NULL_TASK_ID else "?"), w] for task_id, w in by_task.items()),
        key=repr,
    )


async def norm_history(d: Driver, config: dict) -> list:
    result = []
    for s in await d.history(config):
        n = norm_snapshot(s)
        n["pending_writes"] = norm_writes(s, await d.pending_writes(s.config))
        result.append(n)
    return result


def thread() -> dict:
    return {"configurable": {"thread_id": f"t-{uuid.uuid4()}"}}


# --- scenarios: each builds its graph on a checkpointer and returns what is compared


async def fan_out_fan_in(cp: Any, api: str, durability: str) -> Any:
    class S(TypedDict):
        items: Annotated[list[str], operator.add]
        total: int

    g = StateGraph(S)
    g.add_node("start", lambda s: {"items": ["start"]})
    for name in ("a", "b", "c"):
        g.add_node(name, lambda s, name=name: {"items": [name]})
    g.add_node("join", lambda s: {"total": len(s["items"])})
    g.add_edge(START, "start")
    for name in ("a", "b", "c"):
        g.add_edge("start", name)
    g.add_edge(["a", "b", "c"], "join")
    g.add_edge("join", END)
    d = Driver(g.compile(checkpointer=cp), api, durability)
    cfg = thread()
    out1 = await d.invoke({"items": ["in"], "total": 0}, cfg)
    out2 = await d.invoke({"items": ["again"]}, cfg)
    return [out1, out2, await norm_history(d, cfg)]


async def send_map_reduce(cp: Any, api: str, durability: str) -> Any:
    class S(TypedDict):
        subjects: list[str]
        results: Annotated[list[str], operator.add]

    class W(TypedDict):
        subject: str

    def fan(s: S) -> list[Send]:
        return [Send("work", {"subject": x}) for x in s["subjects"]]

    g = StateGraph(S)
    g.add_node("plan", lambda s: {"results": []})
    g.add_node("work", lambda w: {"results": [w["subject"].upper()]})
    g.add_node("done", lambda s: {"results": ["done"]})
    g.add_edge(START, "plan")
    g.add_conditional_edges("plan", fan, ["work"])
    g.add_edge("work", "done")
    g.add_edge("done", END)
    d = Driver(g.compile(checkpointer=cp), api, durability)
    cfg = thread()
    out = await d.invoke({"subjects": ["x", "y", "z", "x"], "results": []}, cfg)
    out["results"] = sorted(out["results"][:-1]) + out["results"][-1:]
    return [out, await norm_history(d, cfg)]


async def interrupt_resume(cp: Any, api: str, durability: str) -> Any:
    class S(TypedDict):
        steps: Annotated[list[str], operator.add]
        answer: str

    def ask(s: S) -> dict:
        answer = interrupt({"question": "name?", "seen": list(s["steps"])})
        return {"steps": ["ask"], "answer": answer}

    def ask_again(s: S) -> dict:
        more = interrupt("more?")
        return {"steps": [f"again:{more}"]}

    g = StateGraph(S)
    g.add_node("before", lambda s: {"steps": ["before"]})
    g.add_node("ask", ask)
    g.add_node("ask_again", ask_again)
    g.add_edge(START, "before")
    g.add_edge("before", "ask")
    g.add_edge("ask", "ask_again")
    g.add_edge("ask_again", END)
    d = Driver(g.compile(checkpointer=cp), api, durability)
    cfg = thread()
    r1 = await d.invoke({"steps": [], "answer": ""}, cfg)
    s1 = norm_snapshot(await d.state(cfg))
    r2 = await d.invoke(Command(resume="Ada"), cfg)
    s2 = norm_snapshot(await d.state(cfg))
    r3 = await d.invoke(Command(resume="yes"), cfg)
    return [
        {k: v for k, v in r1.items() if k != "__interrupt__"},
        [i.value for i in r1.get("__interrupt__", [])],
        s1,
        [i.value for i in r2.get("__interrupt__", [])],
        s2,
        r3,
        await norm_history(d, cfg),
    ]


async def time_travel(cp: Any, api: str, durability: str) -> Any:
    class S(TypedDict):
        log: Annotated[list[str], operator.add]
        n: int

    g = StateGraph(S)
    g.add_node("one", lambda s: {"log": ["one"], "n": s["n"] + 1})
    g.add_node("two", lambda s: {"log": ["two"], "n": s["n"] * 10})
    g.add_node("three", lambda s: {"log": ["three"], "n": s["n"] + 3})
    g.add_edge(START, "one")
    g.add_edge("one", "two")
    g.add_edge("two", "three")
    g.add_edge("three", END)
    d = Driver(g.compile(checkpointer=cp), api, durability)
    cfg = thread()
    first = await d.invoke({"log": [], "n": 1}, cfg)
    history = await d.history(cfg)
    result = [first, [norm_snapshot(s) for s in history]]
    # The checkpoint before "two" ran (durability "exit" keeps only the last).
    older = [s for s in history if s.next == ("two",)]
    if older:
        fork = await d.update(older[0].config, {"n": 100, "log": ["edited"]})
        result.append(await d.invoke(None, fork))
        result.append(norm_snapshot(await d.state(cfg)))
        result.append(await norm_history(d, cfg))
        # Replay from the original checkpoint again: the old timeline is intact.
        replay = await d.invoke(None, older[0].config)
        result.append(replay)
    return result


async def subgraph(cp: Any, api: str, durability: str) -> Any:
    class Sub(TypedDict):
        notes: Annotated[list[str], operator.add]

    sub = StateGraph(Sub)
    sub.add_node("s1", lambda s: {"notes": ["s1"]})

    def s2(s: Sub) -> dict:
        ok = interrupt("approve s2?")
        return {"notes": [f"s2:{ok}"]}

    sub.add_node("s2", s2)
    sub.add_edge(START, "s1")
    sub.add_edge("s1", "s2")
    sub.add_edge("s2", END)

    g = StateGraph(Sub)
    g.add_node("outer", lambda s: {"notes": ["outer"]})
    g.add_node("child", sub.compile())
    g.add_node("after", lambda s: {"notes": ["after"]})
    g.add_edge(START, "outer")
    g.add_edge("outer", "child")
    g.add_edge("child", "after")
    g.add_edge("after", END)
    d = Driver(g.compile(checkpointer=cp), api, durability)
    cfg = thread()
    r1 = await d.invoke({"notes": []}, cfg)
    inner = norm_snapshot(await d.state(cfg, subgraphs=True))
    r2 = await d.invoke(Command(resume="ok"), cfg)
    return [
        [i.value for i in r1.get("__interrupt__", [])],
        inner,
        r2,
        await norm_history(d, cfg),
    ]


async def failure_resume(cp: Any, api: str, durability: str) -> Any:
    calls: dict[str, int] = {"slow_ok": 0, "flaky": 0, "join": 0}
    fail = {"on": True}
    # flaky fails only once slow_ok has finished, so that what the failure
    # leaves behind does not depend on thread scheduling.
    ok_done = threading.Event()

    class S(TypedDict):
        parts: Annotated[list[str], operator.add]

    def slow_ok(s: S) -> dict:
        calls["slow_ok"] += 1
        ok_done.set()
        return {"parts": ["ok"]}

    def flaky(s: S) -> dict:
        calls["flaky"] += 1
        if fail["on"]:
            ok_done.wait(5)
            raise ValueError("flaky failed")
        return {"parts": ["flaky"]}

    def join(s: S) -> dict:
        calls["join"] += 1
        return {"parts": ["join"]}

    g = StateGraph(S)
    g.add_node("slow_ok", slow_ok)
    g.add_node("flaky", flaky)
    g.add_node("join", join)
    g.add_edge(START, "slow_ok")
    g.add_edge(START, "flaky")
    g.add_edge(["slow_ok", "flaky"], "join")
    g.add_edge("join", END)
    d = Driver(g.compile(checkpointer=cp), api, durability)
    cfg = thread()
    with pytest.raises(ValueError, match="flaky failed"):
        await d.invoke({"parts": []}, cfg)
    after_failure = norm_snapshot(await d.state(cfg))
    calls_after_failure = dict(calls)
    fail["on"] = False
    out = await d.invoke(None, cfg)
    out["parts"] = sorted(out["parts"])
    return [after_failure, calls_after_failure, out, dict(calls), await norm_history(d, cfg)]


async def delete_and_reuse(cp: Any, api: str, durability: str) -> Any:
    class S(TypedDict):
        count: Annotated[int, operator.add]

    g = StateGraph(S)
    g.add_node("inc", lambda s: {"count": 1})
    g.add_edge(START, "inc")
    g.add_edge("inc", END)
    d = Driver(g.compile(checkpointer=cp), api, durability)
    cfg = thread()
    first = await d.invoke({"count": 1}, cfg)
    second = await d.invoke({"count": 1}, cfg)
    if api == "sync":
        await asyncio.to_thread(cp.delete_thread, cfg["configurable"]["thread_id"])
    else:
        await cp.adelete_thread(cfg["configurable"]["thread_id"])
    gone = norm_snapshot(await d.state(cfg))
    gone_history = await norm_history(d, cfg)
    again = await d.invoke({"count": 5}, cfg)
    return [first, second, gone, gone_history, again, await norm_history(d, cfg)]


def add_all(state: list | None, writes: list) -> list:
    """A DeltaChannel reducer: the writes (lists) appended in order."""
    return list(state or []) + [x for w in writes for x in w]


async def delta_histories(d: Driver, config: dict, channels: list[str]) -> list:
    """get_delta_channel_history (or its async form) for every checkpoint of
    the thread: each channel's seed and writes (without task ids)."""
    cp = d.graph.checkpointer
    result = []
    for s in await d.history(config):
        h = await d._call(
            lambda: cp.get_delta_channel_history(config=s.config, channels=channels),
            lambda: cp.aget_delta_channel_history(config=s.config, channels=channels),
        )
        result.append(
            {
                ch: {
                    "seed": repr(e["seed"]) if "seed" in e else None,
                    "writes": [(w[1], w[2]) for w in e["writes"]],
                }
                for ch, e in h.items()
            }
        )
    return result


async def delta_channel(cp: Any, api: str, durability: str) -> Any:
    """A DeltaChannel (LangGraph's beta channel that stores a snapshot every
    few updates and otherwise rebuilds its value from the writes of the
    ancestors, through the saver's get_delta_channel_history), across an
    interrupt, a resume and a fork of an older checkpoint."""

    class S(TypedDict):
        log: Annotated[list[str], DeltaChannel(add_all, snapshot_frequency=3)]
        n: int

    def review(s: S) -> dict:
        ok = interrupt(len(s["log"]))
        return {"log": [f"review:{ok}"]}

    def route(s: S) -> str:
        return "review" if s["n"] == 4 else ("step" if s["n"] < 8 else END)

    g = StateGraph(S)
    g.add_node("step", lambda s: {"log": [f"step{s['n']}"], "n": s["n"] + 1})
    g.add_node("review", review)
    g.add_edge(START, "step")
    g.add_conditional_edges("step", route, ["step", "review", END])
    g.add_edge("review", "step")
    d = Driver(g.compile(checkpointer=cp), api, durability)
    cfg = thread()
    r1 = await d.invoke({"log": ["in"], "n": 0}, cfg)
    result = [
        {k: v for k, v in r1.items() if k != "__interrupt__"},
        [i.value for i in r1.get("__interrupt__", [])],
        await d.invoke(Command(resume="yes"), cfg),
    ]
    history = await d.history(cfg)
    older = [s for s in history if s.values.get("n") == 2 and s.next == ("step",)]
    if older:  # not with durability "exit"
        fork = await d.update(older[0].config, {"log": ["edited"], "n": 2})
        r2 = await d.invoke(None, fork)
        result.append({k: v for k, v in r2.items() if k != "__interrupt__"})
        result.append(await d.invoke(Command(resume="again"), cfg))
    result.append(await norm_history(d, cfg))
    result.append(await delta_histories(d, cfg, ["log"]))
    return result


SCENARIOS = {
    f.__name__: f
    for f in (
        fan_out_fan_in,
        send_map_reduce,
        interrupt_resume,
        time_travel,
        subgraph,
        failure_resume,
        delete_and_reuse,
        delta_channel,
    )
}


@pytest.fixture(scope="module")
def pool(dsn: str):
    with ConnectionPool(dsn, min_size=1, max_size=4, kwargs={"autocommit": True}) as p:
        yield p


# PostgresSaver's tables go into a schema of their own of the test database.
POSTGRES_SAVER_SCHEMA = "langgraph_postgres_saver"


@pytest.fixture(scope="module")
def postgres_saver_kwargs(dsn: str) -> dict:
    """Connection arguments for langgraph-checkpoint-postgres's savers (which
    need autocommit, no prepared statements and dict rows), on their own
    schema, created afresh with PostgresSaver.setup()."""
    with Connection.connect(dsn, autocommit=True) as c:
        c.execute(f"DROP SCHEMA IF EXISTS {POSTGRES_SAVER_SCHEMA} CASCADE")
        c.execute(f"CREATE SCHEMA {POSTGRES_SAVER_SCHEMA}")
    kwargs = {
        "autocommit": True,
        "prepare_threshold": 0,
        "row_factory": dict_row,
        "options": f"-csearch_path={POSTGRES_SAVER_SCHEMA}",
    }
    with Connection.connect(dsn, **kwargs) as c:
        PostgresSaver(c).setup()
    return kwargs


# The references' results, computed once per scenario, API and durability.
_REFERENCES: dict[tuple[str, str, str], dict[str, Any]] = {}


async def references(scenario: str, api: str, durability: str, dsn: str, pg_kwargs: dict) -> dict:
    """The scenario's normalised results on InMemorySaver and on
    PostgresSaver (AsyncPostgresSaver for the async API: PostgresSaver has
    no async methods)."""
    key = (scenario, api, durability)
    if key not in _REFERENCES:
        run = SCENARIOS[scenario]
        memory = await run(InMemorySaver(), api, durability)
        if api == "sync":
            with Connection.connect(dsn, **pg_kwargs) as c:
                postgres = await run(PostgresSaver(c), api, durability)
        else:
            async with await AsyncConnection.connect(dsn, **pg_kwargs) as c:
                postgres = await run(AsyncPostgresSaver(c), api, durability)
        _REFERENCES[key] = {"InMemorySaver": memory, "PostgresSaver": postgres}
    return _REFERENCES[key]


def assert_matches(got: Any, refs: dict) -> None:
    for name, expected in refs.items():
        assert got == expected, f"differs from {name}"


@pytest.mark.parametrize("durability", ["sync", "async", "exit"])
@pytest.mark.parametrize("api", ["sync", "async"])
@pytest.mark.parametrize("scenario", list(SCENARIOS))
async def test_references_agree(
    scenario: str, api: str, durability: str, dsn: str, postgres_saver_kwargs: dict
) -> None:
    """InMemorySaver and PostgresSaver give the same normalised results, so
    that agentstore can be held to both."""
    refs = await references(scenario, api, durability, dsn, postgres_saver_kwargs)
    assert refs["InMemorySaver"] == refs["PostgresSaver"]


@pytest.mark.parametrize("durability", ["sync", "async", "exit"])
@pytest.mark.parametrize("api", ["sync", "async"])
@pytest.mark.parametrize("scenario", list(SCENARIOS))
async def test_sync_saver_matches_references(
    scenario: str, api: str, durability: str, pool: Any, dsn: str, postgres_saver_kwargs: dict
) -> None:
    refs = await references(scenario, api, durability, dsn, postgres_saver_kwargs)
    got = await SCENARIOS[scenario](AgentstoreSaver(pool), api, durability)
    assert_matches(got, refs)


@pytest.mark.parametrize("durability", ["sync", "async", "exit"])
@pytest.mark.parametrize("api", ["sync", "async"])
@pytest.mark.parametrize("scenario", list(SCENARIOS))
async def test_async_saver_matches_references(
    scenario: str, api: str, durability: str, dsn: str, postgres_saver_kwargs: dict
) -> None:
    refs = await references(scenario, api, durability, dsn, postgres_saver_kwargs)
    async with await AsyncConnection.connect(dsn, autocommit=True) as conn:
        got = await SCENARIOS[scenario](AsyncAgentstoreSaver(conn), api, durability)
    assert_matches(got, refs)


def test_failure_resume_skips_finished_tasks(pool: Any) -> None:
    """The node that succeeded before the failure is not run again."""
    result = asyncio.run(failure_resume(AgentstoreSaver(pool), "sync", "sync"))
    calls_after_failure, calls = result[1], result[3]
    assert calls_after_failure == {"slow_ok": 1, "flaky": 1, "join": 0}
    assert calls == {"slow_ok": 1, "flaky": 2, "join": 1}


def test_time_travel_forks(pool: Any) -> None:
    """update_state on an older checkpoint forks: the new run starts from the
    edited values, the old checkpoints stay."""
    result = asyncio.run(time_travel(AgentstoreSaver(pool), "sync", "sync"))
    assert result[0] == {"log": ["one", "two", "three"], "n": 23}
    assert result[2] == {"log": ["one", "edited", "two", "three"], "n": 1003}
    assert result[5] == {"log": ["one", "two", "three"], "n": 23}


def test_setup_reports_missing_extension(dsn: str) -> None:
    """setup() says how to install the extension where it is missing."""
    from agentstore import ExtensionMissingError

    name = f"agentstore_noext_{uuid.uuid4().hex[:8]}"
    with Connection.connect(dsn, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            other = Connection.connect(dsn, dbname=name, autocommit=True)
            with other:
                with pytest.raises(ExtensionMissingError, match="CREATE EXTENSION agentstore"):
                    AgentstoreSaver(other).setup()
        finally:
            admin.execute(f'DROP DATABASE "{name}"')
    with Connection.connect(dsn, autocommit=True) as conn:
        assert AgentstoreSaver(conn).setup()


@pytest.mark.parametrize("api", ["sync", "async"])
@pytest.mark.parametrize("scenario", ["fan_out_fan_in", "send_map_reduce", "failure_resume"])
async def test_single_connection_without_autocommit(scenario: str, api: str, dsn: str) -> None:
    """One connection shared by every thread or task of a run (background
    writes included), outside autocommit: each call is its own transaction."""
    run = SCENARIOS[scenario]
    expected = await run(InMemorySaver(), api, "async")
    with Connection.connect(dsn) as conn:
        got = await run(AgentstoreSaver(conn), api, "async")
        assert conn.info.transaction_status == conn.info.transaction_status.IDLE
    assert got == expected
    async with await AsyncConnection.connect(dsn) as aconn:
        got = await run(AsyncAgentstoreSaver(aconn), api, "async")
    assert got == expected


class Colour(str, enum.Enum):
    RED = "red"


def test_channel_value_types_round_trip(pool: Any) -> None:
    """Primitive values are kept inline as JSON, the others serialized; each
    comes back equal and of its own type (a str subclass, NUL characters,
    non-finite floats and 64-bit integers included; LangGraph's serde refuses bigger ones;
    floats that jsonb would print as integers, and -0.0, which it has not),
    as from InMemorySaver."""
    import math

    from langgraph.checkpoint.base import empty_checkpoint

    values = {
        "s": "plain", "nul": "a\x00b", "i": 7, "max": 2**63 - 1, "min": -(2**63), "f": 1.5,
        "nan": float("nan"), "inf": float("-inf"), "t": True, "none": None, "enum": Colour.RED,
        "bytes": b"\x00\xff", "list": [1, "two", {"three": 3}], "tuple": (1, 2), "set": {1, 2},
        "f16": 1e16, "f300": -1.5e300, "f_under": 9999999999999998.0, "tiny": 5e-324,
        "negzero": -0.0, "zero": 0.0,
    }
    results = []
    for saver in (InMemorySaver(), AgentstoreSaver(pool)):
        cp = empty_checkpoint()
        cp["channel_values"] = dict(values)
        versions = {k: saver.get_next_version(None, None) for k in values}
        cp["channel_versions"] = dict(versions)
        cfg = {"configurable": {"thread_id": f"types-{uuid.uuid4()}", "checkpoint_ns": ""}}
        saver.put(cfg, cp, {}, versions)
        results.append(saver.get_tuple(cfg).checkpoint["channel_values"])
    expected, got = results
    assert set(got) == set(values)
    for k in values:
        if k == "nan":
            assert math.isnan(got[k]) and math.isnan(expected[k])
            continue
        assert got[k] == expected[k] and type(got[k]) is type(expected[k]), k
    assert got["enum"] is Colour.RED and got["nul"] == "a\x00b" and got["max"] == 2**63 - 1
    assert math.copysign(1.0, got["negzero"]) == -1.0 and math.copysign(1.0, got["zero"]) == 1.0


def test_list_while_writing_on_a_one_connection_pool(dsn: str) -> None:
    """list() holds no pool connection while its caller iterates: the caller
    may write through the same saver (a pool of one connection)."""
    from langgraph.checkpoint.base import empty_checkpoint

    with ConnectionPool(dsn, min_size=1, max_size=1, timeout=5, kwargs={"autocommit": True}) as p:
        saver = AgentstoreSaver(p)
        cfg = {"configurable": {"thread_id": f"iter-{uuid.uuid4()}", "checkpoint_ns": ""}}
        for _ in range(3):
            saver.put(cfg, empty_checkpoint(), {"source": "input"}, {})
        seen = 0
        for tup in saver.list(cfg):
            saver.put_writes(tup.config, [("x", seen)], "task")
            seen += 1
        assert seen == 3
        assert [len(t.pending_writes) for t in saver.list(cfg)] == [1, 1, 1]


async def delete_one_run(cp: Any, api: str) -> Any:
    """Two runs of a graph with a subgraph on one thread, each with its own
    run_id (as LangGraph's server passes it, in configurable), then the first
    run's checkpoints deleted (where cp has delete_for_runs: InMemorySaver
    has not) and a third run."""
    class S(TypedDict):
        notes: Annotated[list[str], operator.add]

    sub = StateGraph(S)
    sub.add_node("inner", lambda s: {"notes": ["inner"]})
    sub.add_edge(START, "inner")
    sub.add_edge("inner", END)
    g = StateGraph(S)
    g.add_node("outer", lambda s: {"notes": [f"outer{len(s['notes'])}"]})
    g.add_node("child", sub.compile(checkpointer=True))
    g.add_edge(START, "outer")
    g.add_edge("outer", "child")
    g.add_edge("child", END)
    d = Driver(g.compile(checkpointer=cp), api, "sync")
    tid = f"t-{uuid.uuid4()}"
    run1, run2 = f"run-{uuid.uuid4()}", f"run-{uuid.uuid4()}"
    await d.invoke({"notes": ["a"]}, {"configurable": {"thread_id": tid, "run_id": run1}})
    await d.invoke({"notes": ["b"]}, {"configurable": {"thread_id": tid, "run_id": run2}})
    cfg = {"configurable": {"thread_id": tid}}
    labels = {run1: "run1", run2: "run2"}

    async def state() -> dict:
        """The thread's state, its run ids (random) named by their order."""
        snapshot = norm_snapshot(await d.state(cfg))
        snapshot["metadata"]["run_id"] = labels[snapshot["metadata"]["run_id"]]
        return snapshot

    before = await state()

    async def runs_by_namespace() -> dict[str, list]:
        """The run ids of the thread's checkpoints, by namespace (a listing
        without checkpoint_ns covers every namespace)."""
        if api == "sync":
            tuples = await asyncio.to_thread(lambda: list(cp.list(cfg)))
        else:
            tuples = [t async for t in cp.alist(cfg)]
        runs: dict[str, set] = {}
        for t in tuples:
            runs.setdefault(t.config["configurable"]["checkpoint_ns"], set()).add(t.metadata.get("run_id"))
        return {ns: sorted(r) for ns, r in runs.items()}

    runs_before = await runs_by_namespace()
    if not isinstance(cp, InMemorySaver):
        if api == "sync":
            await asyncio.to_thread(cp.delete_for_runs, [run1])
        else:
            await cp.adelete_for_runs([run1])
    runs_after = await runs_by_namespace()
    after = await state()
    again = await d.invoke({"notes": ["c"]}, {"configurable": {"thread_id": tid, "run_id": run1}})
    return {
        "runs_before": runs_before,
        "runs_after": runs_after,
        "before": before,
        "after": after,
        "again": again,
        "run_ids": (run1, run2),
    }


@pytest.mark.parametrize("api", ["sync", "async"])
@pytest.mark.parametrize("kind", ["AgentstoreSaver", "AsyncAgentstoreSaver"])
async def test_delete_for_runs(kind: str, api: str, pool: Any, dsn: str) -> None:
    """delete_for_runs removes the run's checkpoints in every namespace (the
    subgraph's too) and their writes; the other run's stay whole, so that the
    thread's state and its next run are those of InMemorySaver without the
    deletion."""
    expected = await delete_one_run(InMemorySaver(), api)
    if kind == "AgentstoreSaver":
        result = await delete_one_run(AgentstoreSaver(pool), api)
    else:
        async with await AsyncConnection.connect(dsn, autocommit=True) as conn:
            result = await delete_one_run(AsyncAgentstoreSaver(conn), api)
    run1, run2 = result["run_ids"]
    # The subgraph (checkpointer=True) keeps its own history in namespace
    # "child", written by both runs.
    both = sorted([run1, run2])
    assert result["runs_before"] == {"": both, "child": both}
    assert result["runs_after"] == {"": [run2], "child": [run2]}
    for key in ("before", "after", "again"):
        assert result[key] == expected[key], key
    assert result["after"] == result["before"]
    with Connection.connect(dsn) as c:
        orphans = c.execute(
            "SELECT count(*) FROM agentstore.checkpoint_writes w WHERE NOT EXISTS"
            " (SELECT FROM agentstore.checkpoints k WHERE (k.thread_id, k.checkpoint_ns,"
            " k.checkpoint_id) = (w.thread_id, w.checkpoint_ns, w.checkpoint_id))"
            " AND w.thread_id IN (SELECT thread_id FROM agentstore.checkpoints"
            " WHERE metadata->>'run_id' = %s)",
            (run2,),
        ).fetchone()[0]
    assert orphans == 0


def norm_delta(h: Any) -> dict:
    """A get_delta_channel_history result in a comparable form: values by
    repr (a DeltaChannel's seed is a snapshot object), task ids kept (both
    walks read the same checkpoints)."""
    return {
        ch: {
            "seed": repr(e["seed"]) if "seed" in e else "(none)",
            "writes": [(w[0], w[1], repr(w[2])) for w in e["writes"]],
        }
        for ch, e in h.items()
    }


@pytest.mark.parametrize("kind", ["AgentstoreSaver", "AsyncAgentstoreSaver"])
async def test_delta_channel_history_is_the_default_walk(
    kind: str, pool: Any, dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The savers' get_delta_channel_history and aget_delta_channel_history
    (one call of agentstore's delta_channel_history) give what LangGraph's
    default implementation (a get_tuple per ancestor) gives, for every
    checkpoint of the DeltaChannel scenario's thread (the fork of an older
    checkpoint included) and of a copy of it, for the DeltaChannel, a plain
    channel and a channel never written; and for the latest checkpoint, a
    missing one, a thread without checkpoints and no channels."""
    cfg = thread()
    monkeypatch.setitem(globals(), "thread", lambda: cfg)
    tid = cfg["configurable"]["thread_id"]
    copy = f"{tid}-copy"
    channels = ["log", "n", "never"]

    async def check(saver: Any, default: Any, override: Any, sync_override: Any) -> int:
        targets = [{"configurable": {"thread_id": t, "checkpoint_ns": ""}} for t in (tid, copy)]
        targets += [{"configurable": {"thread_id": tid, "checkpoint_ns": "", "checkpoint_id": "nope"}}]
        targets += [{"configurable": {"thread_id": f"{tid}-none"}}]
        for t in (tid, copy):
            targets += [tup.config async for tup in saver.alist({"configurable": {"thread_id": t}})]
        seeded = 0
        for target in targets:
            want = norm_delta(await default(target, channels))
            assert norm_delta(await override(target, channels)) == want, target
            assert norm_delta(await sync_override(target, channels)) == want, target
            assert await override(target, []) == {}
            seeded += sum(e["seed"] != "(none)" and len(e["writes"]) > 0 for e in want.values())
        return seeded

    if kind == "AgentstoreSaver":
        saver = AgentstoreSaver(pool)
        await delta_channel(saver, "sync", "sync")
        await asyncio.to_thread(saver.copy_thread, tid, copy)
        seeded = await check(
            saver,
            lambda c, ch: asyncio.to_thread(
                lambda: BaseCheckpointSaver.get_delta_channel_history(saver, config=c, channels=ch)
            ),
            lambda c, ch: saver.aget_delta_channel_history(config=c, channels=ch),
            lambda c, ch: asyncio.to_thread(
                lambda: saver.get_delta_channel_history(config=c, channels=ch)
            ),
        )
    else:
        async with await AsyncConnection.connect(dsn, autocommit=True) as conn:
            saver = AsyncAgentstoreSaver(conn)
            await delta_channel(saver, "async", "sync")
            await saver.acopy_thread(tid, copy)
            seeded = await check(
                saver,
                lambda c, ch: BaseCheckpointSaver.aget_delta_channel_history(
                    saver, config=c, channels=ch
                ),
                lambda c, ch: saver.aget_delta_channel_history(config=c, channels=ch),
                lambda c, ch: asyncio.to_thread(
                    lambda: saver.get_delta_channel_history(config=c, channels=ch)
                ),
            )
    # The scenario has histories with both a seed and writes to replay.
    assert seeded > 0


@pytest.mark.parametrize("kind", ["AgentstoreSaver", "AsyncAgentstoreSaver"])
async def test_delta_channel_history_on_agentstore_0_2_0(kind: str, dsn: str) -> None:
    """On a database still at agentstore 0.2.0, which has no
    delta_channel_history, the savers fall back to LangGraph's walk: the
    DeltaChannel scenario gives InMemorySaver's results."""
    expected = await delta_channel(InMemorySaver(), "async", "sync")
    name = f"agentstore_020_{uuid.uuid4().hex[:8]}"
    with Connection.connect(dsn, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            if kind == "AgentstoreSaver":
                with Connection.connect(dsn, dbname=name, autocommit=True) as c:
                    c.execute("CREATE EXTENSION agentstore VERSION '0.2.0'")
                    got = await delta_channel(AgentstoreSaver(c), "async", "sync")
            else:
                async with await AsyncConnection.connect(dsn, dbname=name, autocommit=True) as c:
                    await c.execute("CREATE EXTENSION agentstore VERSION '0.2.0'")
                    got = await delta_channel(AsyncAgentstoreSaver(c), "async", "sync")
        finally:
            admin.execute(f'DROP DATABASE "{name}"')
    assert got == expected
