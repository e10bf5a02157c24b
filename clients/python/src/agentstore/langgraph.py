"""LangGraph checkpointers on agentstore.

``AgentstoreSaver`` (a psycopg ``Connection`` or ``ConnectionPool``) and
``AsyncAgentstoreSaver`` (``AsyncConnection`` or ``AsyncConnectionPool``)
implement LangGraph's ``BaseCheckpointSaver``.  Every method is one call of
agentstore's SQL API (``put_checkpoint``, ``put_writes``, ``get_checkpoint``,
``list_checkpoints``, ``delta_channel_history``, ``delete_thread``,
``delete_runs``, ``copy_thread``, ``prune_checkpoints``); this module only
converts between LangGraph's objects and the functions' arguments and
results, as the LangGraph.js client (clients/langgraphjs) does.

Primitive channel values stay inline in the checkpoint document (as
LangGraph's PostgresSaver keeps them); the other values and pending writes
travel as ``[type, base64]`` pairs of what the saver's ``serde`` produced, so
any value LangGraph can serialize is stored.  The checkpoint document and the
metadata are JSON.
"""

from __future__ import annotations

import asyncio
import base64
import json
import math
import random
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    BaseCheckpointSaver,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    DeltaChannelHistory,
    get_serializable_checkpoint_metadata,
)
from langgraph.checkpoint.serde.base import SerializerProtocol
from langgraph.checkpoint.serde.types import TASKS
from psycopg import AsyncConnection, Connection
from psycopg.errors import UndefinedFunction
from psycopg_pool import AsyncConnectionPool, ConnectionPool

from agentstore._pg import (
    AsyncConn,
    Conn,
    acheck_extension,
    afetch,
    aiterate,
    check_extension,
    fetch,
    iterate,
)

__all__ = ["AgentstoreSaver", "AsyncAgentstoreSaver"]

GET_SQL = "SELECT * FROM agentstore.get_checkpoint(%s, %s, %s)"
LIST_SQL = "SELECT * FROM agentstore.list_checkpoints(%s, %s, %s::pg_catalog.jsonb, %s, %s, %s)"
PUT_SQL = (
    "SELECT agentstore.put_checkpoint(%s, %s, %s::pg_catalog.jsonb, %s::pg_catalog.json,"
    " %s::pg_catalog.jsonb, %s::pg_catalog.jsonb, %s, %s::pg_catalog.interval)"
)
PUT_WRITES_SQL = "SELECT agentstore.put_writes(%s, %s, %s, %s, %s::pg_catalog.jsonb, %s)"
DELETE_THREAD_SQL = "SELECT agentstore.delete_thread(%s)"
# get_delta_channel_history: the whole parent chain walked by the server
# (agentstore 0.3.0), {channel: {"writes": [[task_id, channel, type, value],
# ...], "seed": [type, value]}}.
DELTA_HISTORY_SQL = (
    "SELECT agentstore.delta_channel_history(%s, %s, %s, %s::pg_catalog.text[]) AS history"
)
# Every checkpoint whose metadata run_id is one of these, in every thread and
# namespace, with its writes and the blobs no other checkpoint names.
DELETE_RUNS_SQL = "SELECT agentstore.delete_runs(%s::pg_catalog.text[])"
COPY_THREAD_SQL = "SELECT agentstore.copy_thread(%s, %s, %s::pg_catalog.interval)"
# prune(strategy=...) for a list of threads, still one statement.
PRUNE_KEEP_LATEST_SQL = (
    "SELECT pg_catalog.count(*) FROM pg_catalog.unnest(%s::pg_catalog.text[]) AS t,"
    " LATERAL agentstore.prune_checkpoints(t, 1) AS p"
)
PRUNE_DELETE_SQL = (
    "SELECT pg_catalog.count(agentstore.delete_thread(t))"
    " FROM pg_catalog.unnest(%s::pg_catalog.text[]) AS t"
)

