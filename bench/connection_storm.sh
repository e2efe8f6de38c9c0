#!/usr/bin/env bash
# bench/connection_storm.sh -- what pg_health's hooks cost a connection.
#
# Two throwaway servers side by side, the same settings but one without
# pg_health preloaded.  pgbench -C (a new connection for every transaction,
# as a client without a pool does), 8 clients, SELECT 1, ROUNDS rounds of
# DURATION seconds alternating between the servers.  Reported: the median
# connections/s of each and the median over rounds of the paired ratio
# (with pg_health / without).  Target (issue 3): the hooks cost at most 2%.
#
# Usage: bash bench/connection_storm.sh   (DURATION=5 ROUNDS=8)
source "$(dirname "$0")/../scripts/lib.sh"
source "$(dirname "$0")/../scripts/server.sh"

DURATION=${DURATION:-5}
ROUNDS=${ROUNDS:-8}

ph_ensure_packages
ph_ensure_user
ph_build_install
bindir=$("$PG_CONFIG" --bindir)
qdir=$(mktemp -d /tmp/pg_health_bench.XXXXXX)
chmod 755 "$qdir"
trap 'rm -rf "$qdir"; ph_server_stop' EXIT
echo 'SELECT 1;' >"$qdir/select1.sql"

ph_server_start "shared_preload_libraries = ''"
plain="$PGHOST $PGPORT"
ph_server_start
ph_psql -q -c 'CREATE EXTENSION pg_health' >/dev/null
health="$PGHOST $PGPORT"

cps() {	# connections per second against "host port"
	set -- $1
	ph_as_user env PGHOST="$1" PGPORT="$2" PGUSER=postgres "$bindir/pgbench" -n -C -c 8 -j 8 \
		-T "$DURATION" -f "$qdir/select1.sql" postgres 2>&1 | sed -n -E 's/^tps = ([0-9.]+).*/\1/p'
}
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

a=(); b=(); r=()
for i in $(seq 1 "$ROUNDS"); do
	if [ $((i % 2)) -eq 1 ]; then x=$(cps "$plain"); y=$(cps "$health"); else y=$(cps "$health"); x=$(cps "$plain"); fi
	a+=("$x"); b+=("$y"); r+=("$(awk -v p="$y" -v q="$x" 'BEGIN { print p / q }')")
done

printf '\nconnection storm: %s, pgbench -C -c 8 -j 8 SELECT 1, %d rounds of %d s, alternating\n' \
	"$("$PG_CONFIG" --version)" "$ROUNDS" "$DURATION"
printf '%-32s %18s\n' server 'median conn/s'
printf '%-32s %18.0f\n' 'without pg_health' "$(printf '%s\n' "${a[@]}" | median)"
printf '%-32s %18.0f\n' 'with pg_health (hooks + sampler)' "$(printf '%s\n' "${b[@]}" | median)"
printf 'median paired ratio with/without: %.3f (range %s; target >= 0.98)\n' \
	"$(printf '%s\n' "${r[@]}" | median)" \
	"$(printf '%s\n' "${r[@]}" | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.2f..%.2f", lo, hi }')"
ph_psql -Atq -c "SELECT 'counted by the hooks on the pg_health server: ' || connections_authenticated || ' authentications'
                  FROM health.connections" 2>/dev/null || true
