#!/usr/bin/env bash
# The documentation is complete and cannot drift from the code.  On a
# throwaway cluster of its own (Unix socket only, in a directory of its own),
# with agentstore installed, checks that
#   - every public function of the schema agentstore has a COMMENT;
#   - docs/api.md is exactly what scripts/gen-api-docs.sh prints;
#   - every public function is named in README.md or a feature document
#     (docs/*.md other than the generated docs/api.md);
#   - every agentstore.* setting of pg_settings is in docs/configuration.md;
#   - META.json names the documentation (docfile) and every file it names exists;
#   - README.md links every file of docs/, and every relative link of README.md
#     and docs/*.md points at a file that exists;
#   - every SQL block of README.md runs, in order, on a fresh database.
# Run by scripts/test.sh, as root, with WORK (the scratch copy of the
# repository, agentstore installed) and PG_BINDIR in the environment; prints
# "docs: N passed, N failed".
set -euo pipefail

: "${WORK:?WORK is not set}" "${PG_BINDIR:?PG_BINDIR is not set}"
passed=0
failed=0
pass() { passed=$((passed + 1)); echo "ok - $1"; }
fail() { failed=$((failed + 1)); echo "not ok - $1"; }

DIR=$(mktemp -d /tmp/agentstore-docs.XXXXXX)
chown postgres: "$DIR"
PORT=5497
as_pg() { runuser -u postgres -- "$@"; }
cleanup() {
	as_pg "$PG_BINDIR/pg_ctl" -D "$DIR/data" -m immediate stop >/dev/null 2>&1 || true
	[ -z "${LOGDIR:-}" ] || cp "$DIR/server.log" "$LOGDIR/docs_server.log" 2>/dev/null || true
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
q() { as_pg "$PG_BINDIR/psql" -h "$DIR" -p $PORT -d docs -qAtX -v ON_ERROR_STOP=1 "$@"; }
as_pg "$PG_BINDIR/psql" -h "$DIR" -p $PORT -d postgres -qAtX -c "CREATE DATABASE docs"
q -c "CREATE EXTENSION agentstore"

cd "$WORK"
PUBLIC_FUNCS="SELECT DISTINCT p.proname FROM pg_catalog.pg_proc p
 WHERE p.pronamespace = 'agentstore'::regnamespace AND p.proname !~ '^_' ORDER BY 1"

# 1. every public function has a comment
missing=$(q -c "SELECT p.oid::regprocedure FROM pg_catalog.pg_proc p
 WHERE p.pronamespace = 'agentstore'::regnamespace AND p.proname !~ '^_'
   AND pg_catalog.obj_description(p.oid, 'pg_proc') IS NULL ORDER BY 1")
if [ -z "$missing" ]; then
	pass "every public function has a COMMENT"
else
	fail "public functions without a COMMENT (add COMMENT ON FUNCTION next to them in sql/): $(echo $missing)"
fi

# 2. docs/api.md is generated
generated="$DIR/api.md"
as_pg env PGHOST="$DIR" PGPORT=$PORT PGDATABASE=docs PSQL="$PG_BINDIR/psql" \
	bash "$WORK/scripts/gen-api-docs.sh" >"$generated"
if [ -s "$generated" ] && diff -u docs/api.md "$generated" >"$DIR/api.diff"; then
	pass "docs/api.md equals what scripts/gen-api-docs.sh prints"
else
	cat "$DIR/api.diff" 2>/dev/null | head -n 60
	fail "docs/api.md is out of date: regenerate it with scripts/gen-api-docs.sh"
fi

# 3. every public function is documented in prose
feature_docs=(README.md)
for f in docs/*.md; do
	[ "$f" = docs/api.md ] || feature_docs+=("$f")
done
undocumented=()
while IFS= read -r fn; do
	[ -n "$fn" ] || continue
	grep -qw -- "$fn" "${feature_docs[@]}" || undocumented+=("$fn")
done < <(q -c "$PUBLIC_FUNCS")
if [ ${#undocumented[@]} -eq 0 ]; then
	pass "every public function is named in README.md or docs/<feature>.md"
else
	fail "public functions named in no feature document: ${undocumented[*]}"
fi

# 4. every setting is in the configuration reference
unlisted=()
while IFS= read -r guc; do
	[ -n "$guc" ] || continue
	grep -qF -- "\`$guc\`" docs/configuration.md || unlisted+=("$guc")
done < <(q -c "SELECT name FROM pg_catalog.pg_settings WHERE name LIKE 'agentstore.%' ORDER BY 1")
if [ ${#unlisted[@]} -eq 0 ] && [ -n "$(q -c "SELECT 1 FROM pg_catalog.pg_settings WHERE name LIKE 'agentstore.%' LIMIT 1")" ]; then
	pass "every agentstore.* setting is in docs/configuration.md"
else
	fail "settings missing from docs/configuration.md: ${unlisted[*]:-(no agentstore.* setting found)}"
fi

# 5. META.json names the documentation
docfiles=$(sed -n 's/.*"docfile" *: *"\([^"]*\)".*/\1/p' META.json)
bad=""
for f in $docfiles; do [ -f "$f" ] || bad="$bad $f"; done
if [ -n "$docfiles" ] && [ -z "$bad" ]; then
	pass "META.json names the documentation ($(echo $docfiles))"
else
	fail "META.json: no docfile, or one that does not exist:${bad:- (none)}"
fi

# 6. README.md links every document; relative links resolve
unlinked=()
for f in docs/*.md; do
	grep -qF -- "($f" README.md || unlinked+=("$f")
done
if [ ${#unlinked[@]} -eq 0 ]; then
	pass "README.md links every file of docs/"
else
	fail "docs not linked from README.md: ${unlinked[*]}"
fi
broken=()
for f in README.md docs/*.md CHANGELOG.md; do
	[ -f "$f" ] || continue
	while IFS= read -r target; do
		target=${target%%#*}
		[ -n "$target" ] || continue
		[ -e "$(dirname "$f")/$target" ] || broken+=("$f -> $target")
	done < <(grep -oE '\]\([^)#:][^)]*\)' "$f" | sed 's/^](\(.*\))$/\1/' | grep -vE '^[a-z]+:' || true)
done
if [ ${#broken[@]} -eq 0 ]; then
	pass "every relative link of README.md and docs/ resolves"
else
	fail "broken links: ${broken[*]}"
fi

# 7. the README's SQL runs, block after block, on a fresh database
as_pg "$PG_BINDIR/psql" -h "$DIR" -p $PORT -d postgres -qAtX -c "CREATE DATABASE tour"
awk '/^```sql$/ { on = 1; next } /^```$/ { on = 0 } on' README.md >"$DIR/tour.sql"
chmod a+r "$DIR/tour.sql"
if [ -s "$DIR/tour.sql" ] &&
	as_pg "$PG_BINDIR/psql" -h "$DIR" -p $PORT -d tour -qAtX -v ON_ERROR_STOP=1 \
		-c "CREATE EXTENSION agentstore" -f "$DIR/tour.sql" >"$DIR/tour.out" 2>&1; then
	pass "every SQL block of README.md runs ($(grep -c '' "$DIR/tour.sql") lines)"
else
	cat "$DIR/tour.out"
	fail "a SQL block of README.md fails"
fi

echo "docs: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
