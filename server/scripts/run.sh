#!/usr/bin/env bash
# run.sh -- what `make run` runs (after `make deps all`): a complete local Shorewatch.
#
#   1. unless SHOREWATCH_DB is set: a private PostGIS cluster in ./var/pg (unix socket, port 54329);
#   2. the admin password: $SHOREWATCH_ADMIN_PASSWORD, or generated once into ./var/admin-password;
#   3. shorewatch migrate, then shorewatch demo-seed (skip with DEMO=0);
#   4. shorewatch serve, and once it is healthy the simulated demo fleet of 20 vessels (unless DEMO=0);
#   5. prints the map URL, the user and the password, and runs until Ctrl-C / SIGTERM, then stops the
#      simulator, the server (which flushes every position) and the cluster -- only what it started.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
BIN=$ROOT/build/shorewatch
SIM=$ROOT/build/shorewatch-sim
PGSH=$ROOT/server/scripts/pg.sh
VAR=$ROOT/var
PG_DIR=$VAR/pg
PG_PORT=54329
DEMO=${DEMO:-1}

say() { echo "run: $*" >&2; }
die() { say "$*"; exit 1; }

for f in "$BIN" "$SIM"; do
	[ -x "$f" ] || die "$f is missing: run 'make' first"
done
mkdir -p "$VAR"

SIM_PID='' SERVER_PID='' PG_STARTED=0 CLEANED=0
cleanup() {
	[ "$CLEANED" = 1 ] && return
	CLEANED=1
	trap '' INT TERM
	if [ -n "$SIM_PID" ] && kill -0 "$SIM_PID" 2>/dev/null; then
		say "stopping the simulator (pid $SIM_PID)"
		kill -TERM "$SIM_PID" 2>/dev/null || true
		wait "$SIM_PID" 2>/dev/null || true
	fi
	if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
		say "stopping the server (pid $SERVER_PID); it writes every pending position first"
		kill -TERM "$SERVER_PID" 2>/dev/null || true
		wait "$SERVER_PID" 2>/dev/null || true
	fi
	if [ "$PG_STARTED" = 1 ]; then
		say "stopping PostgreSQL in $PG_DIR"
		"$PGSH" "$PG_DIR" "$PG_PORT" stop || true
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- 1. the database
if [ -z "${SHOREWATCH_DB:-}" ]; then
	"$PGSH" "$PG_DIR" "$PG_PORT" init
	if "$PGSH" "$PG_DIR" "$PG_PORT" status >/dev/null 2>&1; then
		say "PostgreSQL in $PG_DIR was already running; leaving it running at exit"
	else
		PG_STARTED=1
		"$PGSH" "$PG_DIR" "$PG_PORT" start
	fi
	SHOREWATCH_DB=$("$PGSH" "$PG_DIR" "$PG_PORT" url)
	export SHOREWATCH_DB
	say "database: $SHOREWATCH_DB"
fi

# ---- 2. the admin password
if [ -z "${SHOREWATCH_ADMIN_PASSWORD:-}" ]; then
	PWFILE=$VAR/admin-password
	if [ ! -s "$PWFILE" ]; then
		(umask 077 && head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 20 >"$PWFILE")
	fi
	chmod 600 "$PWFILE"
	SHOREWATCH_ADMIN_PASSWORD=$(cat "$PWFILE")
	export SHOREWATCH_ADMIN_PASSWORD
fi

# ---- 3. schema and demo data
"$BIN" migrate
if [ "$DEMO" != 0 ]; then
	"$BIN" demo-seed
fi

# ---- 4. the server, then the demo fleet
# the address to connect to when one listens on HOST:PORT (a wildcard host means this machine)
connect_addr() {
	local a=$1 host port
	port=${a##*:}
	host=${a%:*}
	case $host in
	'' | 0.0.0.0 | '*') host=127.0.0.1 ;;
	'[::]' | '::') host='[::1]' ;;
	esac
	echo "$host:$port"
}
HTTP_ADDR=$(connect_addr "${SHOREWATCH_HTTP:-127.0.0.1:8080}")
JT808_ADDR=$(connect_addr "${SHOREWATCH_JT808:-127.0.0.1:6808}")

"$BIN" serve &
SERVER_PID=$!
ok=0
for _ in $(seq 1 300); do
	if ! kill -0 "$SERVER_PID" 2>/dev/null; then
		wait "$SERVER_PID" && rc=0 || rc=$?
		SERVER_PID=''
		die "the server exited (status $rc) before it was ready; see its messages above"
	fi
	if curl -fsS -o /dev/null --max-time 2 "http://$HTTP_ADDR/api/health" 2>/dev/null; then
		ok=1
		break
	fi
	sleep 0.2
done
[ "$ok" = 1 ] || die "the server did not answer http://$HTTP_ADDR/api/health within 60 s"

if [ "$DEMO" != 0 ]; then
	"$SIM" --server "$JT808_ADDR" --vessels schema/demo/vessels.json --interval 5 --quiet &
	SIM_PID=$!
fi

cat >&2 <<EOF

  Shorewatch is running.
    map:      http://$HTTP_ADDR/
    user:     admin
    password: $SHOREWATCH_ADMIN_PASSWORD
EOF
[ -z "${PWFILE:-}" ] || echo "              (kept in $PWFILE)" >&2
if [ "$DEMO" != 0 ]; then
	echo "    demo:     20 simulated vessels reporting over JT/T 808 to $JT808_ADDR every 5 s" >&2
fi
echo "  Ctrl-C stops everything." >&2
echo >&2

# ---- 5. run until the server exits or we are told to stop
rc=0
wait "$SERVER_PID" || rc=$?
SERVER_PID=''
say "the server exited with status $rc"
exit "$rc"
