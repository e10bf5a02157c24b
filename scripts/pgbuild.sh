#!/usr/bin/env bash
# Build a PostgreSQL server from Debian's source package and install it under
# a prefix of its own, cached outside the clone:
#
#   bash scripts/pgbuild.sh MAJOR [cassert|release]
#
# prints the prefix's pg_config path on its last line.  A second call with the
# same arguments reuses the cached build (a stamp file marks it complete).
#
# MAJOR 15 comes from bookworm's main archive, 17 from trixie and 18 from sid:
# only their source packages are used (deb-src entries), never their binaries.
# "cassert" configures --enable-cassert --enable-debug (CLOBBER_FREED_MEMORY,
# MEMORY_CONTEXT_CHECKING); "release" is an ordinary optimised build.  The
# isolation tester, pg_regress, the TAP modules and pgTAP are installed too, so
# the whole suite runs against the prefix.
#
# Environment: AGENTSTORE_PGCACHE (default /var/cache/agentstore).
set -euo pipefail
source "$(dirname "$0")/common.sh"

MAJOR=${1:?usage: pgbuild.sh MAJOR [cassert|release]}
FLAVOR=${2:-cassert}
CACHE=${AGENTSTORE_PGCACHE:-/var/cache/agentstore}
PREFIX="$CACHE/pg$MAJOR-$FLAVOR"
STAMP="$PREFIX/.agentstore-built"

require_root
if [ -f "$STAMP" ] && [ -x "$PREFIX/bin/pg_config" ]; then
	echo "$PREFIX/bin/pg_config"
	exit 0
fi

case "$MAJOR" in
15) SUITE=bookworm ;;
17) SUITE=trixie ;;
18) SUITE=sid ;;
*) die "no Debian suite known for PostgreSQL $MAJOR" ;;
esac
case "$FLAVOR" in
cassert) CONF_FLAVOR="--enable-cassert --enable-debug CFLAGS=-O1" ;;
release) CONF_FLAVOR="CFLAGS=-O2" ;;
*) die "flavor must be cassert or release" ;;
esac

# Source entries only: binaries from other suites never reach this machine.
SRCLIST=/etc/apt/sources.list.d/agentstore-src.sources
if [ ! -f "$SRCLIST" ] || ! grep -q "Suites:.*\b$SUITE\b" "$SRCLIST"; then
	log "enabling Debian source packages (bookworm, trixie, sid)"
	cat >"$SRCLIST" <<'EOF'
# Written by agentstore's scripts/pgbuild.sh: source packages only.
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm trixie sid
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
	apt-get update -qq
fi

BUILD_PACKAGES="gcc make bison flex zlib1g-dev libipc-run-perl dpkg-dev xz-utils perl"
missing=()
for p in $BUILD_PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	log "installing ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

SRC="$CACHE/src"
mkdir -p "$SRC"
# The newest version of the suite asked for: apt-get source picks by suite.
if ! ls -d "$SRC"/postgresql-"$MAJOR".*/ >/dev/null 2>&1; then
	log "fetching postgresql-$MAJOR's source package from $SUITE"
	# Only the upstream tarball is needed: a suite's Debian part may be
	# missing from the archive (404), which is not an error here.
	(cd "$SRC" && apt-get source -qq --download-only "postgresql-$MAJOR/$SUITE" >/dev/null 2>&1) || true
	# (|| true: under pipefail a failed ls would end the script silently)
	orig=$(ls "$SRC"/postgresql-"$MAJOR"_*.orig.tar.* 2>/dev/null | head -n 1 || true)
	[ -n "$orig" ] || die "could not fetch postgresql-$MAJOR's source from $SUITE (apt-get source postgresql-$MAJOR/$SUITE)"
	tar -C "$SRC" -xf "$orig"
fi
TREE=$(ls -d "$SRC"/postgresql-"$MAJOR".*/ | head -n 1)
TREE=${TREE%/}
BUILD="$CACHE/build-pg$MAJOR-$FLAVOR"

log "building PostgreSQL $(basename "$TREE") ($FLAVOR) into $PREFIX"
rm -rf "$BUILD" "$PREFIX"
mkdir -p "$BUILD"
(
	cd "$BUILD"
	# shellcheck disable=SC2086
	"$TREE/configure" --prefix="$PREFIX" --without-readline --without-icu \
		--enable-tap-tests $CONF_FLAVOR >configure.log 2>&1 ||
		{ tail -n 40 configure.log; exit 1; }
	make -s -j"$(nproc)" >make.log 2>&1 || { tail -n 60 make.log; exit 1; }
	make -s install >>make.log 2>&1
	make -s -C src/test/isolation install >>make.log 2>&1
	make -s -C src/test/regress install >>make.log 2>&1 || true
	for c in pgcrypto pg_stat_statements; do
		make -s -C "contrib/$c" install >>make.log 2>&1 || true
	done
) || die "PostgreSQL $MAJOR build failed (see $BUILD)"

# pg_isolation_regress and pg_regress where PGXS expects them.
PGXS_DIR=$(dirname "$("$PREFIX/bin/pg_config" --pgxs)")/../..
install -D -m 755 "$BUILD/src/test/isolation/pg_isolation_regress" "$PGXS_DIR/src/test/isolation/pg_isolation_regress"
install -D -m 755 "$BUILD/src/test/isolation/isolationtester" "$PGXS_DIR/src/test/isolation/isolationtester"
install -D -m 755 "$BUILD/src/test/regress/pg_regress" "$PGXS_DIR/src/test/regress/pg_regress"
install -D -m 755 "$BUILD/src/test/isolation/isolationtester" "$PREFIX/bin/isolationtester"
mkdir -p "$PGXS_DIR/src/test/perl"
cp -r "$TREE/src/test/perl/." "$PGXS_DIR/src/test/perl/"

# pgTAP is plain SQL: build it from its source package for this server.
if ! ls "$PREFIX/share/extension/pgtap.control" >/dev/null 2>&1; then
	if [ ! -d "$SRC/pgtap" ]; then
		# Only the upstream tarball is needed; some suites' Debian parts are
		# missing from the archive, so take the first suite whose tarball
		# arrives.
		for s in trixie sid bookworm; do
			(cd "$SRC" && apt-get source -qq --download-only "pgtap/$s" >/dev/null 2>&1) || true
			ls "$SRC"/pgtap_*.orig.tar.* >/dev/null 2>&1 && break
		done
		mkdir -p "$SRC/pgtap"
		tar -C "$SRC/pgtap" --strip-components=1 -xf "$(ls "$SRC"/pgtap_*.orig.tar.* | head -n 1)"
	fi
	make -s -C "$SRC/pgtap" PG_CONFIG="$PREFIX/bin/pg_config" >/dev/null 2>&1 || true
	make -s -C "$SRC/pgtap" PG_CONFIG="$PREFIX/bin/pg_config" install >/dev/null 2>&1 ||
		die "pgTAP failed to install into $PREFIX"
fi
chmod -R a+rX "$CACHE"
touch "$STAMP"
echo "$PREFIX/bin/pg_config"
