#!/usr/bin/env bash
# bench/status_page.sh -- what the status page (GET /) costs next to the
# endpoint's other answers, side by side in one run, on one throwaway server
# (max_connections 1100, the history ring full at its default 600 samples),
# with 0 and 1000 extra idle sessions held open (bench/common.sh: 1000
# application_names, the pool table at its worst):
#
#   GET /ready     the probe: the verdict from shared memory
#   GET /health    the report (JSON)
#   GET /metrics   the Prometheus text
#   GET /          the status page: all of the above and the history ring,
#                  drawn as SVG
#
# bench/http_probe.c, one client, a new connection per request, ROUNDS runs
# of DURATION s per path and level in alternating order.  The ratio reported
# is the median over rounds of each path's requests/s to /ready's of the same
# round (drift on a shared 2-core machine cancels out of paired ratios); p50
# is the median of the rounds' medians, p99 the worst round's.  "worker us"
# is the HTTP worker's CPU time per request (user + system, from /proc).
#
# Usage: bash bench/status_page.sh   (DURATION=2 ROUNDS=5 LEVELS="0 1000" FILL=61)
source "$(dirname "$0")/../scripts/lib.sh"
source "$(dirname "$0")/../scripts/server.sh"
source "$(dirname "$0")/common.sh"

DURATION=${DURATION:-2}
ROUNDS=${ROUNDS:-5}
LEVELS=${LEVELS:-0 1000}
PATHS=(/ready /health /metrics /)
ulimit -n 8192 2>/dev/null || true

ph_find_pg_config
ph_ensure_packages
ph_ensure_user

work=$(mktemp -d /tmp/pg_health_status_bench.XXXXXX)
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
ph_bench_builds "$work"
cc -O2 -o "$work/http_probe" "$PH_ROOT/bench/http_probe.c" -lpthread
hport=$(ph_free_port)
ph_bench_server_start new "max_connections = 1100" "max_files_per_process = 4000" \
	"pg_health.sample_interval = 100ms" "pg_health.http_port = $hport"
PG_CONFIG=${PH_BENCH_PG_CONFIG[new]}
trap 'ph_bench_release_idle; ph_server_stop; rm -rf "$work"' EXIT
ph_psql -q -c 'CREATE EXTENSION pg_health' -c 'CREATE EXTENSION dblink' >/dev/null
wpid=$(ph_bench_http_pid "$PH_SERVER_DIR")
[ -n "$wpid" ] || ph_die "could not find the HTTP worker"
# a full history ring: 600 samples at 100 ms (FILL=0 for a quick look)
sleep "${FILL:-61}"
echo "the HTTP worker: pid $wpid" >&2

key() { local k=${1//\//_}; echo "p${k:-_}"; }

printf '\nstatus page benchmark: %s, one client, a new connection per request, %d rounds of %d s, alternating\n' \
	"$("$PG_CONFIG" --version)" "$ROUNDS" "$DURATION"
printf '%-6s %-14s %9s %10s %9s %9s %8s %10s %s\n' idle path bytes 'req/s' 'p50 ms' 'p99 ms' errors \
	'worker us' 'x /ready req/s (rounds)'
for level in $LEVELS; do
	ph_bench_hold_idle "$level" "$work"
	for r in $(seq 1 "$ROUNDS"); do
		n=${#PATHS[@]}
		for k in $(seq 0 $((n - 1))); do
			p=${PATHS[$(((r + k) % n))]}
			t0=$(ph_bench_ticks "$wpid")
			line=$("$work/http_probe" -p "$hport" -P "$p" -c 1 -T "$DURATION") || true
			t1=$(ph_bench_ticks "$wpid")
			reqs=$(ph_bench_field requests <<<"$line")
			us=$(ph_bench_us_per "$((t1 - t0))" "$reqs")
			echo "$line worker_us=$us" >>"$work/$level.$(key "$p")"
			[ -z "${DEBUG:-}" ] || echo "$p $t0 $t1 $line" >&2
		done
	done
	for p in "${PATHS[@]}"; do
		f="$work/$level.$(key "$p")"
		bytes=$(curl -s "http://127.0.0.1:$hport$p" | wc -c)
		ratios=$(paste -d' ' <(ph_bench_field rps <"$f") <(ph_bench_field rps <"$work/$level.$(key /ready)") |
			awk '{ print ($2 > 0) ? $1 / $2 : 0 }')
		printf '%-6s %-14s %9d %10.0f %9.3f %9.3f %8d %10s %s (%s)\n' "$level" "GET $p" "$bytes" \
			"$(ph_bench_field rps <"$f" | ph_median)" "$(ph_bench_field p50_ms <"$f" | ph_median)" \
			"$(ph_bench_field p99_ms <"$f" | sort -g | tail -1)" \
			"$(ph_bench_field errors <"$f" | awk '{ s += $1 } END { print s + 0 }')" \
			"$(ph_bench_field worker_us <"$f" | ph_median)" \
			"$(ph_median <<<"$ratios" | awk '{ printf "%.3f", $1 }')" "$(ph_range <<<"$ratios")"
	done
done
printf '\ntarget: GET / answered in a few milliseconds at 1000 sessions (p50 and p99 above)\n'
