"""The Python example of docs/clients.md, run by test/suites/drivers.sh
against a throwaway cluster (PG* variables): COPY into
agentstore.session_import with psycopg 3's cursor.copy() and a call with jsonb
parameters.  Prints one "ok - ..." or "not ok - ..." line per check."""
import sys

import psycopg
from psycopg.types.json import Jsonb

failed = False


def check(name, ok, detail=""):
    global failed
    print(("ok" if ok else "not ok") + " - python: " + name + ("" if ok else f" {detail}"))
    failed = failed or not ok


sessions = [("drivers-py", "s1", "ann", {"topic": "py"}),
            ("drivers-py", "s2", "ann", {"topic": "py"}),
            ("drivers-py", "s3", "bob", None)]

with psycopg.connect() as conn, conn.cursor() as cur:
    with cur.copy("COPY agentstore.session_import (app_name, session_id, user_id, state)"
                  " FROM STDIN") as copy:
        for app, sid, user, state in sessions:
            copy.write_row((app, sid, user, Jsonb(state) if state is not None else None))
    inserted, updated = cur.execute(
        "SELECT inserted, updated FROM agentstore.session_import_result()").fetchone()
    check("cursor.copy() imports 3 new sessions", (inserted, updated) == (3, 0), (inserted, updated))

    version, = cur.execute(
        "SELECT version FROM agentstore.append_event(%s, %s, %s, %s, %s)",
        ("drivers-py", "ann", "s1", Jsonb({"id": "e-1", "author": "user"}), Jsonb({"turn": 1}))
    ).fetchone()
    check("append_event with Jsonb parameters", version == 1, version)

    turn, = cur.execute(
        "SELECT agentstore.get_session('drivers-py', 'ann', 's1') -> 'state' ->> 'turn'").fetchone()
    check("the state delta was applied", turn == "1", turn)

    # append_events with the events as a plain str: the untyped parameter
    # resolves to the text form; as Jsonb to the jsonb form.  Same result.
    r1 = cur.execute("SELECT last_version FROM agentstore.append_events(%s, %s)",
                     ("order-py", '[{"type": "a"}, {"type": "b"}]')).fetchone()
    r2 = cur.execute("SELECT last_version FROM agentstore.append_events(%s, %s)",
                     ("order-py", Jsonb([{"type": "c"}]))).fetchone()
    check("append_events with str and with Jsonb", (r1[0], r2[0]) == (2, 3), (r1, r2))

sys.exit(1 if failed else 0)
