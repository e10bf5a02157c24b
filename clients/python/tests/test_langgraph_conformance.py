"""LangGraph's own checkpointer conformance suite (PyPI
langgraph-checkpoint-conformance) against both savers, on a plain connection
and on a pool.  Every base capability and every extended capability the
saver implements must be detected and pass."""

import pytest
from langgraph.checkpoint.conformance import checkpointer_test, validate
from langgraph.checkpoint.conformance.capabilities import (
    BASE_CAPABILITIES,
    Capability,
)
from psycopg import AsyncConnection, Connection
from psycopg_pool import AsyncConnectionPool, ConnectionPool

from agentstore.langgraph import AgentstoreSaver, AsyncAgentstoreSaver

# What agentstore implements: every capability the suite knows (delete_for_runs
# needs agentstore 0.3.0's delete_runs).
IMPLEMENTED = BASE_CAPABILITIES | {
    Capability.COPY_THREAD,
    Capability.PRUNE,
    Capability.DELETE_FOR_RUNS,
}


def _factory(kind: str, dsn: str):
    async def factory():
        if kind == "sync-conn":
            with Connection.connect(dsn, autocommit=True) as conn:
                yield AgentstoreSaver(conn)
        elif kind == "sync-pool":
            with ConnectionPool(dsn, min_size=1, max_size=4, kwargs={"autocommit": True}) as pool:
                yield AgentstoreSaver(pool)
        elif kind == "async-conn":
            async with await AsyncConnection.connect(dsn, autocommit=True) as conn:
                yield AsyncAgentstoreSaver(conn)
        else:
            async with AsyncConnectionPool(
                dsn, min_size=1, max_size=4, kwargs={"autocommit": True}, open=False
            ) as pool:
                yield AsyncAgentstoreSaver(pool)

    return factory


@pytest.mark.parametrize("kind", ["sync-conn", "sync-pool", "async-conn", "async-pool"])
async def test_conformance(kind: str, dsn: str) -> None:
    registered = checkpointer_test(name=f"agentstore-{kind}")(_factory(kind, dsn))
    report = await validate(registered)
    failures = {
        cap: result.failures
        for cap, result in report.results.items()
        if result.passed is False
    }
    assert not failures, failures
    detected = {cap for cap, r in report.results.items() if r.detected}
    assert detected == {c.value for c in IMPLEMENTED}
    for cap in IMPLEMENTED:
        result = report.results[cap.value]
        assert result.passed is True and result.tests_passed > 0, (cap, result)
