"""The rules Google ADK's session services follow, as one set of assertions
run against ADK's own InMemorySessionService and DatabaseSessionService (on
the test database, its tables in a schema of their own) and against
AgentstoreSessionService side by side: any divergence fails one of them.
Where ADK's two services differ from each other, the test says so and why.
Rules only a persistent service has (stale session objects) are checked on
DatabaseSessionService and agentstore."""

import time
import uuid
from urllib.parse import quote, urlencode

import pytest
from google.adk.errors.already_exists_error import AlreadyExistsError
from google.adk.errors.session_not_found_error import SessionNotFoundError
from google.adk.events.event import Event
from google.adk.events.event_actions import EventActions
from google.adk.sessions.base_session_service import GetSessionConfig
from google.adk.sessions.database_session_service import DatabaseSessionService
from google.adk.sessions.in_memory_session_service import InMemorySessionService
from google.genai import types
from psycopg import AsyncConnection, Connection
from psycopg.conninfo import conninfo_to_dict

from agentstore.adk import AgentstoreSessionService, StaleSessionError


# DatabaseSessionService's tables go into a schema of their own of the test
# database (it creates them on first use).
DATABASE_SESSION_SERVICE_SCHEMA = "adk_database_session_service"


@pytest.fixture(scope="module")
def database_url(dsn: str) -> str:
    """The SQLAlchemy URL of the test database for ADK's
    DatabaseSessionService (psycopg 3), on its own schema, created afresh."""
    with Connection.connect(dsn, autocommit=True) as c:
        c.execute(f"DROP SCHEMA IF EXISTS {DATABASE_SESSION_SERVICE_SCHEMA} CASCADE")
        c.execute(f"CREATE SCHEMA {DATABASE_SESSION_SERVICE_SCHEMA}")
    info = conninfo_to_dict(dsn)
    query = {k: v for k, v in info.items() if k not in ("user", "password", "dbname")}
    query["options"] = f"-csearch_path={DATABASE_SESSION_SERVICE_SCHEMA}"
    user = quote(info.get("user", ""), safe="")
    if info.get("password"):
        user += ":" + quote(info["password"], safe="")
    dbname = quote(info.get("dbname", ""), safe="")
    return f"postgresql+psycopg://{user}@/{dbname}?{urlencode(query)}"


@pytest.fixture(params=["in-memory", "database", "agentstore"])
async def service(request, dsn, database_url):
    if request.param == "in-memory":
        yield InMemorySessionService()
    elif request.param == "database":
        db = DatabaseSessionService(database_url)
        yield db
        await db.close()
    else:
        async with await AsyncConnection.connect(dsn, autocommit=True) as conn:
            yield AgentstoreSessionService(conn)


@pytest.fixture
def app() -> str:
    """An app name of the test's own, so that tests share no app or user state."""
    return f"app-{uuid.uuid4().hex[:12]}"


def event(author="user", text=None, delta=None, ts=None, partial=None, inv="inv-1") -> Event:
    return Event(
        invocation_id=inv,
        author=author,
        content=types.Content(role="user" if author == "user" else "model", parts=[types.Part(text=text)]) if text else None,
        actions=EventActions(state_delta=delta or {}),
        timestamp=ts if ts is not None else time.time(),
        partial=partial,
    )


async def test_create_and_get(service, app):
    s = await service.create_session(app_name=app, user_id="u", state={"k": "v", "n": 1})
    assert s.id and s.app_name == app and s.user_id == "u"
    assert s.state == {"k": "v", "n": 1} and s.events == []
    got = await service.get_session(app_name=app, user_id="u", session_id=s.id)
    assert got.id == s.id and got.state == {"k": "v", "n": 1} and got.events == []


async def test_given_session_id_and_missing_session(service, app):
    s = await service.create_session(app_name=app, user_id="u", session_id="chosen")
    assert s.id == "chosen"
    assert await service.get_session(app_name=app, user_id="u", session_id="other") is None
    assert await service.get_session(app_name=f"{app}-x", user_id="u", session_id="chosen") is None


async def test_duplicate_id_is_already_exists(service, app):
    await service.create_session(app_name=app, user_id="u", session_id="dup", state={"a": 1})
    with pytest.raises(AlreadyExistsError):
        await service.create_session(app_name=app, user_id="u", session_id="dup", state={"a": 2})
    got = await service.get_session(app_name=app, user_id="u", session_id="dup")
    assert got.state == {"a": 1}


async def test_sessions_are_scoped_by_user(service, app):
    await service.create_session(app_name=app, user_id="alice", session_id="same", state={"who": "alice"})
    await service.create_session(app_name=app, user_id="bob", session_id="same", state={"who": "bob"})
    a = await service.get_session(app_name=app, user_id="alice", session_id="same")
    b = await service.get_session(app_name=app, user_id="bob", session_id="same")
    assert a.state == {"who": "alice"} and b.state == {"who": "bob"}
    assert await service.get_session(app_name=app, user_id="carol", session_id="same") is None


