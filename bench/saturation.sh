#!/usr/bin/env bash
# bench/saturation.sh -- readiness probes while the database saturates the
# machine: pgbench's tpcb-like script with CLIENTS (32) clients against a
# throwaway server (synchronous_commit = off, so the CPU rather than the disk
# bounds it), and meanwhile, side by side, one probe of each kind every
# INTERVAL_MS (50):
#
#   GET /ready         pg_health's HTTP endpoint, in-process (bench/http_probe.c:
#                      connect, request, read, close), as an HTTP prober does
#   pg_isready         an exec probe: a process and a connection attempt
#   psql -c 'SELECT health.ready()'   an exec probe that asks the SQL verdict
#   sleeper            no probe: how late a process of normal priority wakes
#                      up (http_probe -w), the delay every prober pays
#
# and prints the p50, p99 and max of each over every probe of every round,
# the tps, the answering worker's wait on a run queue per wake-up (from
# /proc/PID/schedstat: run_delay over timeslices), and the sampler's worst
# sample (wall time) and longest gap between samples during the load.
#
# PROBE_SLICE_US=100 makes every prober ask the kernel for 100 us
# scheduling slices (http_probe -S: EEVDF, Linux 6.12+, no privilege
# needed), so that its own wake-ups wait less and what remains is the
# server's.
#
# ROUNDS rounds of DURATION seconds (after a 2 s ramp-up each).  With
# BASELINE=<git revision> (or a source tree) that build is measured too, on
# a second server with the same settings, the rounds alternating between the
# two; only one server is under load at a time.  Both are private
# installations (bench/common.sh).
#
# Usage: bash bench/saturation.sh   (CLIENTS=32 SCALE=32 DURATION=20 ROUNDS=3
#                                    INTERVAL_MS=50 PROBE_SLICE_US= BASELINE=)
source "$(dirname "$0")/../scripts/lib.sh"
source "$(dirname "$0")/../scripts/server.sh"
source "$(dirname "$0")/common.sh"

CLIENTS=${CLIENTS:-32}
SCALE=${SCALE:-32}
DURATION=${DURATION:-20}
ROUNDS=${ROUNDS:-3}
INTERVAL_MS=${INTERVAL_MS:-50}

ph_find_pg_config
ph_ensure_packages
ph_ensure_user

work=$(mktemp -d /tmp/pg_health_saturation.XXXXXX)
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
ph_bench_builds "$work"
cc -O2 -o "$work/http_probe" "$PH_ROOT/bench/http_probe.c" -lpthread
bindir=$("$PG_CONFIG" --bindir)

declare -A hport host port wpid
for b in "${PH_BENCH_BUILDS[@]}"; do
	hport[$b]=$(ph_free_port)
	ph_bench_server_start "$b" "pg_health.http_port = ${hport[$b]}" 'synchronous_commit = off' \
		'max_connections = 100'
	host[$b]=$PGHOST port[$b]=$PGPORT
	ph_psql -q -c 'CREATE EXTENSION pg_health' >/dev/null
	ph_say "pgbench -i -s $SCALE on the ${PH_BENCH_LABEL[$b]} server"
	ph_as_user env PGHOST="$PGHOST" PGPORT="$PGPORT" PGUSER="$PGUSER" \
		"$bindir/pgbench" -i -q -s "$SCALE" postgres >/dev/null 2>&1 || ph_die "pgbench -i failed"
	wpid[$b]=$(ph_bench_http_pid "$PH_SERVER_DIR")
	[ -n "${wpid[$b]}" ] || ph_die "no answering worker on the ${PH_BENCH_LABEL[$b]} server"
done
trap 'rm -rf "$work"; ph_server_stop' EXIT
chmod 777 "$work"

sql() {	# build query
	ph_as_user env PGHOST="${host[$1]}" PGPORT="${port[$1]}" PGUSER=postgres \
		"$bindir/psql" -X -A -t -q -d postgres -c "$2"
}
# run_delay (ns on a run queue) and timeslices of a process
schedstat() { awk '{ print $2, $3 }' "/proc/$1/schedstat"; }

