#!/usr/bin/env bash
# test/instrumented/preflight.sh -- prove, before an instrumented run of the
# suite, that its checker really watches the server's processes.  Run by
# scripts/test (PH_SANITIZE=1 or PH_VALGRIND=1) as the unprivileged user:
#
#   preflight.sh MODE BINDIR PROBE_SO LOGDIR SCRATCH
#
# MODE is sanitize or valgrind; BINDIR the private installation's bin
# directory, whose `postgres` runs the real server under the checker; PROBE_SO
# the probe module (probe.c) built like pg_health; LOGDIR where the checker
# writes its reports (this preflight's own, not the suite's); SCRATCH an empty
# directory for a throwaway server.
#
# It starts a server with pg_health preloaded, checks that the checker's
# runtime is mapped into the postmaster and into each of pg_health's workers
# (read from /proc/PID/maps), then makes the probe overflow a heap block in a
# backend and in a background worker the postmaster forks (and, with the
# sanitizers, overflow a signed int).  The caller then requires a report of
# each in LOGDIR.  Exits non-zero when something is not as it should be.
set -euo pipefail
mode=$1 bindir=$2 probe=$3 logdir=$4 scratch=$5
export PATH="$bindir:$PATH" PH_INSTRUMENT_LOGS=$logdir
data=$scratch/data
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export PGHOST=$scratch PGPORT=$port PGUSER=postgres PGDATABASE=postgres
case $mode in
	sanitize) runtime='libasan\.so' ;;
	valgrind) runtime='vgpreload_memcheck' ;;
	*) echo "preflight: unknown mode $mode" >&2; exit 2 ;;
esac

initdb -D "$data" -A trust -U postgres -N >"$scratch/initdb.log" 2>&1 ||
	{ cat "$scratch/initdb.log" >&2; exit 1; }
cat >>"$data/postgresql.conf" <<EOF
shared_preload_libraries = 'pg_health'
port = $port
listen_addresses = ''
unix_socket_directories = '$scratch'
fsync = off
pg_health.sample_interval = 200ms
EOF
stop() { pg_ctl -D "$data" -m immediate -w stop >/dev/null 2>&1 || true; }
trap stop EXIT
PGCTLTIMEOUT=600 pg_ctl -D "$data" -l "$scratch/server.log" -w start >/dev/null ||
	{ cat "$scratch/server.log" >&2; exit 1; }

# Waits for the server to take queries again (after a crash restart too).
psql_retry() {
	local _
	for _ in $(seq 1 600); do
		psql -XAtq -v ON_ERROR_STOP=1 -c "$1" 2>/dev/null && return 0
		sleep 0.5
	done
	psql -XAtq -v ON_ERROR_STOP=1 -c "$1"
}

psql_retry 'CREATE EXTENSION pg_health' >/dev/null
postmaster=$(head -1 "$data/postmaster.pid")
# pg_health's workers, "pid type" lines: the sampler (in no database, so not
# in pg_stat_activity) as health.status names it, the others from
# pg_stat_activity.  (Process titles do not do: under valgrind,
# /proc/PID/cmdline shows valgrind's command line.)
workers() {
	psql -XAtq -F ' ' -c "SELECT worker_pid, 'pg_health sampler' FROM health.status WHERE worker_pid IS NOT NULL
		UNION ALL SELECT pid, backend_type FROM pg_stat_activity WHERE backend_type LIKE 'pg_health %'" 2>/dev/null || true
}
# the sampler, the names worker and the checker (which needs the extension)
for _ in $(seq 1 1200); do
	[ "$(workers | wc -l)" -ge 3 ] && break
	sleep 0.5
done
status=0
while read -r pid what; do
	if grep -q "$runtime" "/proc/$pid/maps" 2>/dev/null; then
		echo "preflight: $mode runtime mapped in $what (pid $pid)"
	else
		echo "preflight: $mode runtime NOT mapped in $what (pid $pid)" >&2
		status=1
	fi
done < <(echo "$postmaster postmaster"; workers)
[ "$(workers | wc -l)" -ge 3 ] || { echo "preflight: fewer than three pg_health workers: $(workers | tr '\n' ' ')" >&2; status=1; }

psql_retry "CREATE FUNCTION ph_probe_backend() RETURNS int AS '$probe' LANGUAGE C;
	CREATE FUNCTION ph_probe_worker(text) RETURNS boolean AS '$probe' LANGUAGE C;
	CREATE FUNCTION ph_probe_ub(int) RETURNS int AS '$probe' LANGUAGE C" >/dev/null
# Each probe may end its process and so restart the server: one attempt
# each, once the server takes queries, and a pause for the postmaster to
# notice a crash before the next.
probe_once() {
	psql_retry 'SELECT 1' >/dev/null
	psql -XAtq -c "$1" >/dev/null 2>&1 || true
	sleep 1
}
probe_once 'SELECT ph_probe_backend()'
probe_once "SELECT ph_probe_worker('$probe')"
[ "$mode" != sanitize ] || probe_once 'SELECT ph_probe_ub(1)'
psql_retry 'SELECT 1' >/dev/null
exit $status
