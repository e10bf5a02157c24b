#!/usr/bin/env bash
# The Python clients in clients/python (the LangGraph checkpointers and the
# Google ADK session service) on a throwaway cluster of their own: LangGraph's
# conformance suite (langgraph-checkpoint-conformance), StateGraph end-to-end
# runs compared with InMemorySaver and langgraph-checkpoint-postgres's
# PostgresSaver (its tables in a schema of their own), the ADK behaviour suite
# run against InMemorySessionService and agentstore side by side, and an ADK
# Runner with a scripted model.  Run by scripts/test.sh, as root, with WORK
# (the scratch copy of the repository, owned by postgres, agentstore already
# installed), PG_BINDIR and LOGDIR in the environment; exits 0 when every
# test passed and none was skipped.  Prints pytest's summary and one line
#
#   python: N passed, M failed, K skipped
#
# counted from pytest's JUnit XML.  Needs python3 (>= 3.10) with venv and
# PyPI; installs the package with its pinned test dependencies into a virtual
# environment under $WORK.
set -euo pipefail

: "${WORK:?WORK is not set}" "${PG_BINDIR:?PG_BINDIR is not set}"
CLIENT="$WORK/clients/python"
log() { printf '==> python: %s\n' "$*" >&2; }

PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
	log "installing python3-venv"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv >/dev/null
	PYTHON=/usr/bin/python3
fi

# A cluster of our own: Unix socket only, in a short directory of our own.
DIR=$(mktemp -d /tmp/agentstore-python.XXXXXX)
chown postgres: "$DIR"
PORT=5498
as_pg() { runuser -u postgres -- "$@"; }
cleanup() {
	as_pg "$PG_BINDIR/pg_ctl" -D "$DIR/data" -m immediate stop >/dev/null 2>&1 || true
	# keep the server log for scripts/test.sh's log scan
	[ -z "${LOGDIR:-}" ] || cp "$DIR/server.log" "$LOGDIR/python_server.log" 2>/dev/null || true
	rm -rf "$DIR"
}
trap cleanup EXIT

as_pg "$PG_BINDIR/initdb" -D "$DIR/data" -A trust -U postgres >/dev/null
cat >>"$DIR/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$DIR'
port = $PORT
shared_preload_libraries = 'agentstore'
fsync = off
CONF
as_pg "$PG_BINDIR/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w start >/dev/null ||
	{ cat "$DIR/server.log"; exit 1; }
as_pg "$PG_BINDIR/psql" -h "$DIR" -p $PORT -d postgres -qAtX -v ON_ERROR_STOP=1 \
	-c "CREATE DATABASE agentstore_python"
as_pg "$PG_BINDIR/psql" -h "$DIR" -p $PORT -d agentstore_python -qAtX -v ON_ERROR_STOP=1 \
	-c "CREATE EXTENSION agentstore"
export AGENTSTORE_TEST_DSN="host=$DIR port=$PORT user=postgres dbname=agentstore_python"

VENV="$WORK/python-venv"
log "virtual environment $VENV"
rm -rf "$VENV"
"$PYTHON" -m venv "$VENV"
"$VENV/bin/pip" install -q --disable-pip-version-check "$CLIENT[test]"

log "pytest"
cd "$CLIENT"
status=0
"$VENV/bin/python" -m pytest -p no:cacheprovider -q -rfEs --junitxml="$DIR/junit.xml" tests ||
	status=$?

# Count individual tests from the JUnit XML; pytest's exit code 5 (no tests
# collected) is a failure like any other non-zero one.
if [ -s "$DIR/junit.xml" ]; then
	read -r passed failed skipped < <("$VENV/bin/python" - "$DIR/junit.xml" <<'PY'
import sys
import xml.etree.ElementTree as ET

root = ET.parse(sys.argv[1]).getroot()
suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
n = {k: sum(int(s.get(k, 0)) for s in suites) for k in ("tests", "failures", "errors", "skipped")}
print(n["tests"] - n["failures"] - n["errors"] - n["skipped"], n["failures"] + n["errors"], n["skipped"])
PY
)
else
	passed=0 failed=1 skipped=0
fi
[ "$status" -eq 0 ] || [ "$failed" -gt 0 ] || failed=1
echo "python: $passed passed, $failed failed, $skipped skipped"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ] && [ "$skipped" -eq 0 ] && [ "$passed" -gt 0 ]
