#!/usr/bin/env bash
# bench/http.sh -- the HTTP probe endpoint against bgw_replstatus, side by
# side on one throwaway server (two with BASELINE), the way probes use them: a new TCP
# connection per request (bench/http_probe.c: connect, request, read, close),
# 1 and 8 concurrent clients.
#
#   pg_health   GET /ready                 the full verdict, from shared memory
#   bgw_replstatus                          answers MASTER/STANDBY on connect
#   SELECT health.ready()                   over already-open connections
#                                           (pgbench, prepared), for reference
#
# ROUNDS short runs per cell, alternating pg_health and bgw_replstatus; the
# ratio reported is the median of each round's pg_health/bgw_replstatus
# requests/s.  Of the latencies, p50 is the median of the rounds' medians,
# p99 the worst round's 99th percentile, max the slowest request of all
# rounds.  The answering worker is "pg_health http" (the sampler in builds
# from before it, which served HTTP in its wait).  "worker us"
# is the answering worker's CPU time (user + system, from /proc) per request,
# the median over rounds: the server's side of the cost, without the client's.
# "machine us" is the whole machine's busy CPU time per request (user, nice,
# system, irq and softirq from /proc/stat): client, kernel and server
# together, what bounds the rate once the clients keep both cores busy.
#
# BASELINE=<git revision> (HEAD, a commit) measures that revision's build
# too, on a second server with the same settings, in the same alternating
# rounds: the side-by-side comparison of a change.  Each build is installed
# into a private copy of PostgreSQL (bench/common.sh), never into the
# machine's.
#
# Usage: bash bench/http.sh   (DURATION=3 ROUNDS=5 CLIENTS="1 8" BASELINE=)
source "$(dirname "$0")/../scripts/lib.sh"
source "$(dirname "$0")/../scripts/server.sh"
source "$(dirname "$0")/common.sh"

DURATION=${DURATION:-3}
ROUNDS=${ROUNDS:-5}
CLIENTS=${CLIENTS:-1 8}

ph_find_pg_config
major=$("$PG_CONFIG" --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')
ph_ensure_packages "postgresql-$major-bgw-replstatus"
ph_ensure_user

work=$(mktemp -d /tmp/pg_health_http_bench.XXXXXX)
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
ph_bench_builds "$work"
cc -O2 -o "$work/http_probe" "$PH_ROOT/bench/http_probe.c" -lpthread
# one server per build; bgw_replstatus on the first
declare -A hport wpid
for b in "${PH_BENCH_BUILDS[@]}"; do
	hport[$b]=$(ph_free_port)
	if [ "$b" = new ]; then
		bport=$(ph_free_port)
		ph_bench_server_start "$b" "shared_preload_libraries = 'pg_health,bgw_replstatus'" \
			"pg_health.http_port = ${hport[$b]}" "bgw_replstatus.port = $bport" "bgw_replstatus.bind = '127.0.0.1'"
		new_server=$PH_SERVER_DIR new_pgport=$PGPORT
	else
		ph_bench_server_start "$b" "pg_health.http_port = ${hport[$b]}"
	fi
	ph_psql -q -c 'CREATE EXTENSION pg_health' -c 'SELECT health.refresh()' >/dev/null
	wpid[$b]=$(ph_bench_http_pid "$PH_SERVER_DIR")
done
trap 'rm -rf "$work"; ph_server_stop' EXIT
# SQL's reference runs against the first server
PGHOST=$new_server PGPORT=$new_pgport
bindir=$("$PG_CONFIG" --bindir)
echo 'SELECT health.ready();' >"$work/ready.sql"
chmod 644 "$work/ready.sql"


# the answering workers ("pg_health http", or the sampler in builds that
# served HTTP from it), and the CPU time (utime + stime, in clock ticks) each
# has used so far: the cost of a request on the server side, whatever the
# client costs
postmaster=$(head -1 "$new_server/data/postmaster.pid")
wpid[bgw]=$(ps -o pid=,args= --ppid "$postmaster" | awk 'index($0, "bgw_replstatus") { print $1; exit }')
for e in "${PH_BENCH_BUILDS[@]}" bgw; do
	[ -n "${wpid[$e]}" ] || ph_die "could not find the answering worker of $e"
done
busy_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }

# one run: prints the probe's line with the worker's CPU per request, keeps
# every request's latency
probe() {	# name clients args...
	local name=$1 c=$2 t0 t1 m0 m1 line n
	shift 2
	t0=$(ph_bench_ticks "${wpid[$name]}")
	m0=$(busy_ticks)
	line=$("$work/http_probe" -c "$c" -T "$DURATION" "$@") || true
	t1=$(ph_bench_ticks "${wpid[$name]}")
	m1=$(busy_ticks)
	n=$(ph_bench_field requests <<<"$line")
	printf '%s worker_us=%s machine_us=%s\n' "$line" \
		"$(ph_bench_us_per "$((t1 - t0))" "$n")" "$(ph_bench_us_per "$((m1 - m0))" "$n")" \
		>>"$work/$name.$c.lines"
}

