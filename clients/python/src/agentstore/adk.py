"""A Google ADK session service on agentstore.

``AgentstoreSessionService`` implements ADK's ``BaseSessionService`` with
one call of agentstore's SQL API per method (``create_session``,
``get_session``, ``list_sessions``, ``delete_session``, ``append_event``,
``list_user_state``); this module only converts between ADK's objects and
the functions' arguments and results.  The rules ADK's own services follow
live in the extension: ``app:`` and ``user:`` keys go to shared app and user
state, ``temp:`` keys are never stored, state deltas are shallow, events come
back in append order.

A session read or created through this service remembers which incarnation
of its key it is (the session row's id: a session deleted and created again
under the same id is another row) and the version of its event stream;
``append_event`` passes both (``session_ref`` and the expected version), so
appending through a session object that another writer has overtaken, or
whose session was deleted and created again, fails in that same call with
ADK's ``StaleSessionError`` and changes nothing (agentstore's SQLSTATEs SV001
and SV002).
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timezone
from typing import Any, Optional

import psycopg
from google.adk.errors.already_exists_error import AlreadyExistsError
from google.adk.errors.session_not_found_error import SessionNotFoundError
from google.adk.events.event import Event
from google.adk.sessions.base_session_service import (
    BaseSessionService,
    GetSessionConfig,
    ListSessionsResponse,
)
from google.adk.sessions.session import Session
from google.adk.sessions.state import State
from psycopg_pool import AsyncConnectionPool
from pydantic_core import to_jsonable_python

from agentstore._pg import AsyncConn, acheck_extension, afetch

try:  # ADK releases with stale-session detection
    from google.adk.errors._stale_session_error import StaleSessionError
except ImportError:  # pragma: no cover - older ADK
    StaleSessionError = ValueError  # type: ignore[misc,assignment]

__all__ = ["AgentstoreSessionService"]

# create_session, with the app and user state as they were before it (the
# functions in the select list read the statement's snapshot); the service
# overlays the app:/user: keys the call itself wrote.
CREATE_SQL = (
    "SELECT c.id, c.session_id, c.state, c.updated_at,"
    " agentstore.list_app_state(c.app_name) AS app_state,"
    " agentstore.list_user_state(c.app_name, c.user_id) AS user_state"
    " FROM agentstore.create_session(%s, %s, %s, %s::pg_catalog.jsonb, %s::pg_catalog.interval) AS c"
)
GET_SQL = "SELECT agentstore.get_session(%s, %s, %s, %s, %s) AS s"
# Every page of list_sessions, and for each session its state with app and
# user state overlaid and its last event (for last_update_time): one statement.
LIST_SQL = """
WITH RECURSIVE pages AS (
    SELECT agentstore.list_sessions(%(app)s, %(user)s, 10000, NULL) AS page
  UNION ALL
    SELECT agentstore.list_sessions(%(app)s, %(user)s, 10000, p.page OPERATOR(pg_catalog.->>) 'next_page_token')
      FROM pages p
     WHERE p.page OPERATOR(pg_catalog.->>) 'next_page_token' IS NOT NULL
)
SELECT agentstore.get_session(%(app)s, s OPERATOR(pg_catalog.->>) 'user_id', s OPERATOR(pg_catalog.->>) 'session_id', 1, NULL) AS s
  FROM pages, pg_catalog.jsonb_array_elements(pages.page OPERATOR(pg_catalog.->) 'sessions') AS s
"""
DELETE_SQL = "SELECT agentstore.delete_session(%s, %s, %s)"
APPEND_SQL = (
    "SELECT version FROM agentstore.append_event(%s, %s, %s, %s::pg_catalog.jsonb, %s::pg_catalog.jsonb, %s, %s)"
)
USER_STATE_SQL = "SELECT agentstore.list_user_state(%s, %s) AS s"

# agentstore's SQLSTATEs that ADK has its own errors for.
WRONG_EXPECTED_VERSION = "SV001"
STALE_SESSION = "SV002"
NO_DATA_FOUND = "P0002"
UNIQUE_VIOLATION = "23505"


# The fraction of a timestamp's seconds, which PostgreSQL prints without
# trailing zeros (".12345", ".1").
_FRACTION = re.compile(r"(?<=:\d\d\.)\d+")


def _epoch(ts: str | None) -> float:
    """A timestamp of a get_session document as seconds since the epoch.
    Python 3.10's fromisoformat takes a fraction of 3 or 6 digits only."""
    if not ts:
        return 0.0
    ts = _FRACTION.sub(lambda m: m.group(0).ljust(6, "0")[:6], ts, count=1)
    return datetime.fromisoformat(ts).timestamp()


