#!/usr/bin/env bash
# bench/readiness.sh -- what a readiness call costs, side by side in one run.
#
# pgbench, prepared protocol, 8 clients, on a
# throwaway server with pg_health preloaded (max_connections 1100):
#   SELECT 1                      the floor: a round trip that does nothing
#   SELECT health.ready()         pg_health's verdict (O(1), from shared memory)
#   SELECT health.report()        the whole JSON report
#   stored report                 the limit for report(): a jsonb document of
#                                 the same size read from a one-row table
#   hand-written readiness query  what applications do without pg_health:
#                                 pg_stat_activity counts + settings + recovery
#   SELECT health.ready(for_user, for_database)
#                                 the per-tenant verdict (from the names
#                                 worker's facts and the sample)
#   hand-written admission query  the same question without pg_health:
#                                 pg_roles, pg_database, CONNECT and the
#                                 sessions of the role and the database
# with 0, 500 and 1000 extra idle connections held open (see below for how
# the ratios are made robust to a noisy machine).  Also prints the sampler's own time per
# sample at 1000 sessions and the shared memory pg_health uses.
#
# Usage: bash bench/readiness.sh   (DURATION=3 ROUNDS=8 LEVELS="0 500 1000")
source "$(dirname "$0")/../scripts/lib.sh"
source "$(dirname "$0")/../scripts/server.sh"
source "$(dirname "$0")/common.sh"

DURATION=${DURATION:-3}
ROUNDS=${ROUNDS:-8}
LEVELS=${LEVELS:-0 500 1000}
CLIENTS=8
ulimit -n 8192 2>/dev/null || true

ph_ensure_packages
ph_ensure_user
ph_build_install
# one session holds the idle connections: dblink's sockets count against
# max_files_per_process / 3 (PostgreSQL's budget for external files)
ph_server_start "max_connections = 1100" "max_files_per_process = 4000" "shared_buffers = 256MB" \
	"pg_health.sample_interval = 1s"
ph_psql -q -c 'CREATE EXTENSION pg_health' -c 'CREATE EXTENSION dblink' \
	-c 'CREATE ROLE bench_app LOGIN CONNECTION LIMIT 2000' >/dev/null
bindir=$("$PG_CONFIG" --bindir)
qdir=$(mktemp -d /tmp/pg_health_bench.XXXXXX)
chmod 755 "$qdir"
cleanup() { ph_bench_release_idle; rm -rf "$qdir"; ph_server_stop; }
trap cleanup EXIT

names=(select1 ready report stored handwritten tenant tenant_hand)
echo 'SELECT 1;' >"$qdir/select1.sql"
echo 'SELECT health.ready();' >"$qdir/ready.sql"
echo 'SELECT health.report();' >"$qdir/report.sql"
# what returning a 4 kB jsonb costs with no work at all: report()'s limit
ph_psql -q -c 'CREATE TABLE public.stored_report AS SELECT health.report() AS doc' >/dev/null
echo 'SELECT doc FROM public.stored_report;' >"$qdir/stored.sql"
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
echo "SELECT health.ready(for_user => 'bench_app', for_database => 'postgres');" >"$qdir/tenant.sql"
cat >"$qdir/tenant_hand.sql" <<'SQL'
SELECT r.rolcanlogin AND (r.rolvaliduntil IS NULL OR r.rolvaliduntil > now())
       AND d.datallowconn AND has_database_privilege(r.oid, d.oid, 'CONNECT')
       AND (r.rolconnlimit < 0 OR (SELECT count(*) FROM pg_catalog.pg_stat_activity
                                    WHERE usesysid = r.oid AND backend_type = 'client backend') < r.rolconnlimit)
       AND (d.datconnlimit < 0 OR (SELECT count(*) FROM pg_catalog.pg_stat_activity
                                    WHERE datid = d.oid AND backend_type = 'client backend') < d.datconnlimit)
  FROM pg_catalog.pg_roles r, pg_catalog.pg_database d
 WHERE r.rolname = 'bench_app' AND d.datname = 'postgres';
SQL

pgb() { ph_as_user env PGHOST="$PGHOST" PGPORT="$PGPORT" PGUSER="$PGUSER" "$bindir/pgbench" "$@"; }
tps() {
	pgb -n -M prepared -c "$CLIENTS" -j "$CLIENTS" -T "$DURATION" -f "$qdir/$1.sql" postgres 2>&1 |
		sed -n -E 's/^tps = ([0-9.]+).*/\1/p'
}