# One round on BUILD's server: the load, the probes beside it.
round() {
	local b=$1 r=$2 pg s0 s1 t_from t_to n=$((DURATION * 1000 / INTERVAL_MS))
	local p=(-c 1 -n "$n" -i "$INTERVAL_MS" ${PROBE_SLICE_US:+-S "$PROBE_SLICE_US"})
	ph_as_user env PGHOST="${host[$b]}" PGPORT="${port[$b]}" PGUSER=postgres \
		"$bindir/pgbench" -n -c "$CLIENTS" -j 2 -T $((DURATION + 4)) postgres >"$work/pgbench.$b.$r" 2>&1 &
	pg=$!
	sleep 2
	t_from=$(sql "$b" 'SELECT now()')
	s0=$(schedstat "${wpid[$b]}")
	ph_as_user "$work/http_probe" "${p[@]}" -p "${hport[$b]}" -P /ready -o "$work/ready.$b" \
		>>"$work/ready.$b.lines" &
	ph_as_user "$work/http_probe" "${p[@]}" -x -o "$work/isready.$b" -- \
		"$bindir/pg_isready" -q -h "${host[$b]}" -p "${port[$b]}" >>"$work/isready.$b.lines" &
	ph_as_user "$work/http_probe" "${p[@]}" -x -o "$work/sql.$b" -- \
		"$bindir/psql" -X -A -t -q -h "${host[$b]}" -p "${port[$b]}" -U postgres -d postgres \
		-c 'SELECT health.ready()' >>"$work/sql.$b.lines" &
	ph_as_user "$work/http_probe" "${p[@]}" -w -o "$work/sleeper.$b" >>"$work/sleeper.$b.lines" &
	wait $(jobs -p | grep -v "^$pg\$") 2>/dev/null || true
	s1=$(schedstat "${wpid[$b]}")
	t_to=$(sql "$b" 'SELECT now()')
	wait "$pg" || true
	sed -n -E 's/^tps = ([0-9.]+).*/\1/p' "$work/pgbench.$b.$r" >>"$work/tps.$b"
	# the answering worker's wait for a CPU per wake-up, in us
	echo "$s0 $s1" | awk '{ d = $4 - $2; print (d > 0) ? ($3 - $1) / d / 1000 : 0 }' >>"$work/runq.$b"
	sql "$b" "SELECT round(max(sample_duration_us) / 1000.0, 1), round(coalesce(max(gap), 0), 0)
		FROM (SELECT extract(epoch FROM sample_duration) * 1e6 AS sample_duration_us,
		             extract(epoch FROM sampled_at - lag(sampled_at) OVER (ORDER BY generation)) * 1000 AS gap
		      FROM health.history WHERE sampled_at BETWEEN '$t_from' AND '$t_to') s" >>"$work/samples.$b"
}

# p50, p99 and max of the latencies in FILE (ms, one a line)
pcts() {
	sort -g "$1" | awk '{ v[NR] = $1 }
		END { p50 = int((NR + 1) / 2); p99 = int(NR * 0.99 + 0.5); if (p99 < 1) p99 = 1
		      printf "%9.2f %9.2f %9.1f %8d", v[p50], v[p99], v[NR], NR }'
}
failed() { awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^(http_5xx|errors)=/) { split($i, a, "="); s += a[2] } } END { print s + 0 }' "$1"; }

for r in $(seq 1 "$ROUNDS"); do
	n=${#PH_BENCH_BUILDS[@]}
	for k in $(seq 0 $((n - 1))); do
		b=${PH_BENCH_BUILDS[$(((r + k) % n))]}
		ph_say "round $r of $ROUNDS: ${PH_BENCH_LABEL[$b]}"
		round "$b" "$r"
	done
done

printf '\nreadiness probes under load: %s, pgbench tpcb-like -c %d -j 2 (scale %d, synchronous_commit off), %d rounds of %d s, a probe of each kind every %d ms, side by side%s\n' \
	"$("$PG_CONFIG" --version)" "$CLIENTS" "$SCALE" "$ROUNDS" "$DURATION" "$INTERVAL_MS" \
	"${PROBE_SLICE_US:+; probers with $PROBE_SLICE_US us slices}"
printf '%-26s %-32s %9s %9s %9s %8s %8s\n' build probe 'p50 ms' 'p99 ms' 'max ms' probes 'not ok'
for b in "${PH_BENCH_BUILDS[@]}"; do
	for kind in ready isready sql sleeper; do
		case $kind in
		ready) label='GET /ready' ;;
		isready) label='pg_isready' ;;
		sql) label="psql -c 'SELECT health.ready()'" ;;
		sleeper) label='sleeper (late by)' ;;
		esac
		printf '%-26s %-32s %s %8s\n' "${PH_BENCH_LABEL[$b]}" "$label" "$(pcts "$work/$kind.$b")" \
			"$([ "$kind" = sleeper ] && echo - || failed "$work/$kind.$b.lines")"
	done
	printf '%-26s pgbench tps %s (rounds %s); the answering worker (pid %s) waited %s us on a run queue per wake-up (rounds %s)\n' \
		"${PH_BENCH_LABEL[$b]}" "$(ph_median <"$work/tps.$b" | awk '{ printf "%.0f", $1 }')" \
		"$(ph_range %.0f <"$work/tps.$b")" "${wpid[$b]}" \
		"$(ph_median <"$work/runq.$b" | awk '{ printf "%.0f", $1 }')" "$(ph_range %.0f <"$work/runq.$b")"
	printf '%-26s samples under load: the slowest %s ms (wall time), the longest gap %s ms (interval 1000 ms), per round\n' \
		"${PH_BENCH_LABEL[$b]}" "$(cut -d'|' -f1 "$work/samples.$b" | paste -sd' ')" "$(cut -d'|' -f2 "$work/samples.$b" | paste -sd' ')"
done
printf '\ntarget: GET /ready p99 <= 2 ms under this load\n'
