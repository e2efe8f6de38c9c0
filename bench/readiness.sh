#!/usr/bin/env bash
# bench/readiness.sh -- what a readiness call costs, side by side in one run.
#
# pgbench, prepared protocol, 8 clients, DURATION seconds per run, on a
# throwaway server with pg_health preloaded (max_connections 1100):
#   SELECT 1                      the floor: a round trip that does nothing
#   SELECT health.ready()         pg_health's verdict (O(1), from shared memory)
#   SELECT health.report()        the whole JSON report
#   hand-written readiness query  what applications do without pg_health:
#                                 pg_stat_activity counts + settings + recovery
# with 0, 500 and 1000 extra idle connections held open.  Each query runs
# ROUNDS times, interleaved in alternating order, and the mean is reported with its ratio to
# SELECT 1 measured in the same round.  Also prints the sampler's own time per
# sample at 1000 sessions and the shared memory pg_health uses.
#
# Usage: bash bench/readiness.sh   (DURATION=10 ROUNDS=3 LEVELS="0 500 1000")
source "$(dirname "$0")/../scripts/lib.sh"
source "$(dirname "$0")/../scripts/server.sh"

DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-3}
LEVELS=${LEVELS:-0 500 1000}
CLIENTS=8
ulimit -n 8192 2>/dev/null || true

ph_ensure_packages
ph_ensure_user
ph_build_install
ph_server_start "max_connections = 1100" "shared_buffers = 256MB" "pg_health.sample_interval = 1s"
ph_psql -q -c 'CREATE EXTENSION pg_health' >/dev/null
bindir=$("$PG_CONFIG" --bindir)
qdir=$(mktemp -d /tmp/pg_health_bench.XXXXXX)
chmod 755 "$qdir"
idle_pid=
cleanup() { [ -n "$idle_pid" ] && kill "$idle_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$qdir"; ph_server_stop; }
trap cleanup EXIT

names=(select1 ready report handwritten)
echo 'SELECT 1;' >"$qdir/select1.sql"
echo 'SELECT health.ready();' >"$qdir/ready.sql"
echo 'SELECT health.report();' >"$qdir/report.sql"
cat >"$qdir/handwritten.sql" <<'SQL'
SELECT count(*) FILTER (WHERE state = 'active') AS active,
       count(*) FILTER (WHERE state = 'idle') AS idle,
       count(*) FILTER (WHERE state LIKE 'idle in transaction%') AS idle_in_transaction,
       count(*) FILTER (WHERE wait_event_type = 'Lock') AS waiting,
       count(*) AS clients,
       current_setting('max_connections')::int AS max_connections,
       current_setting('superuser_reserved_connections')::int AS reserved,
       pg_is_in_recovery() AS in_recovery
  FROM pg_catalog.pg_stat_activity WHERE backend_type = 'client backend';
SQL
echo '\sleep 3600 s' >"$qdir/idle.sql"

pgb() { ph_as_user env PGHOST="$PGHOST" PGPORT="$PGPORT" PGUSER="$PGUSER" "$bindir/pgbench" "$@"; }
tps() {
	pgb -n -M prepared -c "$CLIENTS" -j "$CLIENTS" -T "$DURATION" -f "$qdir/$1.sql" postgres 2>&1 |
		sed -n -E 's/^tps = ([0-9.]+).*/\1/p'
}

hold_idle() {
	local n=$1
	[ -n "$idle_pid" ] && { kill "$idle_pid" 2>/dev/null; wait "$idle_pid" 2>/dev/null || true; idle_pid=; }
	[ "$n" -gt 0 ] || return 0
	pgb -n -c "$n" -j 4 -T 3600 -f "$qdir/idle.sql" postgres >/dev/null 2>&1 &
	idle_pid=$!
	for _ in $(seq 1 600); do
		local have
		have=$(ph_psql -Atq -c "SELECT health.refresh(); SELECT idle FROM health.connections" | tail -1)
		[ "$have" -ge "$n" ] && return 0
		sleep 0.5
	done
	ph_die "could not open $n idle connections"
}

printf '\npg_health readiness benchmark: %s, %d clients, prepared, %d s x %d rounds per cell\n' \
	"$("$PG_CONFIG" --version)" "$CLIENTS" "$DURATION" "$ROUNDS"
printf '%-6s  %-28s %12s %10s\n' idle query tps 'x SELECT 1'
for level in $LEVELS; do
	hold_idle "$level"
	declare -A sum=()
	for r in $(seq 1 "$ROUNDS"); do
		# alternate the order each round, so no query always runs first
		order=("${names[@]}")
		[ $((r % 2)) -eq 0 ] && order=(ready select1 handwritten report)
		for q in "${order[@]}"; do
			t=$(tps "$q")
			sum[$q]=$(awk -v a="${sum[$q]:-0}" -v b="$t" 'BEGIN { print a + b }')
		done
	done
	base=$(awk -v a="${sum[select1]}" -v n="$ROUNDS" 'BEGIN { print a / n }')
	for q in "${names[@]}"; do
		mean=$(awk -v a="${sum[$q]}" -v n="$ROUNDS" 'BEGIN { print a / n }')
		case $q in
			select1) label='SELECT 1' ;; ready) label='SELECT health.ready()' ;;
			report) label='SELECT health.report()' ;; handwritten) label='pg_stat_activity query' ;;
		esac
		printf '%-6s  %-28s %12.0f %10.3f\n' "$level" "$label" "$mean" "$(awk -v a="$mean" -v b="$base" 'BEGIN { print a / b }')"
	done
	if [ "$level" -ge 1000 ]; then
		sampler=$(ph_psql -Atq -c "SELECT round(avg(extract(epoch FROM sample_duration)) * 1e6)::int || ' us avg, '
		                             || round(max(extract(epoch FROM sample_duration)) * 1e6)::int || ' us max over '
		                             || count(*) || ' samples'
		                        FROM health.history WHERE client_backends >= $level")
	fi
	unset sum
done
hold_idle 0

printf '\nsampler time per sample with >= 1000 sessions: %s (target < 1000 us)\n' "${sampler:-not measured (no 1000 level)}"
printf 'shared memory at defaults: %s bytes (target < 2 MB)\n' \
	"$(ph_psql -Atq -c 'SELECT shmem_bytes FROM health.status')"