hold_idle() { ph_bench_hold_idle "$1" "$qdir"; }

# Throughput of one run varies by +-10% on a shared 2-core machine, more than
# the differences measured.  So each cell is ROUNDS short runs in alternating
# order, and the ratio reported is the median over rounds of the ratio to the
# SELECT 1 run of the same round: drift cancels out of paired ratios.

printf '\npg_health readiness benchmark: %s\n' "$("$PG_CONFIG" --version)"
printf 'pgbench -M prepared -c %d -j %d, %d rounds of %d s per query and level, alternating order\n' \
	"$CLIENTS" "$CLIENTS" "$ROUNDS" "$DURATION"
printf '%-6s  %-28s %14s %18s %12s\n' idle query 'median tps' 'median x SELECT 1' 'min..max x'
sampler_stats() {	# avg and max sample_duration of the samples after generation $1
	ph_psql -Atq -c "SELECT round(avg(extract(epoch FROM sample_duration)) * 1e6)::int || ' us avg, '
	                        || round(max(extract(epoch FROM sample_duration)) * 1e6)::int || ' us max over '
	                        || count(*) || ' samples'
	                   FROM health.history WHERE generation > $1 AND client_backends >= $2"
}
for level in $LEVELS; do
	hold_idle "$level"
	if [ "$level" -ge 1000 ]; then
		# the sampler's own cost: 1000 sessions open, no load generator
		# running, ten ordinary once-a-second samples
		g0=$(ph_psql -Atq -c 'SELECT generation FROM health.status')
		sleep 10.5
		sampler_quiet=$(sampler_stats "$g0" "$level")
		g_load=$(ph_psql -Atq -c 'SELECT generation FROM health.status')
	fi
	declare -A runs=() ratios=()
	for r in $(seq 1 "$ROUNDS"); do
		declare -A this=()
		order=("${names[@]}")
		[ $((r % 2)) -eq 0 ] && order=(tenant_hand tenant ready select1 handwritten stored report)
		for q in "${order[@]}"; do
			this[$q]=$(tps "$q")
			runs[$q]+="${this[$q]} "
		done
		for q in "${names[@]}"; do
			ratios[$q]+="$(awk -v a="${this[$q]}" -v b="${this[select1]}" 'BEGIN { print a / b }') "
		done
		unset this
	done
	for q in "${names[@]}"; do
		case $q in
			select1) label='SELECT 1' ;; ready) label='SELECT health.ready()' ;;
			report) label='SELECT health.report()' ;; handwritten) label='pg_stat_activity query' ;;
			stored) label='stored report (the limit)' ;;
			tenant) label='ready(for_user, for_database)' ;; tenant_hand) label='admission query' ;;
		esac
		med_tps=$(tr ' ' '\n' <<<"${runs[$q]}" | grep . | ph_median)
		med_ratio=$(tr ' ' '\n' <<<"${ratios[$q]}" | grep . | ph_median)
		range=$(tr ' ' '\n' <<<"${ratios[$q]}" | grep . | ph_range)
		printf '%-6s  %-28s %14.0f %18.3f %12s\n' "$level" "$label" "$med_tps" "$med_ratio" "$range"
	done
	# report() against its limit, paired per round like the rest
	paired=()
	read -r -a rep <<<"${runs[report]}"
	read -r -a sto <<<"${runs[stored]}"
	for k in "${!rep[@]}"; do paired+=("$(awk -v a="${rep[$k]}" -v b="${sto[$k]}" 'BEGIN { print a / b }')"); done
	printf '%-6s  %-28s %14s %18.3f %12s\n' "$level" 'report() x stored report' '' \
		"$(printf '%s\n' "${paired[@]}" | ph_median)" "$(printf '%s\n' "${paired[@]}" | ph_range)"
	if [ "$level" -ge 1000 ]; then
		sampler_load=$(sampler_stats "$g_load" "$level")
	fi
	unset runs ratios
done
hold_idle 0

printf '\nsampler time per sample, 1000 idle sessions, quiet machine: %s (target < 1000 us)\n' \
	"${sampler_quiet:-not measured (no level of 1000)}"
printf 'sampler time per sample, 1000 idle sessions, during the pgbench runs above: %s\n' \
	"${sampler_load:-not measured} (wall time: includes waiting for a CPU the 8 clients keep busy)"
printf 'shared memory at defaults: %s bytes (target < 2 MB)\n' \
	"$(ph_psql -Atq -c 'SELECT shmem_bytes FROM health.status')"
