"""Connection plumbing shared by the clients: one SQL statement per call on a
psycopg connection or pool, sync or async."""

from __future__ import annotations

import asyncio
import threading
import weakref
from contextlib import asynccontextmanager, contextmanager
from typing import Any, AsyncIterator, Iterator, Sequence, Union

from psycopg import AsyncConnection, Connection
from psycopg.rows import dict_row
from psycopg.types.json import set_json_loads

try:  # a faster JSON parser for the results, where installed
    from orjson import loads as _json_loads
except ImportError:  # pragma: no cover
    _json_loads = None
from psycopg_pool import AsyncConnectionPool, ConnectionPool

Conn = Union[Connection, ConnectionPool]
AsyncConn = Union[AsyncConnection, AsyncConnectionPool]

# Which agentstore is installed, and whether the server has it at all.
_EXTENSION_SQL = (
    "SELECT (SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'agentstore') AS v,"
    " EXISTS (SELECT FROM pg_catalog.pg_available_extensions WHERE name = 'agentstore') AS a"
)


class ExtensionMissingError(RuntimeError):
    """The database has no agentstore extension."""


def _missing_message(available: bool) -> str:
    if available:
        return (
            "the agentstore extension is not installed in this database; run "
            "CREATE EXTENSION agentstore; as a user allowed to create extensions "
            "(and set shared_preload_libraries = 'agentstore' on the server for "
            "the TTL worker)"
        )
    return (
        "the agentstore extension is not available on this PostgreSQL server; build "
        "and install it there (make && make install with the server's pg_config), "
        "add shared_preload_libraries = 'agentstore', restart, then run "
        "CREATE EXTENSION agentstore; in this database"
    )


def _check_row(row: Sequence[Any] | None) -> str:
    version, available = row if row else (None, False)
    if version is None:
        raise ExtensionMissingError(_missing_message(bool(available)))
    return version


_locks: "weakref.WeakKeyDictionary[Any, Any]" = weakref.WeakKeyDictionary()
_locks_guard = threading.Lock()


def _lock(c: Connection) -> threading.Lock:
    """The lock that serialises this package's transactions on c."""
    with _locks_guard:
        return _locks.setdefault(c, threading.Lock())


def _alock(c: AsyncConnection) -> asyncio.Lock:
    """The lock that serialises this package's transactions on c."""
    with _locks_guard:
        return _locks.setdefault(c, asyncio.Lock())


@contextmanager
def connection(conn: Conn) -> Iterator[Connection]:
    """A connection of conn (itself, or one borrowed from the pool)."""
    if isinstance(conn, ConnectionPool):
        with conn.connection() as c:
            yield c
    else:
        yield conn


@asynccontextmanager
async def aconnection(conn: AsyncConn) -> AsyncIterator[AsyncConnection]:
    """A connection of conn (itself, or one borrowed from the pool)."""
    if isinstance(conn, AsyncConnectionPool):
        async with conn.connection() as c:
            yield c
    else:
        yield conn


def _cursor(c: Any) -> Any:
    """A cursor returning dicts, parsing JSON with orjson where it can."""
    cur = c.cursor(row_factory=dict_row)
    if _json_loads is not None:
        set_json_loads(_json_loads, cur)
    return cur


def fetch(conn: Conn, sql: str, params: Sequence[Any] = (), *, rows: bool = True) -> list[dict]:
    """Run one statement in its own transaction; its rows as dicts."""
    with connection(conn) as c:
        if not c.autocommit:
            # Threads sharing one connection must not interleave transactions.
            with _lock(c), c.transaction():
                cur = _cursor(c)
                cur.execute(sql, params, prepare=True)
                return cur.fetchall() if rows else []
        cur = _cursor(c)
        cur.execute(sql, params, prepare=True)
        return cur.fetchall() if rows else []


async def afetch(
    conn: AsyncConn, sql: str, params: Sequence[Any] = (), *, rows: bool = True
) -> list[dict]:
    """Run one statement in its own transaction; its rows as dicts."""
    async with aconnection(conn) as c:
        if c.autocommit:
            cur = _cursor(c)
            await cur.execute(sql, params, prepare=True)
            return await cur.fetchall() if rows else []
        # Tasks sharing one connection must not interleave transactions.
        async with _alock(c), c.transaction():
            cur = _cursor(c)
            await cur.execute(sql, params, prepare=True)
            return await cur.fetchall() if rows else []


def iterate(conn: Conn, sql: str, params: Sequence[Any] = ()) -> Iterator[dict]:
    """Run one statement in its own transaction; its rows as dicts, each
    parsed when it is reached, so that a long listing never holds all its
    rows as Python objects at once.  The result is on the client when the
    statement returns: a pool's connection goes back to the pool before the
    rows are read (a caller may use the saver while it iterates)."""
    with connection(conn) as c:
        if c.autocommit:
            cur = _cursor(c)
            cur.execute(sql, params, prepare=True)
        else:
            with _lock(c), c.transaction():
                cur = _cursor(c)
                cur.execute(sql, params, prepare=True)
    yield from cur


async def aiterate(conn: AsyncConn, sql: str, params: Sequence[Any] = ()) -> AsyncIterator[dict]:
    """Run one statement in its own transaction; its rows as dicts, each
    parsed when it is reached (see iterate)."""
    async with aconnection(conn) as c:
        if c.autocommit:
            cur = _cursor(c)
            await cur.execute(sql, params, prepare=True)
        else:
            async with _alock(c), c.transaction():
                cur = _cursor(c)
                await cur.execute(sql, params, prepare=True)
    async for row in cur:
        yield row


def check_extension(conn: Conn) -> str:
    """The installed agentstore version; ExtensionMissingError saying how to
    install it when the database has none."""
    rows = fetch(conn, _EXTENSION_SQL)
    return _check_row(tuple(rows[0].values()) if rows else None)


async def acheck_extension(conn: AsyncConn) -> str:
    """The installed agentstore version; ExtensionMissingError saying how to
    install it when the database has none."""
    rows = await afetch(conn, _EXTENSION_SQL)
    return _check_row(tuple(rows[0].values()) if rows else None)