def _jsonable(value: Any) -> str:
    return json.dumps(to_jsonable_python(value))


# ADK's Session has one private string for the store's revision,
# _storage_update_marker.  This service keeps "<session_ref>:<version>" there:
# the id of the session row the object was read from (its incarnation) and the
# version of the event stream it has seen; "<version>" alone for a Session
# built by hand once it has appended (append_event returns no row id).


def _marker(session_ref: int | None, version: int) -> str:
    return f"{session_ref}:{version}" if session_ref is not None else str(version)


def _parse_marker(marker: str | None) -> tuple[int | None, int | None]:
    """(session_ref, expected version) of a session object; None for what it
    does not know, which the server then does not check."""
    if not marker:
        return None, None
    ref, _, version = marker.rpartition(":")
    try:
        return (int(ref) if ref else None), int(version)
    except ValueError:
        return None, None


class AgentstoreSessionService(BaseSessionService):
    """ADK sessions in PostgreSQL with the agentstore extension.

    ``conn`` is a psycopg ``AsyncConnection``, an ``AsyncConnectionPool``, or
    a connection string (the service then opens a pool of its own on first
    use; ``await service.close()`` closes it).  ``ttl`` is a PostgreSQL
    interval given to new sessions; by default ``agentstore.session_ttl``.

    Example::

        service = AgentstoreSessionService("postgresql://app@db/app")
        runner = Runner(agent=agent, app_name="app", session_service=service)
    """

    def __init__(self, conn: AsyncConn | str, *, ttl: str | None = None, pool_size: int = 10) -> None:
        self._owns_pool = isinstance(conn, str)
        if isinstance(conn, str):
            conn = AsyncConnectionPool(
                conn, min_size=1, max_size=pool_size, kwargs={"autocommit": True}, open=False
            )
        self.conn: AsyncConn = conn
        self.ttl = ttl
        self._opened = not self._owns_pool

    @classmethod
    @asynccontextmanager
    async def from_conn_string(
        cls, conn_string: str, **kwargs: Any
    ) -> AsyncIterator[AgentstoreSessionService]:
        """A service with its own pool, closed when the block ends."""
        service = cls(conn_string, **kwargs)
        try:
            yield service
        finally:
            await service.close()

    async def _fetch(self, sql: str, params: Any) -> list[dict]:
        if not self._opened:
            await self.conn.open()  # type: ignore[union-attr]
            self._opened = True
        return await afetch(self.conn, sql, params)

    async def setup(self) -> str:
        """Check that the database has the agentstore extension; returns its
        version, or raises ExtensionMissingError saying how to install it."""
        if not self._opened:
            await self.conn.open()  # type: ignore[union-attr]
            self._opened = True
        return await acheck_extension(self.conn)

    async def close(self) -> None:
        """Close the pool the service opened itself."""
        if self._owns_pool and self._opened:
            await self.conn.close()  # type: ignore[union-attr]
            self._opened = False

    # -- conversions -------------------------------------------------------

    @staticmethod
    def _session(doc: dict, events: list[Event] | None = None) -> Session:
        """A get_session document as ADK's Session."""
        if events is None:
            events = [Event.model_validate(e) for e in doc.get("events") or []]
        session = Session(
            id=doc["session_id"],
            app_name=doc["app_name"],
            user_id=doc["user_id"],
            state=doc.get("state") or {},
            events=events,
            # The newest event's timestamp; without one, the server's time of
            # the last write.
            last_update_time=events[-1].timestamp if events else _epoch(doc.get("updated_at")),
        )
        session._storage_update_marker = _marker(doc["id"], doc.get("version", 0))
        return session

    # -- BaseSessionService ------------------------------------------------

    async def create_session(
        self,
        *,
        app_name: str,
        user_id: str,
        state: Optional[dict[str, Any]] = None,
        session_id: Optional[str] = None,
    ) -> Session:
        session_id = session_id.strip() if session_id else None
        given = dict(state or {})
        try:
            rows = await self._fetch(
                CREATE_SQL,
                (app_name, user_id, session_id or None, _jsonable(given), self.ttl),
            )
        except psycopg.Error as e:
            if e.sqlstate == UNIQUE_VIOLATION:
                raise AlreadyExistsError(f"Session with id {session_id} already exists.") from e
            raise
        row = rows[0]
        merged = dict(row["state"])
        app_state = dict(row["app_state"] or {})
        user_state = dict(row["user_state"] or {})
        for key, value in given.items():
            if key.startswith(State.APP_PREFIX):
                scope, name = app_state, key[len(State.APP_PREFIX):]
            elif key.startswith(State.USER_PREFIX):
                scope, name = user_state, key[len(State.USER_PREFIX):]
            else:
                continue
            if value is None:  # the server removes a key written as null
                scope.pop(name, None)
            else:
                scope[name] = value
        merged.update({State.APP_PREFIX + k: v for k, v in app_state.items()})
        merged.update({State.USER_PREFIX + k: v for k, v in user_state.items()})
        session = Session(
            id=row["session_id"],
            app_name=app_name,
            user_id=user_id,
            state=json.loads(json.dumps(merged)),
            last_update_time=row["updated_at"].timestamp(),
        )
        session._storage_update_marker = _marker(row["id"], 0)
        return session

    async def get_session(
        self,
        *,
        app_name: str,
        user_id: str,
        session_id: str,
        config: Optional[GetSessionConfig] = None,
    ) -> Optional[Session]:
        session_id = session_id.strip() if session_id else session_id
        limit = config.num_recent_events if config else None
        after = config.after_timestamp if config else None
        rows = await self._fetch(
            GET_SQL,
            (
                app_name,
                user_id,
                session_id,
                limit,
                datetime.fromtimestamp(after, tz=timezone.utc) if after is not None else None,
            ),
        )
        doc = rows[0]["s"] if rows else None
        if doc is None:
            return None
        events = [Event.model_validate(e) for e in doc.get("events") or []]
        if after is not None:
            # The server keeps the events stored at or after after_timestamp;
            # ADK's rule is on the events' own timestamps: the events after
            # the newest one older than after_timestamp.
            i = len(events) - 1
            while i >= 0 and events[i].timestamp >= after:
                i -= 1
            events = events[i + 1 :]
        return self._session(doc, events)

    async def list_sessions(
        self, *, app_name: str, user_id: Optional[str] = None
    ) -> ListSessionsResponse:
        rows = await self._fetch(LIST_SQL, {"app": app_name, "user": user_id})
        sessions = []
        for row in rows:
            doc = row["s"]
            if doc is None:  # deleted since the page was read
                continue
            session = self._session(doc)
            session.events = []
            sessions.append(session)
        # ADK's order: least recently updated first.
        sessions.sort(key=lambda s: (s.last_update_time, s.user_id, s.id))
        return ListSessionsResponse(sessions=sessions)

    async def delete_session(self, *, app_name: str, user_id: str, session_id: str) -> None:
        session_id = session_id.strip() if session_id else session_id
        await self._fetch(DELETE_SQL, (app_name, user_id, session_id))

    async def get_user_state(self, *, app_name: str, user_id: str) -> dict[str, Any]:
        rows = await self._fetch(USER_STATE_SQL, (app_name, user_id))
        return dict(rows[0]["s"] or {}) if rows else {}

    async def append_event(self, session: Session, event: Event) -> Event:
        if event.partial:
            return event
        # temp: keys live in the session object for this invocation only.
        self._apply_temp_state(session, event)
        event = self._trim_temp_delta_state(event)
        delta = event.actions.state_delta if event.actions and event.actions.state_delta else None
        session_ref, expected = _parse_marker(session._storage_update_marker)
        try:
            rows = await self._fetch(
                APPEND_SQL,
                (
                    session.app_name,
                    session.user_id,
                    session.id,
                    event.model_dump_json(exclude_none=True),
                    _jsonable(delta) if delta else None,
                    expected,
                    session_ref,
                ),
            )
        except psycopg.Error as e:
            if e.sqlstate == WRONG_EXPECTED_VERSION:
                raise StaleSessionError(
                    f"Session {session.id} was changed by another writer since it was read:"
                    " reload it with get_session() and retry."
                ) from e
            if e.sqlstate == STALE_SESSION:
                raise StaleSessionError(
                    f"Session {session.id} was deleted and created again since it was read:"
                    " reload it with get_session() and retry."
                ) from e
            if e.sqlstate == NO_DATA_FOUND:
                raise SessionNotFoundError(f"Session {session.id} not found.") from e
            raise
        version = rows[0]["version"]
        # A retried event (an id the stream holds) returns its old version.
        if expected is None or version > expected:
            session._storage_update_marker = _marker(session_ref, version)
        self._commit_event_to_session(session, event)
        session.last_update_time = event.timestamp
        return event