async def test_state_scopes_at_creation(service, app):
    s = await service.create_session(
        app_name=app,
        user_id="u",
        state={"plain": 1, "app:shared": "A", "user:pref": "P", "temp:scratch": "T"},
    )
    assert s.state == {"plain": 1, "app:shared": "A", "user:pref": "P"}
    # A second session of the same user sees app and user state, not the first's own.
    s2 = await service.create_session(app_name=app, user_id="u", state={"own": 2})
    assert s2.state == {"own": 2, "app:shared": "A", "user:pref": "P"}
    # Another user sees app state only.
    s3 = await service.create_session(app_name=app, user_id="v")
    assert s3.state == {"app:shared": "A"}
    got = await service.get_session(app_name=app, user_id="u", session_id=s.id)
    assert got.state == {"plain": 1, "app:shared": "A", "user:pref": "P"}


async def test_append_event_state_delta_and_temp(service, app):
    s = await service.create_session(app_name=app, user_id="u", state={"a": 1, "keep": True})
    e = event(delta={"a": 2, "b": {"nested": [1, 2]}, "app:x": 10, "user:y": 20, "temp:t": "gone"})
    returned = await service.append_event(s, e)
    # temp: is applied to the session object for this invocation...
    assert s.state["temp:t"] == "gone"
    assert s.state["a"] == 2 and s.state["app:x"] == 10 and s.state["user:y"] == 20
    # ...and trimmed from the event that is stored.
    assert "temp:t" not in returned.actions.state_delta
    got = await service.get_session(app_name=app, user_id="u", session_id=s.id)
    assert got.state == {"a": 2, "keep": True, "b": {"nested": [1, 2]}, "app:x": 10, "user:y": 20}
    assert len(got.events) == 1
    assert got.events[0].actions.state_delta == {"a": 2, "b": {"nested": [1, 2]}, "app:x": 10, "user:y": 20}
    # Shared state reaches the user's and the app's other sessions.
    other = await service.create_session(app_name=app, user_id="u")
    assert other.state == {"app:x": 10, "user:y": 20}
    stranger = await service.create_session(app_name=app, user_id="w")
    assert stranger.state == {"app:x": 10}
    assert await service.get_user_state(app_name=app, user_id="u") == {"y": 20}
    assert await service.get_user_state(app_name=app, user_id="w") == {}


async def test_partial_events_are_not_stored(service, app):
    s = await service.create_session(app_name=app, user_id="u")
    await service.append_event(s, event(text="stream", partial=True, delta={"p": 1}))
    await service.append_event(s, event(text="final"))
    got = await service.get_session(app_name=app, user_id="u", session_id=s.id)
    assert [e.content.parts[0].text for e in got.events] == ["final"]
    assert "p" not in got.state


async def test_events_round_trip_in_append_order(service, app):
    s = await service.create_session(app_name=app, user_id="u")
    ts = time.time() - 50
    sent = []
    for i in range(5):
        # equal timestamps: the order is the order of appends
        e = event(author="user" if i % 2 == 0 else "agent", text=f"m{i}", ts=ts)
        sent.append(await service.append_event(s, e))
    call = Event(
        invocation_id="inv-2",
        author="agent",
        content=types.Content(
            role="model",
            parts=[types.Part(function_call=types.FunctionCall(id="c1", name="lookup", args={"q": "x"}))],
        ),
        timestamp=ts + 1,
    )
    sent.append(await service.append_event(s, call))
    got = await service.get_session(app_name=app, user_id="u", session_id=s.id)
    if isinstance(service, DatabaseSessionService):
        # DatabaseSessionService orders events by timestamp, then event id
        # (random here), not in append order.  agentstore keeps the append
        # order, as InMemorySessionService does.
        key = lambda e: (e.timestamp, e.id)  # noqa: E731
        got.events.sort(key=key)
        sent.sort(key=key)
    assert [e.id for e in got.events] == [e.id for e in sent]
    assert [e.model_dump() for e in got.events] == [e.model_dump() for e in sent]
    assert got.events[-1].get_function_calls()[0].args == {"q": "x"}