# the ratio of two endpoints' FIELD in each round, one per line
round_ratios() {	# field a b clients
	paste -d' ' <(ph_bench_field "$1" <"$work/$2.$4.lines") <(ph_bench_field "$1" <"$work/$3.$4.lines") |
		awk '{ print ($2 > 0) ? $1 / $2 : 0 }'
}

endpoints=("${PH_BENCH_BUILDS[@]}" bgw)
printf '\nHTTP probe benchmark: %s, a new connection per request, %d rounds of %d s, alternating\n' \
	"$("$PG_CONFIG" --version)" "$ROUNDS" "$DURATION"
[ -z "${BASELINE:-}" ] || printf '%s: this tree; %s: BASELINE=%s, on a second server\n' \
	"${PH_BENCH_LABEL[new]}" "${PH_BENCH_LABEL[base]}" "$BASELINE"
printf '%-8s %-30s %10s %9s %9s %9s %8s %10s %10s %s\n' clients endpoint 'req/s' 'p50 ms' 'p99 ms' 'max ms' errors \
	'worker us' 'machine us' 'x bgw_replstatus'
for c in $CLIENTS; do
	for r in $(seq 1 "$ROUNDS"); do
		# each round in another order: every endpoint goes first as often
		n=${#endpoints[@]}
		for k in $(seq 0 $((n - 1))); do
			e=${endpoints[$(((r + k) % n))]}
			if [ "$e" = bgw ]; then
				probe bgw "$c" -p "$bport" -r
			else
				probe "$e" "$c" -p "${hport[$e]}" -P /ready
			fi
		done
	done
	for name in "${endpoints[@]}"; do
		f="$work/$name.$c.lines"
		if [ "$name" = bgw ]; then
			label='bgw_replstatus (raw TCP)' vs=1.00
		else
			label="${PH_BENCH_LABEL[$name]} GET /ready"
			vs="$(round_ratios rps "$name" bgw "$c" | ph_median | awk '{ printf "%.3f", $1 }') (rounds $(round_ratios rps "$name" bgw "$c" | ph_range))"
		fi
		printf '%-8s %-30s %10.0f %9.3f %9.3f %9.1f %8d %10.1f %10.1f %s\n' "$c" "$label" \
			"$(ph_bench_field rps <"$f" | ph_median)" "$(ph_bench_field p50_ms <"$f" | ph_median)" \
			"$(ph_bench_field p99_ms <"$f" | sort -g | tail -1)" "$(ph_bench_field max_ms <"$f" | sort -g | tail -1)" \
			"$(ph_bench_field errors <"$f" | awk '{ s += $1 } END { print s + 0 }')" \
			"$(ph_bench_field worker_us <"$f" | ph_median)" "$(ph_bench_field machine_us <"$f" | ph_median)" "$vs"
	done
	# reference: the SQL verdict over connections opened once (pgbench's
	# per-transaction log is no use here: at these speeds its lazily taken
	# clock logs many transactions as 0 us, so only its average is shown)
	(ph_as_user env PGHOST="$PGHOST" PGPORT="$PGPORT" PGUSER="$PGUSER" \
		"$bindir/pgbench" -n -M prepared -c "$c" -j "$c" -T "$DURATION" \
		-f "$work/ready.sql" postgres >"$work/pgbench.out" 2>&1) || true
	tps=$(sed -n -E 's/^tps = ([0-9.]+).*/\1/p' "$work/pgbench.out")
	avg=$(sed -n -E 's/^latency average = ([0-9.]+) ms.*/\1/p' "$work/pgbench.out")
	printf '%-8s %-30s %10.0f %9s %9s %9s %8d %10s %10s %s\n' "$c" 'SELECT health.ready() (open)' "$tps" \
		"avg $avg" - - 0 - - 'reference'
done
if [ -n "${BASELINE:-}" ]; then
	printf '\n%s against %s, the median of the ratios of each round (their range):\n' "${PH_BENCH_LABEL[new]}" "${PH_BENCH_LABEL[base]}"
	for c in $CLIENTS; do
		printf '%-8s req/s %s (%s)   p50 %s (%s)   p99 %s (%s)\n' "$c" \
			"$(round_ratios rps new base "$c" | ph_median | awk '{ printf "%.3f", $1 }')" "$(round_ratios rps new base "$c" | ph_range)" \
			"$(round_ratios p50_ms new base "$c" | ph_median | awk '{ printf "%.3f", $1 }')" "$(round_ratios p50_ms new base "$c" | ph_range)" \
			"$(round_ratios p99_ms new base "$c" | ph_median | awk '{ printf "%.3f", $1 }')" "$(round_ratios p99_ms new base "$c" | ph_range)"
	done
fi
printf '\ntargets: pg_health >= 1.2 x bgw_replstatus req/s; p99 < 1 ms at 8 clients; no request over 50 ms\n'
