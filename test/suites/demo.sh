#!/usr/bin/env bash
# The README's demo command from a clone the postgres user cannot read: a
# read-only copy of the repository in a directory of mode 700 whose path has a
# space, as a clone in root's home would be.  Run by scripts/test.sh, as root,
# with WORK (the scratch copy of the repository) and PG_CONFIG in the
# environment; prints "demo: N passed, N failed".
set -euo pipefail

: "${WORK:?WORK is not set}" "${PG_CONFIG:?PG_CONFIG is not set}"
passed=0
failed=0
check() {
	if eval "$2"; then
		passed=$((passed + 1)); echo "ok - $1"
	else
		failed=$((failed + 1)); echo "not ok - $1"
	fi
}

HOME_LIKE=$(mktemp -d /tmp/agentstore-demo-home.XXXXXX)
chmod 700 "$HOME_LIKE"
CLONE="$HOME_LIKE/my clone"
DEMO="$(mktemp -d /tmp/agentstore-demo-run.XXXXXX)/demo"
chmod 755 "$(dirname "$DEMO")"
PORT=5498
cleanup() {
	runuser -u postgres -- "$("$PG_CONFIG" --bindir)/pg_ctl" -D "$DEMO/data" -m immediate stop >/dev/null 2>&1 || true
	rm -rf "$HOME_LIKE" "$(dirname "$DEMO")"
}
trap cleanup EXIT

mkdir -p "$CLONE"
tar -C "$WORK" --exclude=./out_regress --exclude=./out_isolation --exclude=./tmp_check \
	--exclude=./node --exclude=node_modules --exclude='tmp_*' --exclude=./logs \
	--exclude='*.o' --exclude='*.so' -cf - . | tar -C "$CLONE" -xf -
chmod -R a-w "$CLONE"
listing() { find "$CLONE" -printf '%p %s %T@\n' | sort | md5sum; }
before=$(listing)
check "postgres cannot read the clone" "! runuser -u postgres -- test -r '$CLONE/scripts/walkthrough.sql'"

status=0
AGENTSTORE_DEMO_DIR="$DEMO" AGENTSTORE_DEMO_PORT=$PORT PG_CONFIG="$PG_CONFIG" \
	bash "$CLONE/scripts/demo.sh" </dev/null >"$WORK/demo.out" 2>&1 || status=$?
cat "$WORK/demo.out"
check "bash scripts/demo.sh exits 0" "[ $status -eq 0 ]"
check "the walkthrough ran to its end" "grep -q 'agentstore is running' '$WORK/demo.out'"
check "the walkthrough's statements ran" "grep -q 'get_or_create_session' '$WORK/demo.out'"
check "the demo server answers" "runuser -u postgres -- '$("$PG_CONFIG" --bindir)/psql' -h '$DEMO' -p $PORT -d agentstore_demo -qAtX -c 'SELECT agentstore.preloaded()' | grep -q t"
check "nothing was written into the clone" "[ \"\$(listing)\" = '$before' ]"
[ -z "${LOGDIR:-}" ] || cp "$DEMO/server.log" "$LOGDIR/demo_server.log" 2>/dev/null || true

echo "demo: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