async def test_event_windows(service, app):
    s = await service.create_session(app_name=app, user_id="u")
    t0 = time.time() - 100
    for i in range(1, 6):
        await service.append_event(s, event(text=f"e{i}", ts=t0 + i))

    async def texts(config):
        got = await service.get_session(app_name=app, user_id="u", session_id=s.id, config=config)
        return [e.content.parts[0].text for e in got.events]

    assert await texts(None) == ["e1", "e2", "e3", "e4", "e5"]
    assert await texts(GetSessionConfig(num_recent_events=2)) == ["e4", "e5"]
    assert await texts(GetSessionConfig(num_recent_events=10)) == ["e1", "e2", "e3", "e4", "e5"]
    assert await texts(GetSessionConfig(num_recent_events=0)) == []
    assert await texts(GetSessionConfig(after_timestamp=t0 + 3)) == ["e3", "e4", "e5"]
    assert await texts(GetSessionConfig(after_timestamp=t0 + 3.5)) == ["e4", "e5"]
    assert await texts(GetSessionConfig(num_recent_events=4, after_timestamp=t0 + 3)) == ["e3", "e4", "e5"]
    assert await texts(GetSessionConfig(num_recent_events=1, after_timestamp=t0 + 3)) == ["e5"]
    # The state is whole whatever the window.
    got = await service.get_session(
        app_name=app, user_id="u", session_id=s.id, config=GetSessionConfig(num_recent_events=0)
    )
    assert got.id == s.id


async def test_last_update_time_follows_events(service, app):
    s = await service.create_session(app_name=app, user_id="u")
    assert abs(s.last_update_time - time.time()) < 60
    ts = time.time() - 30
    await service.append_event(s, event(text="x", ts=ts))
    if isinstance(service, DatabaseSessionService):
        # DatabaseSessionService gives the object the stored update time,
        # which PostgreSQL keeps to the microsecond; the others the event's.
        assert s.last_update_time == pytest.approx(ts, abs=1e-6)
    else:
        assert s.last_update_time == ts
    got = await service.get_session(app_name=app, user_id="u", session_id=s.id)
    assert got.last_update_time == pytest.approx(ts, abs=1e-6)


async def test_list_sessions(service, app):
    a1 = await service.create_session(app_name=app, user_id="alice", state={"n": 1, "user:u": "a"})
    b1 = await service.create_session(app_name=app, user_id="bob", state={"app:g": "G"})
    a2 = await service.create_session(app_name=app, user_id="alice", state={"n": 2})
    # a1 becomes the most recently updated
    await service.append_event(a1, event(text="hi", ts=time.time() + 0.5))

    alice = (await service.list_sessions(app_name=app, user_id="alice")).sessions
    assert [s.id for s in alice] == [a2.id, a1.id]  # least recently updated first
    assert all(s.events == [] for s in alice)
    assert {s.id: s.state for s in alice} == {
        a1.id: {"n": 1, "user:u": "a", "app:g": "G"},
        a2.id: {"n": 2, "user:u": "a", "app:g": "G"},
    }
    everyone = (await service.list_sessions(app_name=app)).sessions
    assert {(s.user_id, s.id) for s in everyone} == {
        ("alice", a1.id), ("alice", a2.id), ("bob", b1.id)
    }
    assert [s.id for s in everyone][-1] == a1.id
    assert (await service.list_sessions(app_name=app, user_id="nobody")).sessions == []
    assert (await service.list_sessions(app_name=f"{app}-none")).sessions == []


async def test_delete_session(service, app):
    s = await service.create_session(app_name=app, user_id="u", session_id="gone", state={"a": 1})
    await service.append_event(s, event(text="x", delta={"user:kept": 1}))
    await service.delete_session(app_name=app, user_id="u", session_id="gone")
    assert await service.get_session(app_name=app, user_id="u", session_id="gone") is None
    assert (await service.list_sessions(app_name=app, user_id="u")).sessions == []
    # deleting what does not exist is not an error
    await service.delete_session(app_name=app, user_id="u", session_id="gone")
    await service.delete_session(app_name=app, user_id="u", session_id="never")
    # appending to a deleted session fails
    with pytest.raises(SessionNotFoundError):
        await service.append_event(s, event(text="late"))
    # the id can be created again, empty; user state outlives the session
    again = await service.create_session(app_name=app, user_id="u", session_id="gone")
    assert again.state == {"user:kept": 1}
    got = await service.get_session(app_name=app, user_id="u", session_id="gone")
    assert got.events == []


async def test_append_to_missing_session(service, app):
    await service.create_session(app_name=app, user_id="u", session_id="real")
    real = await service.get_session(app_name=app, user_id="u", session_id="real")
    ghost = real.model_copy(update={"id": "ghost"})
    with pytest.raises(SessionNotFoundError):
        await service.append_event(ghost, event(text="x"))


@pytest.fixture(params=["database", "agentstore"])
async def persistent_service(request, dsn, database_url):
    """The services whose session objects can go stale: ADK's
    DatabaseSessionService and agentstore's.  (InMemorySessionService hands
    out copies and never raises StaleSessionError.)"""
    if request.param == "database":
        db = DatabaseSessionService(database_url)
        yield db
        await db.close()
    else:
        async with await AsyncConnection.connect(dsn, autocommit=True) as conn:
            yield AgentstoreSessionService(conn)