PRUNE_STRATEGIES = ("keep_latest", "delete")
_CONTAINERS = (dict, list)


def _is_inline(value: Any) -> bool:
    """Whether a channel value is stored as JSON in the checkpoint document:
    None, booleans, 64-bit integers (JSON parsers read bigger ones as
    floats), floats that come back as floats and strings without NUL (which
    jsonb cannot hold), of exactly these types so that none changes type.
    jsonb prints a float of 1e16 or more without a fraction or exponent (so
    it would be read back as an int) and has no -0.0; those, NaN and the
    infinities go through serde."""
    t = type(value)
    if value is None or t is bool:
        return True
    if t is int:
        return -(2**63) <= value < 2**63
    if t is float:
        # (NaN fails the comparison)
        return abs(value) < 1e16 and (value != 0.0 or math.copysign(1.0, value) > 0)
    return t is str and "\x00" not in value


def _b64(data: bytes | bytearray | str | None) -> str:
    if data is None:
        return ""
    if isinstance(data, str):
        data = data.encode()
    return base64.b64encode(data).decode("ascii")


class _Convert(BaseCheckpointSaver[str]):
    """What both savers share: conversions between LangGraph's objects and
    the arguments and rows of agentstore's functions."""

    ttl: str | None

    def get_next_version(self, current: str | int | None, channel: None = None) -> str:
        """LangGraph Python's versions: a 32-digit counter and a random
        fraction, so that two forks of a thread never write the same one."""
        if current is None:
            current_v = 0
        elif isinstance(current, int):
            current_v = current
        else:
            current_v = int(current.split(".")[0])
        return f"{current_v + 1:032}.{random.random():016}"

    # -- arguments ---------------------------------------------------------

    @staticmethod
    def _target(config: RunnableConfig) -> tuple[str, str, str | None]:
        c = config.get("configurable") or {}
        return c.get("thread_id"), c.get("checkpoint_ns") or "", c.get("checkpoint_id") or None

    def _get_params(self, config: RunnableConfig) -> tuple:
        thread_id, ns, checkpoint_id = self._target(config)
        if thread_id is not None:
            thread_id = str(thread_id)
        return (thread_id, ns, checkpoint_id)

    def _list_params(
        self,
        config: RunnableConfig | None,
        filter: dict[str, Any] | None,
        before: RunnableConfig | None,
        limit: int | None,
    ) -> tuple:
        c = (config or {}).get("configurable") or {}
        thread_id = c.get("thread_id")
        return (
            str(thread_id) if thread_id is not None else None,
            c.get("checkpoint_ns"),
            json.dumps(filter) if filter else None,
            ((before or {}).get("configurable") or {}).get("checkpoint_id"),
            int(limit) if limit is not None else None,
            c.get("checkpoint_id") or None,
        )

    def _put_params(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> tuple[tuple, RunnableConfig]:
        c = config.get("configurable")
        if c is None:
            raise ValueError('missing "configurable" field in "config" param')
        thread_id = str(c["thread_id"])
        ns = c.get("checkpoint_ns") or ""
        parent_id = c.get("checkpoint_id") or None
        stored = {k: v for k, v in checkpoint.items() if k != "channel_values"}
        values = checkpoint.get("channel_values") or {}
        # Primitive values stay inline in the checkpoint document, as
        # LangGraph's PostgresSaver keeps them; the others travel as blobs of
        # what serde produced, for the channels with a new version.
        inline = {}
        blobs = {}
        for channel, value in values.items():
            if _is_inline(value):
                inline[channel] = value
            elif channel in new_versions:
                type_, data = self.serde.dumps_typed(value)
                blobs[channel] = [type_, _b64(data)]
        stored["channel_values"] = inline
        params = (
            thread_id,
            ns,
            json.dumps(stored),
            json.dumps(get_serializable_checkpoint_metadata(config, metadata)),
            json.dumps(new_versions),
            json.dumps(blobs) if blobs else None,
            parent_id,
            self.ttl,
        )
        next_config = {
            "configurable": {
                "thread_id": thread_id,
                "checkpoint_ns": ns,
                "checkpoint_id": checkpoint["id"],
            }
        }
        return params, next_config

    def _put_writes_params(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str,
    ) -> tuple:
        thread_id, ns, checkpoint_id = self._target(config)
        dumped = []
        for channel, value in writes:
            type_, data = self.serde.dumps_typed(value)
            dumped.append([channel, type_, _b64(data)])
        return (
            str(thread_id) if thread_id is not None else None,
            ns,
            checkpoint_id,
            task_id,
            json.dumps(dumped),
            task_path or "",
        )

    # -- results -----------------------------------------------------------

    def _load(self, type_: str, value: Any) -> Any:
        """A value as agentstore returns it: JSON for type "json", base64
        otherwise."""
        if type_ == "json":
            if not isinstance(value, (dict, list)):
                return value  # an inline primitive
            return self.serde.loads_typed(("json", json.dumps(value).encode()))
        data = base64.b64decode(value) if value else b""
        return self.serde.loads_typed((type_, data))

    def _to_tuple(self, row: dict) -> CheckpointTuple:
        """A row of agentstore.checkpoint_tuple as LangGraph's CheckpointTuple."""
        checkpoint = dict(row["checkpoint"])
        load = self._load
        # An inline primitive (the common case) is its own value.
        values = {
            channel: value if type_ == "json" and type(value) not in _CONTAINERS else load(type_, value)
            for channel, (type_, value) in (row["channel_values"] or {}).items()
        }
        checkpoint["channel_values"] = values
        checkpoint.setdefault("channel_versions", {})
        checkpoint.setdefault("versions_seen", {})
        if row.get("pending_sends") is not None:
            # Checkpoints older than format 4 kept pending sends as the
            # parent's writes to __pregel_tasks; LangGraph moves them into
            # that channel.
            values[TASKS] = [self._load(t, v) for t, v in row["pending_sends"]]
            versions = dict(checkpoint["channel_versions"])
            versions[TASKS] = (
                max(versions.values()) if versions else self.get_next_version(None)
            )
            checkpoint["channel_versions"] = versions
        thread_id, ns = row["thread_id"], row["checkpoint_ns"]
        parent = row["parent_checkpoint_id"]
        return CheckpointTuple(
            config={
                "configurable": {
                    "thread_id": thread_id,
                    "checkpoint_ns": ns,
                    "checkpoint_id": row["checkpoint_id"],
                }
            },
            checkpoint=checkpoint,
            metadata=row["metadata"],
            parent_config=(
                {"configurable": {"thread_id": thread_id, "checkpoint_ns": ns, "checkpoint_id": parent}}
                if parent
                else None
            ),
            pending_writes=[
                (task_id, channel, self._load(type_, value))
                for task_id, channel, type_, value in (row["pending_writes"] or [])
            ],
        )

    def _delta_params(self, config: RunnableConfig, channels: Sequence[str]) -> tuple | None:
        """The arguments of delta_channel_history, or None where LangGraph's
        default walk finds no target without a call (no thread id)."""
        thread_id, ns, checkpoint_id = self._get_params(config)
        if thread_id is None:
            return None
        return (thread_id, ns, checkpoint_id, [str(c) for c in channels])

    def _to_delta_history(
        self, history: dict | None, channels: Sequence[str]
    ) -> dict[str, DeltaChannelHistory]:
        """delta_channel_history's JSON as LangGraph's result: every channel
        asked for, in the caller's order, its writes as PendingWrite tuples
        (task_id, channel, value), its seed (when there is one) loaded."""
        history = history or {}
        result: dict[str, DeltaChannelHistory] = {}
        for ch in channels:
            e = history.get(str(ch)) or {}
            entry: DeltaChannelHistory = {
                "writes": [
                    (task_id, channel, self._load(type_, value))
                    for task_id, channel, type_, value in e.get("writes", [])
                ]
            }
            if "seed" in e:
                entry["seed"] = self._load(*e["seed"])
            result[ch] = entry
        return result

    @staticmethod
    def _run_ids(run_ids: Sequence[str]) -> list[str]:
        if isinstance(run_ids, str):
            raise TypeError("run_ids must be a sequence of run ids, not a string")
        return [str(r) for r in run_ids]

    @staticmethod
    def _prune_sql(thread_ids: Sequence[str], strategy: str) -> tuple[str, tuple]:
        if isinstance(thread_ids, str):
            raise TypeError("thread_ids must be a sequence of thread ids, not a string")
        if strategy not in PRUNE_STRATEGIES:
            raise ValueError(f"Unknown prune strategy: {strategy!r}")
        sql = PRUNE_KEEP_LATEST_SQL if strategy == "keep_latest" else PRUNE_DELETE_SQL
        # Each thread's lock is taken in turn and held to the end: in one
        # order (code points, that is the "C" order of delete_runs and
        # delete_checkpoint), so that two prunes of the same threads cannot
        # deadlock.
        return sql, (sorted({str(t) for t in thread_ids}),)


class AgentstoreSaver(_Convert):
    """A LangGraph checkpointer on agentstore, over a psycopg ``Connection``
    or ``ConnectionPool`` (sync; the ``a*`` methods run the sync ones in a
    worker thread).  ``ttl`` is a PostgreSQL interval (``"30 days"``) that
    every put gives the thread; by default ``agentstore.checkpoint_ttl``.

    Example::

        with AgentstoreSaver.from_conn_string("postgresql://app@db/app") as saver:
            saver.setup()
            graph = builder.compile(checkpointer=saver)
    """

    def __init__(
        self,
        conn: Conn,
        *,
        serde: SerializerProtocol | None = None,
        ttl: str | None = None,
    ) -> None:
        super().__init__(serde=serde)
        self.conn = conn
        self.ttl = ttl

    @classmethod
    @contextmanager
    def from_conn_string(
        cls, conn_string: str, *, pool_size: int | None = None, **kwargs: Any
    ) -> Iterator[AgentstoreSaver]:
        """A saver on its own connection (or pool of pool_size connections),
        closed when the block ends."""
        if pool_size:
            with ConnectionPool(
                conn_string, min_size=1, max_size=pool_size, kwargs={"autocommit": True}
            ) as pool:
                yield cls(pool, **kwargs)
        else:
            with Connection.connect(conn_string, autocommit=True) as conn:
                yield cls(conn, **kwargs)

    def setup(self) -> str:
        """Check that the database has the agentstore extension (it owns the
        tables: nothing is created here); returns its version."""
        return check_extension(self.conn)

    def get_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        rows = fetch(self.conn, GET_SQL, self._get_params(config))
        return self._to_tuple(rows[0]) if rows else None

    def list(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> Iterator[CheckpointTuple]:
        for row in iterate(self.conn, LIST_SQL, self._list_params(config, filter, before, limit)):
            yield self._to_tuple(row)

    def put(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        params, next_config = self._put_params(config, checkpoint, metadata, new_versions)
        fetch(self.conn, PUT_SQL, params, rows=False)
        return next_config

    def put_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        params = self._put_writes_params(config, writes, task_id, task_path)
        fetch(self.conn, PUT_WRITES_SQL, params, rows=False)

    def get_delta_channel_history(
        self, *, config: RunnableConfig, channels: Sequence[str]
    ) -> Mapping[str, DeltaChannelHistory]:
        """LangGraph's get_delta_channel_history in one call: agentstore's
        delta_channel_history walks the parent chain (agentstore 0.3.0; on
        0.2.0, LangGraph's walk of a call per ancestor)."""
        if not channels:
            return {}
        params = self._delta_params(config, channels)
        try:
            rows = fetch(self.conn, DELTA_HISTORY_SQL, params) if params else []
        except UndefinedFunction:
            # agentstore 0.2.0: LangGraph's walk, one get_tuple per ancestor
            return super().get_delta_channel_history(config=config, channels=channels)
        return self._to_delta_history(rows[0]["history"] if rows else None, channels)

    def delete_thread(self, thread_id: str) -> None:
        fetch(self.conn, DELETE_THREAD_SQL, (str(thread_id),), rows=False)

    def delete_for_runs(self, run_ids: Sequence[str]) -> None:
        """Delete every checkpoint of these runs (metadata ``run_id``), in
        every thread and namespace, with its pending writes; needs agentstore
        0.3.0."""
        ids = self._run_ids(run_ids)
        if ids:
            fetch(self.conn, DELETE_RUNS_SQL, (ids,), rows=False)

    def copy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        fetch(
            self.conn,
            COPY_THREAD_SQL,
            (str(source_thread_id), str(target_thread_id), self.ttl),
            rows=False,
        )

    def prune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        sql, params = self._prune_sql(thread_ids, strategy)
        if params[0]:
            fetch(self.conn, sql, params, rows=False)

    # The async forms run the sync ones in a worker thread.
    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        return await asyncio.to_thread(self.get_tuple, config)

    async def alist(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[CheckpointTuple]:
        rows = await asyncio.to_thread(
            lambda: list(self.list(config, filter=filter, before=before, limit=limit))
        )
        for tup in rows:
            yield tup

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        return await asyncio.to_thread(self.put, config, checkpoint, metadata, new_versions)

    async def aput_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        await asyncio.to_thread(self.put_writes, config, writes, task_id, task_path)

    async def aget_delta_channel_history(
        self, *, config: RunnableConfig, channels: Sequence[str]
    ) -> Mapping[str, DeltaChannelHistory]:
        return await asyncio.to_thread(
            lambda: self.get_delta_channel_history(config=config, channels=channels)
        )

    async def adelete_thread(self, thread_id: str) -> None:
        await asyncio.to_thread(self.delete_thread, thread_id)

    async def adelete_for_runs(self, run_ids: Sequence[str]) -> None:
        await asyncio.to_thread(self.delete_for_runs, run_ids)

    async def acopy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        await asyncio.to_thread(self.copy_thread, source_thread_id, target_thread_id)

    async def aprune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        await asyncio.to_thread(self.prune, thread_ids, strategy=strategy)


class AsyncAgentstoreSaver(_Convert):
    """A LangGraph checkpointer on agentstore, over a psycopg
    ``AsyncConnection`` or ``AsyncConnectionPool``.  The sync methods may be
    called from other threads than the event loop's (as LangGraph's sync
    ``invoke`` does in its worker threads).

    Example::

        async with AsyncAgentstoreSaver.from_conn_string(uri) as saver:
            await saver.setup()
            graph = builder.compile(checkpointer=saver)
    """

    def __init__(
        self,
        conn: AsyncConn,
        *,
        serde: SerializerProtocol | None = None,
        ttl: str | None = None,
    ) -> None:
        super().__init__(serde=serde)
        self.conn = conn
        self.ttl = ttl
        self.loop = asyncio.get_running_loop()

    @classmethod
    @asynccontextmanager
    async def from_conn_string(
        cls, conn_string: str, *, pool_size: int | None = None, **kwargs: Any
    ) -> AsyncIterator[AsyncAgentstoreSaver]:
        """A saver on its own connection (or pool of pool_size connections),
        closed when the block ends."""
        if pool_size:
            async with AsyncConnectionPool(
                conn_string,
                min_size=1,
                max_size=pool_size,
                kwargs={"autocommit": True},
                open=False,
            ) as pool:
                yield cls(pool, **kwargs)
        else:
            async with await AsyncConnection.connect(conn_string, autocommit=True) as conn:
                yield cls(conn, **kwargs)

    async def setup(self) -> str:
        """Check that the database has the agentstore extension (it owns the
        tables: nothing is created here); returns its version."""
        return await acheck_extension(self.conn)

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        rows = await afetch(self.conn, GET_SQL, self._get_params(config))
        return self._to_tuple(rows[0]) if rows else None

    async def alist(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[CheckpointTuple]:
        async for row in aiterate(
            self.conn, LIST_SQL, self._list_params(config, filter, before, limit)
        ):
            yield self._to_tuple(row)

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        params, next_config = self._put_params(config, checkpoint, metadata, new_versions)
        await afetch(self.conn, PUT_SQL, params, rows=False)
        return next_config

    async def aput_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        params = self._put_writes_params(config, writes, task_id, task_path)
        await afetch(self.conn, PUT_WRITES_SQL, params, rows=False)

    async def aget_delta_channel_history(
        self, *, config: RunnableConfig, channels: Sequence[str]
    ) -> Mapping[str, DeltaChannelHistory]:
        """LangGraph's get_delta_channel_history in one call: agentstore's
        delta_channel_history walks the parent chain (agentstore 0.3.0; on
        0.2.0, LangGraph's walk of a call per ancestor)."""
        if not channels:
            return {}
        params = self._delta_params(config, channels)
        try:
            rows = await afetch(self.conn, DELTA_HISTORY_SQL, params) if params else []
        except UndefinedFunction:
            # agentstore 0.2.0: LangGraph's walk, one aget_tuple per ancestor
            return await super().aget_delta_channel_history(config=config, channels=channels)
        return self._to_delta_history(rows[0]["history"] if rows else None, channels)

    async def adelete_thread(self, thread_id: str) -> None:
        await afetch(self.conn, DELETE_THREAD_SQL, (str(thread_id),), rows=False)

    async def adelete_for_runs(self, run_ids: Sequence[str]) -> None:
        """Delete every checkpoint of these runs (metadata ``run_id``), in
        every thread and namespace, with its pending writes; needs agentstore
        0.3.0."""
        ids = self._run_ids(run_ids)
        if ids:
            await afetch(self.conn, DELETE_RUNS_SQL, (ids,), rows=False)

    async def acopy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        await afetch(
            self.conn,
            COPY_THREAD_SQL,
            (str(source_thread_id), str(target_thread_id), self.ttl),
            rows=False,
        )

    async def aprune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        sql, params = self._prune_sql(thread_ids, strategy)
        if params[0]:
            await afetch(self.conn, sql, params, rows=False)

    # The sync forms run the async ones on the saver's event loop.
    def _sync(self, coro: Any) -> Any:
        try:
            if asyncio.get_running_loop() is self.loop:
                coro.close()
                raise asyncio.InvalidStateError(
                    "synchronous calls to AsyncAgentstoreSaver are only allowed from a "
                    "different thread; from the main thread, use the async interface "
                    "(for example graph.ainvoke() instead of graph.invoke())"
                )
        except RuntimeError:
            pass
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def get_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        return self._sync(self.aget_tuple(config))

    def list(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> Iterator[CheckpointTuple]:
        async def collect() -> list[CheckpointTuple]:
            return [t async for t in self.alist(config, filter=filter, before=before, limit=limit)]

        yield from self._sync(collect())

    def put(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        return self._sync(self.aput(config, checkpoint, metadata, new_versions))

    def put_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        self._sync(self.aput_writes(config, writes, task_id, task_path))

    def get_delta_channel_history(
        self, *, config: RunnableConfig, channels: Sequence[str]
    ) -> Mapping[str, DeltaChannelHistory]:
        return self._sync(self.aget_delta_channel_history(config=config, channels=channels))

    def delete_thread(self, thread_id: str) -> None:
        self._sync(self.adelete_thread(thread_id))

    def delete_for_runs(self, run_ids: Sequence[str]) -> None:
        self._sync(self.adelete_for_runs(run_ids))

    def copy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        self._sync(self.acopy_thread(source_thread_id, target_thread_id))

    def prune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        self._sync(self.aprune(thread_ids, strategy=strategy))
