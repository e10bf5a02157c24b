#!/usr/bin/env bash
# Build, install and run agentstore on a throwaway local cluster, as root:
#
#   bash scripts/demo.sh
#
# Installs what is missing, builds and installs agentstore, (re)creates a
# cluster owned by the postgres user in $AGENTSTORE_DEMO_DIR (default
# /tmp/agentstore-demo) listening on a Unix socket there and on port
# $AGENTSTORE_DEMO_PORT (default 5433), with agentstore preloaded, runs
# CREATE EXTENSION and a short walkthrough (scripts/walkthrough.sql), and
# prints how to connect and how to stop it.  Running it again replaces the
# cluster, whatever state an earlier run left it in.
set -euo pipefail
source "$(dirname "$0")/common.sh"

DEMO_DIR=${AGENTSTORE_DEMO_DIR:-/tmp/agentstore-demo}
PORT=${AGENTSTORE_DEMO_PORT:-5433}

require_root
install_packages
build_and_install "$DEMO_DIR.build"

if [ -f "$DEMO_DIR/data/postmaster.pid" ]; then
	log "stopping the cluster an earlier run left behind"
	as_postgres pg_ctl -D "$DEMO_DIR/data" -m immediate stop >/dev/null 2>&1 || true
fi
rm -rf "$DEMO_DIR"
mkdir -p "$DEMO_DIR"
chown postgres: "$DEMO_DIR"
log "creating a cluster in $DEMO_DIR/data"
as_postgres initdb -D "$DEMO_DIR/data" -A trust -U postgres >/dev/null
cat >>"$DEMO_DIR/data/postgresql.conf" <<CONF
shared_preload_libraries = 'agentstore'
listen_addresses = 'localhost'
port = $PORT
unix_socket_directories = '$DEMO_DIR'
agentstore.ttl_interval = '10s'
CONF
as_postgres pg_ctl -D "$DEMO_DIR/data" -l "$DEMO_DIR/server.log" -w start >/dev/null
log "server started (log: $DEMO_DIR/server.log)"

as_postgres psql -X -h "$DEMO_DIR" -p "$PORT" -d postgres -v ON_ERROR_STOP=1 \
	-c "CREATE DATABASE agentstore_demo"
as_postgres psql -X -h "$DEMO_DIR" -p "$PORT" -d agentstore_demo -v ON_ERROR_STOP=1 \
	-c "CREATE EXTENSION agentstore"
# The walkthrough is read from the build copy, which the postgres user owns:
# the clone itself may be where postgres cannot read (root's home).
log "walkthrough (scripts/walkthrough.sql)"
as_postgres psql -X -h "$DEMO_DIR" -p "$PORT" -d agentstore_demo -v ON_ERROR_STOP=1 \
	-e -f "$DEMO_DIR.build/scripts/walkthrough.sql"

cat <<MSG

agentstore is running.
  connect:  psql -h $DEMO_DIR -p $PORT -U postgres agentstore_demo
            (or: psql "host=localhost port=$PORT user=postgres dbname=agentstore_demo")
  stop:     runuser -u postgres -- $PG_BINDIR/pg_ctl -D $DEMO_DIR/data stop
  remove:   rm -rf $DEMO_DIR $DEMO_DIR.build
MSG
