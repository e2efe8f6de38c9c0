#!/usr/bin/env bash
# bench/overhead.sh -- what pg_health costs the server it watches.
#
# Two throwaway servers with the same settings, one without pg_health
# preloaded, the other with it sampling every 100 ms (the case of the targets
# in docs/design.md; the default interval is 1 s).  ROUNDS rounds of DURATION
# seconds per workload, alternating between the servers, 8 clients each:
#
#   select-only   pgbench -S -M prepared: CPU-bound reads, where CPU taken by
#                 a worker shows most
#   tpcb-like     pgbench's default script, -M prepared (synchronous_commit
#                 off on both, so that the CPU, not the disk, bounds it)
#   connections   pgbench -C on SELECT 1: a new connection per transaction,
#                 which runs pg_health's hooks (authentication, refusals)
#
# For each: the median tps of each server and the median over rounds of the
# paired ratio with/without (drift cancels out of paired ratios; a single
# ratio still moves by several percent on a shared 2-core machine).  And the
# CPU time pg_health's own processes (sampler, names worker, checker) used
# over the whole run, from /proc/PID/schedstat (nanoseconds), as a share of
# the machine's CPU: what a CPU-bound workload can lose to them at most,
# measured without the noise of the ratios.
#
# Targets (docs/design.md, "Targets"): pgbench within 1% of the server
# without pg_health; connections within 2% (issue 3).
#
# Usage: bash bench/overhead.sh   (DURATION=5 ROUNDS=8 SCALE=10 WORKLOADS="select-only tpcb-like connections")
source "$(dirname "$0")/../scripts/lib.sh"
source "$(dirname "$0")/../scripts/server.sh"

DURATION=${DURATION:-5}
ROUNDS=${ROUNDS:-8}
SCALE=${SCALE:-10}
WORKLOADS=${WORKLOADS:-select-only tpcb-like connections}

ph_ensure_packages
ph_ensure_user
ph_build_install
bindir=$("$PG_CONFIG" --bindir)
qdir=$(mktemp -d /tmp/pg_health_bench.XXXXXX)
chmod 755 "$qdir"
trap 'rm -rf "$qdir"; ph_server_stop' EXIT
echo 'SELECT 1;' >"$qdir/select1.sql"
chmod 644 "$qdir/select1.sql"

common=("shared_buffers = 256MB" "synchronous_commit = off" "max_connections = 100")
ph_server_start "${common[@]}" "shared_preload_libraries = ''"
plain="$PGHOST $PGPORT"
if [ -n "${CONTROL:-}" ]; then
	# the noise floor: the same comparison with pg_health on neither server
	ph_server_start "${common[@]}" "shared_preload_libraries = ''"
else
	ph_server_start "${common[@]}" "pg_health.sample_interval = 100ms"
	ph_psql -q -c 'CREATE EXTENSION pg_health' >/dev/null
fi
health="$PGHOST $PGPORT"
health_dir=$PH_SERVER_DIR

pgb() {	# "host port" pgbench-args...
	local where=$1
	shift
	set -- $where "$@"
	ph_as_user env PGHOST="$1" PGPORT="$2" PGUSER=postgres "$bindir/pgbench" "${@:3}"
}
for s in "$plain" "$health"; do
	pgb "$s" -i -q -s "$SCALE" postgres >/dev/null 2>&1 || ph_die "pgbench -i failed"
done

run() {	# workload "host port": prints tps
	local args
	case $1 in
		select-only) args=(-S -M prepared) ;;
		tpcb-like) args=(-M prepared) ;;
		connections) args=(-C -f "$qdir/select1.sql") ;;
		*) ph_die "unknown workload $1" ;;
	esac
	pgb "$2" -n -c 8 -j 8 -T "$DURATION" "${args[@]}" postgres 2>&1 | sed -n -E 's/^tps = ([0-9.]+).*/\1/p'
}

# pg_health's processes on the second server, and their CPU time so far (ns)
postmaster=$(head -1 "$health_dir/data/postmaster.pid")
cpu_ns() {
	local total=0 pid
	for pid in $(ps -o pid=,args= --ppid "$postmaster" | awk '/pg_health/ { print $1 }'); do
		total=$((total + $(awk '{ print $1 }' "/proc/$pid/schedstat" 2>/dev/null || echo 0)))
	done
	echo "$total"
}
if [ -z "${CONTROL:-}" ]; then
	[ -n "$(ps -o pid=,args= --ppid "$postmaster" | awk '/pg_health sampler/ { print $1 }')" ] ||
		ph_die "no pg_health sampler on the second server"
	g0=$(ph_psql -Atq -c 'SELECT generation FROM health.status')
fi
c0=$(cpu_ns)
t0=$(date +%s.%N)

printf '\noverhead: %s, 8 clients, %d rounds of %d s per workload, alternating; %s\n' \
	"$("$PG_CONFIG" --version)" "$ROUNDS" "$DURATION" \
	"$([ -n "${CONTROL:-}" ] && echo 'CONTROL: pg_health on neither server' || echo 'pg_health.sample_interval = 100ms')"
printf '%-13s %18s %18s %26s %14s\n' workload 'without tps' 'with pg_health' 'median ratio with/without' 'min..max'
for w in $WORKLOADS; do
	a=(); b=(); r=()
	for i in $(seq 1 "$ROUNDS"); do
		if [ $((i % 2)) -eq 1 ]; then x=$(run "$w" "$plain"); y=$(run "$w" "$health")
		else y=$(run "$w" "$health"); x=$(run "$w" "$plain"); fi
		[ -n "$x" ] && [ -n "$y" ] || ph_die "pgbench gave no tps for $w"
		a+=("$x"); b+=("$y"); r+=("$(awk -v p="$y" -v q="$x" 'BEGIN { print p / q }')")
	done
	printf '%-13s %18.0f %18.0f %26.3f %14s\n' "$w" \
		"$(printf '%s\n' "${a[@]}" | ph_median)" "$(printf '%s\n' "${b[@]}" | ph_median)" \
		"$(printf '%s\n' "${r[@]}" | ph_median)" \
		"$(printf '%s\n' "${r[@]}" | ph_range %.3f)"
done

c1=$(cpu_ns)
t1=$(date +%s.%N)
if [ -n "${CONTROL:-}" ]; then
	printf 'CONTROL run: the ratios above are the noise floor of this comparison on this machine\n'
	exit 0
fi
samples=$(ph_psql -Atq -c "SELECT generation - $g0 FROM health.status")
ph_psql -Atq -c "SELECT 'the last ' || count(*) || ' samples (health.history): ' || round(avg(extract(epoch FROM sample_duration)) * 1e6)::int
                        || ' us avg, ' || round(max(extract(epoch FROM sample_duration)) * 1e6)::int || ' us max (wall time, under the load)'
                   FROM health.history WHERE generation > $g0"
awk -v ns="$((c1 - c0))" -v t0="$t0" -v t1="$t1" -v cpus="$(nproc)" -v n="$samples" 'BEGIN {
	s = t1 - t0
	printf "pg_health processes: %.1f ms of CPU in %.0f s (%d samples, %.0f us of CPU per sample): %.3f%% of %d CPUs\n",
		ns / 1e6, s, n, (n > 0) ? ns / 1e3 / n : 0, 100 * ns / 1e9 / (s * cpus), cpus
}'
printf 'targets: pgbench ratios >= 0.99 (within 1%%); connections >= 0.98\n'
ph_psql -Atq -c "SELECT 'counted by the hooks on the pg_health server: ' || connections_authenticated || ' authentications'
                  FROM health.connections" 2>/dev/null || true
