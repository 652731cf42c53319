#!/usr/bin/env bash
# pg.sh -- a private PostgreSQL 15 + PostGIS cluster for development and tests.
#
#   server/scripts/pg.sh DIR PORT init|start|stop|status|url
#
# The cluster lives in DIR (data in DIR/data, the unix socket in DIR/run, the log in
# DIR/log/postgresql.log). It listens on the unix socket only (no TCP at all), trusts
# local socket connections, and runs as the `postgres` OS user when invoked as root
# (PostgreSQL refuses to run as root); as any other user it runs as that user.
#
#   init    initdb (only if DIR/data is missing) and create the database `shorewatch`
#   start   start the cluster and wait until it accepts connections (idempotent)
#   stop    pg_ctl stop -m fast (nothing to do if it is not running)
#   status  exit 0 if running, 3 if not
#   url     print the libpq conninfo: host=DIR/run port=PORT dbname=shorewatch user=postgres
#
# SW_PG_FAST=1 (the tests) turns fsync, synchronous_commit and full_page_writes off.
# The PostGIS extension is created by `shorewatch migrate`, not here.
set -euo pipefail

die() { echo "pg.sh: $*" >&2; exit 1; }

[ $# -eq 3 ] || die "usage: pg.sh DIR PORT init|start|stop|status|url"
DIR=$1 PORT=$2 CMD=$3
[[ $PORT =~ ^[0-9]+$ ]] && [ "$PORT" -ge 1 ] && [ "$PORT" -le 65535 ] || die "bad port: $PORT"

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
[ -x "$PGBIN/pg_ctl" ] || PGBIN=$(dirname "$(command -v pg_ctl 2>/dev/null || echo /nonexistent/pg_ctl)")
[ -x "$PGBIN/pg_ctl" ] || die "PostgreSQL 15 is not installed (no $PGBIN/pg_ctl); run 'make deps'"

# DIR may be relative: make it absolute (creating it when it does not exist yet).
if [ "$CMD" = url ]; then
	case $DIR in /*) ;; *) DIR=$PWD/$DIR ;; esac
	DIR=$(realpath -m "$DIR")
	echo "host=$DIR/run port=$PORT dbname=shorewatch user=postgres"
	exit 0
fi
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd -P)
DATA=$DIR/data RUN=$DIR/run LOGDIR=$DIR/log LOG=$DIR/log/postgresql.log

if [ "$(id -u)" = 0 ]; then
	id postgres >/dev/null 2>&1 || die "there is no 'postgres' OS user (install postgresql-15)"
	AS=(runuser -u postgres --)
	OWNER=postgres
else
	AS=()
	OWNER=$(id -un)
fi
as_pg() { (cd "$DIR" && "${AS[@]}" "$@"); }

# The cluster's owner must be able to reach DIR: every parent needs search permission.
check_reachable() {
	[ ${#AS[@]} -eq 0 ] && return 0
	if ! "${AS[@]}" test -x "$DIR" 2>/dev/null; then
		local p=$DIR
		while [ "$p" != / ]; do
			p=$(dirname "$p")
			if ! "${AS[@]}" test -x "$p" 2>/dev/null; then
				die "the postgres user cannot reach $DIR: $p is not searchable by it (mode $(stat -c %a "$p")); use a directory outside it or 'chmod o+x $p'"
			fi
		done
		die "the postgres user cannot reach $DIR"
	fi
}

sock=$RUN/.s.PGSQL.$PORT
[ ${#sock} -lt 107 ] || die "the socket path $sock is too long for a unix socket (max 107 bytes); use a shorter DIR"

setup_dirs() {
	mkdir -p "$RUN" "$LOGDIR"
	if [ ${#AS[@]} -gt 0 ]; then
		chown "$OWNER": "$DIR" "$RUN" "$LOGDIR"
		[ -d "$DATA" ] && chown "$OWNER": "$DATA"
	fi
	chmod 700 "$DIR"/run 2>/dev/null || true
	check_reachable
	as_pg test -w "$DIR" || die "the postgres user cannot write to $DIR"
}

running() { as_pg "$PGBIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; }

# Per-start settings, rewritten every time so that PORT and SW_PG_FAST always apply.
write_runtime_conf() {
	local f=$DATA/shorewatch.conf
	{
		echo "# written by server/scripts/pg.sh at every start; do not edit"
		echo "listen_addresses = ''"
		echo "port = $PORT"
		echo "unix_socket_directories = '$RUN'"
		echo "unix_socket_permissions = 0777"
		echo "shared_buffers = 256MB"
		echo "max_connections = 200"
		echo "timezone = 'UTC'"
		echo "logging_collector = off"
		echo "log_min_messages = warning"
		if [ "${SW_PG_FAST:-0}" = 1 ]; then
			echo "fsync = off"
			echo "synchronous_commit = off"
			echo "full_page_writes = off"
		fi
	} >"$f.tmp"
	[ ${#AS[@]} -gt 0 ] && chown "$OWNER": "$f.tmp"
	mv "$f.tmp" "$f"
}

do_init() {
	setup_dirs
	if [ -f "$DATA/PG_VERSION" ]; then
		return 0
	fi
	[ -e "$DATA" ] && die "$DATA exists but is not a PostgreSQL data directory; remove it"
	# Build the cluster beside its final place and move it in only once complete, so that a
	# half-done init is never mistaken for a finished one.
	local tmp=$DIR/data.init
	rm -rf "$tmp"
	as_pg "$PGBIN/initdb" -D "$tmp" -U postgres --auth-local=trust --auth-host=reject \
		--encoding=UTF8 --locale=C.UTF-8 >"$LOGDIR/initdb.log" 2>&1 ||
		{ cat "$LOGDIR/initdb.log" >&2; die "initdb failed (log above, also in $LOGDIR/initdb.log)"; }
	# Local socket connections only, trusted; nothing else.
	printf '# written by server/scripts/pg.sh: unix socket only, trusted\nlocal all all trust\n' >"$tmp/pg_hba.conf"
	printf "\n# Shorewatch: per-start settings (port, socket directory, test tuning)\ninclude_if_exists = 'shorewatch.conf'\n" >>"$tmp/postgresql.conf"
	[ ${#AS[@]} -gt 0 ] && chown "$OWNER": "$tmp/pg_hba.conf" "$tmp/postgresql.conf"
	# Create the database in single-user mode: no server, no socket needed.
	echo "CREATE DATABASE shorewatch;" |
		as_pg "$PGBIN/postgres" --single -D "$tmp" -c fsync=off -c listen_addresses='' template1 \
			>>"$LOGDIR/initdb.log" 2>&1 ||
		{ cat "$LOGDIR/initdb.log" >&2; die "could not create the database shorewatch"; }
	mv "$tmp" "$DATA"
	echo "pg.sh: initialised a PostgreSQL cluster in $DATA" >&2
}

do_start() {
	[ -f "$DATA/PG_VERSION" ] || die "no cluster in $DATA; run 'pg.sh $DIR $PORT init' first"
	setup_dirs
	if running; then
		# already up: make sure it is the one on this port
		as_pg "$PGBIN/pg_isready" -q -h "$RUN" -p "$PORT" -t 5 ||
			die "a cluster is running in $DATA but not on port $PORT"
		return 0
	fi
	write_runtime_conf
	if ! as_pg "$PGBIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 start >/dev/null; then
		tail -n 30 "$LOG" >&2 || true
		die "PostgreSQL did not start (log above, also in $LOG)"
	fi

	for _ in $(seq 1 120); do
		as_pg "$PGBIN/pg_isready" -q -h "$RUN" -p "$PORT" -t 1 && return 0
		sleep 0.25
	done
	tail -n 30 "$LOG" >&2 || true
	die "PostgreSQL started but does not accept connections on $sock"
}

do_stop() {
	[ -f "$DATA/PG_VERSION" ] || return 0
	running || return 0
	as_pg "$PGBIN/pg_ctl" -D "$DATA" -m fast -w -t 60 stop >/dev/null
}

case $CMD in
init) do_init ;;
start) do_start ;;
stop) do_stop ;;
status)
	if [ -f "$DATA/PG_VERSION" ] && running; then
		echo "running: $(as_pg "$PGBIN/pg_ctl" -D "$DATA" status | head -n 1)"
		exit 0
	fi
	echo "not running"
	exit 3
	;;
*) die "unknown command '$CMD' (init|start|stop|status|url)" ;;
esac
