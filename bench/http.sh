#!/usr/bin/env bash
# bench/http.sh -- the HTTP probe endpoint against bgw_replstatus, side by
# side on one throwaway server, the way probes use them: a new TCP
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
# requests/s.  Latencies are over all requests of all rounds.  "worker us"
# is the answering worker's CPU time (user + system, from /proc) per request,
# the median over rounds: the server's side of the cost, without the client's.
# "machine us" is the whole machine's busy CPU time per request (user, nice,
# system, irq and softirq from /proc/stat): client, kernel and server
# together, what bounds the rate once the clients keep both cores busy.
#
# Usage: bash bench/http.sh   (DURATION=3 ROUNDS=5 CLIENTS="1 8")
source "$(dirname "$0")/../scripts/lib.sh"
source "$(dirname "$0")/../scripts/server.sh"

DURATION=${DURATION:-3}
ROUNDS=${ROUNDS:-5}
CLIENTS=${CLIENTS:-1 8}

ph_find_pg_config
major=$("$PG_CONFIG" --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')
ph_ensure_packages "postgresql-$major-bgw-replstatus"
ph_ensure_user
ph_build_install

work=$(mktemp -d /tmp/pg_health_http_bench.XXXXXX)
chmod 755 "$work"
cc -O2 -o "$work/http_probe" "$PH_ROOT/bench/http_probe.c" -lpthread
hport=$(ph_free_port)
bport=$(ph_free_port)
ph_server_start "shared_preload_libraries = 'pg_health,bgw_replstatus'" \
	"pg_health.http_port = $hport" "bgw_replstatus.port = $bport" "bgw_replstatus.bind = '127.0.0.1'"
trap 'rm -rf "$work"; ph_server_stop' EXIT
ph_psql -q -c 'CREATE EXTENSION pg_health' -c 'SELECT health.refresh()' >/dev/null
bindir=$("$PG_CONFIG" --bindir)
echo 'SELECT health.ready();' >"$work/ready.sql"
chmod 644 "$work/ready.sql"

field() { sed -n -E "s/(^|.* )$1=([0-9.]+).*/\2/p"; }

# the answering workers, and the CPU time (utime + stime, in clock ticks) each
# has used so far: the cost of a request on the server side, whatever the
# client costs
postmaster=$(head -1 "$PH_SERVER_DIR/data/postmaster.pid")
worker_pid() { ps -o pid=,args= --ppid "$postmaster" | awk -v t="$1" 'index($0, t) { print $1; exit }'; }
declare -A wpid=([pg_health]=$(worker_pid 'pg_health sampler') [bgw]=$(worker_pid 'bgw_replstatus'))
[ -n "${wpid[pg_health]}" ] && [ -n "${wpid[bgw]}" ] || ph_die "could not find the two workers"
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
busy_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }
hz=$(getconf CLK_TCK)
per_request_us() { awk -v t="$1" -v hz="$hz" -v n="$2" 'BEGIN { printf "%.1f", (n > 0) ? t * 1e6 / hz / n : 0 }'; }	# ticks requests

# one run: prints the probe's line with the worker's CPU per request, keeps
# every request's latency
probe() {	# name clients args...
	local name=$1 c=$2 t0 t1 m0 m1 line n
	shift 2
	t0=$(ticks "${wpid[$name]}")
	m0=$(busy_ticks)
	line=$("$work/http_probe" -c "$c" -T "$DURATION" "$@") || true
	t1=$(ticks "${wpid[$name]}")
	m1=$(busy_ticks)
	n=$(field requests <<<"$line")
	printf '%s worker_us=%s machine_us=%s\n' "$line" \
		"$(per_request_us "$((t1 - t0))" "$n")" "$(per_request_us "$((m1 - m0))" "$n")" \
		>>"$work/$name.$c.lines"
}

printf '\nHTTP probe benchmark: %s, a new connection per request, %d rounds of %d s, alternating\n' \
	"$("$PG_CONFIG" --version)" "$ROUNDS" "$DURATION"
printf '%-8s %-28s %10s %9s %9s %9s %8s %10s %10s %s\n' clients endpoint 'req/s' 'p50 ms' 'p99 ms' 'max ms' errors \
	'worker us' 'machine us' 'x bgw_replstatus'
for c in $CLIENTS; do
	ratios=()
	for r in $(seq 1 "$ROUNDS"); do
		if [ $((r % 2)) -eq 1 ]; then
			probe pg_health "$c" -p "$hport" -P /ready
			probe bgw "$c" -p "$bport" -r
		else
			probe bgw "$c" -p "$bport" -r
			probe pg_health "$c" -p "$hport" -P /ready
		fi
		a=$(tail -1 "$work/pg_health.$c.lines" | field rps)
		b=$(tail -1 "$work/bgw.$c.lines" | field rps)
		ratios+=("$(awk -v a="$a" -v b="$b" 'BEGIN { print (b > 0) ? a / b : 0 }')")
	done
	ratio=$(printf '%s\n' "${ratios[@]}" | ph_median | awk '{ printf "%.3f", $1 }')
	range=$(printf '%s\n' "${ratios[@]}" | ph_range)
	for name in pg_health bgw; do
		f="$work/$name.$c.lines"
		label=$([ "$name" = pg_health ] && echo 'pg_health GET /ready' || echo 'bgw_replstatus (raw TCP)')
		printf '%-8s %-28s %10.0f %9.3f %9.3f %9.1f %8d %10.1f %10.1f %s\n' "$c" "$label" \
			"$(field rps <"$f" | ph_median)" "$(field p50_ms <"$f" | ph_median)" \
			"$(field p99_ms <"$f" | sort -g | tail -1)" "$(field max_ms <"$f" | sort -g | tail -1)" \
			"$(field errors <"$f" | awk '{ s += $1 } END { print s + 0 }')" \
			"$(field worker_us <"$f" | ph_median)" "$(field machine_us <"$f" | ph_median)" \
			"$([ "$name" = pg_health ] && echo "$ratio (rounds $range)" || echo 1.00)"
	done
	# reference: the SQL verdict over connections opened once (pgbench's
	# per-transaction log is no use here: at these speeds its lazily taken
	# clock logs many transactions as 0 us, so only its average is shown)
	(ph_as_user env PGHOST="$PGHOST" PGPORT="$PGPORT" PGUSER="$PGUSER" \
		"$bindir/pgbench" -n -M prepared -c "$c" -j "$c" -T "$DURATION" \
		-f "$work/ready.sql" postgres >"$work/pgbench.out" 2>&1) || true
	tps=$(sed -n -E 's/^tps = ([0-9.]+).*/\1/p' "$work/pgbench.out")
	avg=$(sed -n -E 's/^latency average = ([0-9.]+) ms.*/\1/p' "$work/pgbench.out")
	printf '%-8s %-28s %10.0f %9s %9s %9s %8d %10s %10s %s\n' "$c" 'SELECT health.ready() (open)' "$tps" \
		"avg $avg" - - 0 - - 'reference'
done
printf '\ntargets: pg_health >= 1.2 x bgw_replstatus req/s; p99 < 1 ms at 8 clients; no request over 50 ms\n'