async def texts_and_state(service, app, session_id="s"):
    got = await service.get_session(app_name=app, user_id="u", session_id=session_id)
    return [e.content.parts[0].text for e in got.events], got.state


async def test_stale_session_object_is_rejected(persistent_service, app):
    """Two session objects of one session: once one has appended, the other
    cannot, and nothing is stored."""
    service = persistent_service
    await service.create_session(app_name=app, user_id="u", session_id="s", state={"n": 0})
    first = await service.get_session(app_name=app, user_id="u", session_id="s")
    second = await service.get_session(app_name=app, user_id="u", session_id="s")
    await service.append_event(first, event(text="one", delta={"n": 1}))
    with pytest.raises(StaleSessionError):
        await service.append_event(second, event(text="two", delta={"n": 2}))
    assert await texts_and_state(service, app) == (["one"], {"n": 1})
    # The session object that wrote last goes on; a reloaded one too.
    await service.append_event(first, event(text="three"))
    reloaded = await service.get_session(app_name=app, user_id="u", session_id="s")
    await service.append_event(reloaded, event(text="four", delta={"n": 4}))
    assert await texts_and_state(service, app) == (["one", "three", "four"], {"n": 4})


@pytest.mark.parametrize("events_before", [0, 1])
async def test_session_deleted_and_created_again(persistent_service, app, events_before):
    """A session object of a session that was deleted and created again under
    the same id is stale, even when the new session's events are as many as
    the old object saw (none, or one each): appending through it is refused
    and stores nothing; the new session's own object appends."""
    service = persistent_service
    old = await service.create_session(app_name=app, user_id="u", session_id="s", state={"v": "old"})
    for i in range(events_before):
        await service.append_event(old, event(text=f"old{i}"))
    await service.delete_session(app_name=app, user_id="u", session_id="s")
    new = await service.create_session(app_name=app, user_id="u", session_id="s", state={"v": "new"})
    for i in range(events_before):
        await service.append_event(new, event(text=f"new{i}"))
    new_texts = [f"new{i}" for i in range(events_before)]
    with pytest.raises(StaleSessionError):
        await service.append_event(old, event(text="late", delta={"v": "late"}))
    assert await texts_and_state(service, app) == (new_texts, {"v": "new"})
    await service.append_event(new, event(text="next"))
    assert await texts_and_state(service, app) == (new_texts + ["next"], {"v": "new"})


async def test_setup_and_pool(dsn, app):
    async with AgentstoreSessionService.from_conn_string(dsn) as service:
        assert await service.setup()
        s = await service.create_session(app_name=app, user_id="u")
        assert (await service.get_session(app_name=app, user_id="u", session_id=s.id)).id == s.id


async def test_agentstore_null_app_and_user_keys_remove(dsn, app):
    """agentstore's state rule: an app:/user: key written as None is removed
    (ADK's services store None). create_session's result says so too, as the
    next read does, although the statement that creates the session reads app
    and user state from before it."""
    async with await AsyncConnection.connect(dsn, autocommit=True) as conn:
        service = AgentstoreSessionService(conn)
        await service.create_session(app_name=app, user_id="u", state={"app:a": 1, "user:b": 2})
        s = await service.create_session(
            app_name=app, user_id="u", state={"app:a": None, "user:b": 3, "app:c": 4}
        )
        got = await service.get_session(app_name=app, user_id="u", session_id=s.id)
        assert s.state == got.state == {"user:b": 3, "app:c": 4}


def test_epoch_of_fractions_without_trailing_zeros(monkeypatch):
    """PostgreSQL prints ".12345" and ".1"; Python 3.10's fromisoformat takes
    3 or 6 digits only (emulated here: this machine's Python takes any)."""
    import re
    from datetime import datetime as real_datetime

    import agentstore.adk as adk

    class Py310Datetime(real_datetime):
        @classmethod
        def fromisoformat(cls, s):
            m = re.search(r":\d\d\.(\d+)", s)
            if m and len(m.group(1)) not in (3, 6):
                raise ValueError(f"Invalid isoformat string: {s!r}")
            return real_datetime.fromisoformat(s)

    monkeypatch.setattr(adk, "datetime", Py310Datetime)
    assert adk._epoch("2026-12-01T12:00:00.12345+00:00") == 1796126400.12345
    assert adk._epoch("2026-12-01T12:00:00.1+00:00") == 1796126400.1
    assert adk._epoch("2026-12-01T12:00:00+00:00") == 1796126400.0
    assert adk._epoch(None) == 0.0
