# Shared by scripts/demo.sh, scripts/test.sh and bench/run.sh: install what is
# missing, then build and install agentstore.  Source it; do not run it.
# Runs as root (PostgreSQL itself is run as the postgres user).

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
# Warnings are errors; the two disabled ones fire in PostgreSQL's own headers
# and in every V1 function that takes no arguments.
AGENTSTORE_COPT=${AGENTSTORE_COPT:--Wall -Wextra -Werror -Wno-unused-parameter -Wno-sign-compare}

# Debian packages every script needs; node and npm run the LangGraph client.
AGENTSTORE_PACKAGES="postgresql-15 postgresql-server-dev-15 postgresql-15-pgtap
libipc-run-perl make gcc"

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

require_root() {
	[ "$(id -u)" -eq 0 ] || die "run this as root (it installs packages and runs PostgreSQL as the postgres user)"
}

# Install the Debian packages that are missing, and nothing else.
install_packages() {
	local missing=() p
	for p in $AGENTSTORE_PACKAGES; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		log "installing ${missing[*]}"
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	fi
	id postgres >/dev/null 2>&1 || die "the postgres user does not exist"
	use_server "$PG_CONFIG"
}

# Point PG_CONFIG, PG_BINDIR and PG_PGXS_DIR at the server of pg_config $1.
use_server() {
	PG_CONFIG=$1
	[ -x "$PG_CONFIG" ] || die "no pg_config at $PG_CONFIG"
	PG_BINDIR=$("$PG_CONFIG" --bindir)
	PG_PGXS_DIR=$(cd "$(dirname "$("$PG_CONFIG" --pgxs)")/../.." && pwd)
}

# Copy the source tree to $1 (a work directory owned by postgres), build it
# there with warnings as errors, and install it into $PG_CONFIG's server.
build_and_install() {
	local work=$1
	rm -rf "$work"
	mkdir -p "$work"
	tar -C "$REPO" --exclude=.git --exclude=node_modules --exclude=./results \
		--exclude=./tmp_check --exclude='*.o' --exclude='*.so' -cf - . | tar -C "$work" -xf -
	log "building agentstore ($PG_CONFIG)"
	make -s -C "$work" PG_CONFIG="$PG_CONFIG" COPT="$AGENTSTORE_COPT" >"$work/build.log" 2>&1 ||
		{ cat "$work/build.log"; die "build failed"; }
	make -s -C "$work" PG_CONFIG="$PG_CONFIG" install >>"$work/build.log" 2>&1 ||
		{ cat "$work/build.log"; die "install failed"; }
	chown -R postgres: "$work"
}

# Run a command as the postgres user, keeping the environment it needs.
as_postgres() {
	runuser -u postgres -- env PATH="$PG_BINDIR:$PATH" "$@"
}
