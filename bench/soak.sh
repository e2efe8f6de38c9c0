#!/usr/bin/env bash
# bench/soak.sh -- test/t/015_soak.pl's workload for half an hour, printing
# every minute the anonymous resident memory (RssAnon, /proc/PID/status) of
# pg_health's processes and of one long-lived SQL session, for a human to
# read: flat lines, or a leak and its rate.
#
# A throwaway preloaded server (scripts/server.sh) samples every 100 ms,
# serves HTTP on a free port of 127.0.0.1, runs two custom checks every
# 100 ms in pg_health.database (one flips between ok and warning every half
# second) and keeps a 20-event ring full (a component flips ready/failed
# every 0.3 s).  Until SOAK_SECONDS have passed, all at once, each paced so
# that half an hour stays a soak, not a load test of a shared machine (a
# rate of 0 removes the pace):
#   HTTP     /live /ready /startup /health /metrics /primary /replica in
#            turn, 100 requests each, HTTP_CLIENTS (2) concurrent clients,
#            a new connection per request (bench/http_probe.c), at most
#            HTTP_RATE (100) requests a second in all
#   SQL      ONE session calling health.live(), ready(), started(), report(),
#            checks() and selecting from every health.* view, a statement
#            each: SQL_RATE (50) such rounds a second
#   churn    CHURN_RATE (20) new connections a second (pgbench -C -R), half
#            as one role to pg_health.database, half as another to postgres
# Every process runs as the unprivileged user.
#
# The last lines give each process's growth from the first report after the
# start (the first SOAK_REPORT_SECONDS are the warm-up) to the end; the
# script exits 1 if one grew by SOAK_LIMIT_KB (2048) or more, or restarted.
# A process past SOAK_MAX_RSS_MB (3072) stops the soak early: a fast leak
# must not take the machine's memory.
#
# Usage: bash bench/soak.sh   (SOAK_SECONDS=1800 SOAK_REPORT_SECONDS=60
#                              HTTP_RATE=100 HTTP_CLIENTS=2 SQL_RATE=50 CHURN_RATE=20
#                              SOAK_LIMIT_KB=2048 SOAK_MAX_RSS_MB=3072;
#                              SOAK_NO_BUILD=1 soaks the pg_health already
#                              installed for PG_CONFIG instead of building one)
source "$(dirname "$0")/../scripts/lib.sh"
source "$(dirname "$0")/../scripts/server.sh"

SOAK_SECONDS=${SOAK_SECONDS:-1800}
SOAK_REPORT_SECONDS=${SOAK_REPORT_SECONDS:-60}
HTTP_RATE=${HTTP_RATE:-100}
HTTP_CLIENTS=${HTTP_CLIENTS:-2}
SQL_RATE=${SQL_RATE:-50}
CHURN_RATE=${CHURN_RATE:-20}
SOAK_LIMIT_KB=${SOAK_LIMIT_KB:-2048}
SOAK_MAX_RSS_MB=${SOAK_MAX_RSS_MB:-3072}
PATHS=(/live /ready /startup /health /metrics /primary /replica)

ph_ensure_packages
ph_ensure_user
[ -n "${SOAK_NO_BUILD:-}" ] || ph_build_install
bindir=$("$PG_CONFIG" --bindir)

work=$(mktemp -d /tmp/pg_health_soak.XXXXXX)
chmod 755 "$work"
cc -O2 -o "$work/http_probe" "$PH_ROOT/bench/http_probe.c" -lpthread
[ "$(id -u)" = 0 ] && chown "$PH_USER" "$work"
hport=$(ph_free_port)
ph_server_start "pg_health.sample_interval = 100ms" "pg_health.http_port = $hport" \
	"pg_health.database = 'soak'" "pg_health.events_size = 20" "pg_health.history_size = 60" \
	"max_connections = 40" "log_min_messages = warning"
jobs_pids=()
cleanup() {
	local p
	touch "$work/stop" "$work/done" 2>/dev/null || true
	for p in "${jobs_pids[@]}"; do kill "$p" 2>/dev/null || true; done
	ph_server_stop
	rm -rf "$work"
}
trap cleanup EXIT

ph_psql -q -c 'CREATE DATABASE soak' -c 'CREATE ROLE churn_a LOGIN' -c 'CREATE ROLE churn_b LOGIN' >/dev/null
PGDATABASE=soak ph_psql -q >/dev/null <<'SQL'
CREATE EXTENSION pg_health;
SELECT health.register_check('steady', 'SELECT true', run_interval => '100ms');
SELECT health.register_check('flip', 'SELECT floor(extract(epoch FROM clock_timestamp()) * 2)::bigint % 2 = 0',
                             severity => 'warning', run_interval => '100ms');
SELECT health.configure_component('flipper');
SQL
q() { PGDATABASE=soak ph_psql -Atq -c "$1"; }
for _ in $(seq 1 100); do
	[ "$(q "SELECT count(*) FROM health.checks WHERE name LIKE 'custom:%' AND detail NOT LIKE 'has not run yet%'")" = 2 ] &&
		break
	sleep 0.2
done

start=$(date +%s)
end=$((start + SOAK_SECONDS))
# the load loops run until the end, or until the soak is stopped early
running() { [ "$(date +%s)" -lt "$end" ] && [ ! -e "$work/stop" ]; }
# pace: sleep until $1 + $2 / $3 seconds (when it began, units done, units a second)
pace() {
	[ "$3" -gt 0 ] || return 0
	sleep "$(awk -v t0="$1" -v n="$2" -v r="$3" -v now="$EPOCHREALTIME" \
		'BEGIN { w = t0 + n / r - now; printf "%.3f", (w > 0) ? w : 0 }')"
}

# transitions: a component flipping ready/failed every 0.3 s
flips=$((SOAK_SECONDS * 10 / 3 + 10))
PGDATABASE=soak ph_psql -q -c "
	DO \$\$
	BEGIN
	  FOR i IN 1 .. $flips LOOP
	    PERFORM health.set_component_state('flipper', CASE WHEN i % 2 = 0 THEN 'ready' ELSE 'failed' END, 'flip ' || i);
	    PERFORM pg_sleep(0.3);
	  END LOOP;
	END \$\$" >/dev/null 2>&1 &
jobs_pids+=($!)

# HTTP: every path in turn, 100 requests each, until the end
(
	while running; do
		t0=$EPOCHREALTIME
		for p in "${PATHS[@]}"; do
			ph_as_user "$work/http_probe" -p "$hport" -P "$p" -c "$HTTP_CLIENTS" -n 100 || true
		done
		pace "$t0" $((100 * ${#PATHS[@]})) "$HTTP_RATE"
	done
) >"$work/http.log" 2>&1 &
jobs_pids+=($!)

# SQL: one session, fed rounds until the end ("\echo round" after each 100),
# then kept open, idle, until its last figure is read
views=$(q "SELECT string_agg(format('SELECT * FROM %I.%I;', schemaname, viewname), E'\n' ORDER BY viewname)
           FROM pg_views WHERE schemaname = 'health'")
{
	for f in 'live()' 'ready()' 'started()' 'report()' 'checks()'; do echo "SELECT health.$f;"; done
	echo "$views"
} >"$work/round.sql"
for _ in $(seq 1 100); do cat "$work/round.sql"; done >"$work/round100.sql"
echo '\echo round' >>"$work/round100.sql"
(
	echo "SELECT pg_backend_pid() \\g $work/session.pid"
	echo '\o /dev/null'
	while running; do
		t0=$EPOCHREALTIME
		cat "$work/round100.sql"
		pace "$t0" 100 "$SQL_RATE"
	done
	while [ ! -e "$work/done" ]; do sleep 0.2; done
) | PGDATABASE=soak ph_psql -At >"$work/sql.progress" 2>"$work/sql.err" &
jobs_pids+=($!)

# churn: pgbench -C, a new connection per transaction
echo 'SELECT 1;' >"$work/select1.sql"
chmod 644 "$work/select1.sql"
rate=()
[ "$CHURN_RATE" -gt 0 ] && rate=(-R "$(((CHURN_RATE + 1) / 2))")
for who in churn_a:soak churn_b:postgres; do
	ph_as_user env PGHOST="$PGHOST" PGPORT="$PGPORT" "$bindir/pgbench" -n -C -c 1 "${rate[@]}" \
		-T "$SOAK_SECONDS" -f "$work/select1.sql" -U "${who%%:*}" "${who#*:}" >>"$work/churn.log" 2>&1 &
	jobs_pids+=($!)
done

# the processes watched
for _ in $(seq 1 50); do [ -s "$work/session.pid" ] && break; sleep 0.1; done
backend_pid() { q "SELECT pid FROM pg_stat_activity WHERE backend_type = '$1'"; }
# the HTTP worker has no row in pg_stat_activity: by its title, a child of the postmaster
http_pid() { pgrep -P "$(head -n 1 "$PH_SERVER_DIR/data/postmaster.pid")" -f 'pg_health http' | head -n 1; }
declare -A pid=(
	[http]=$(http_pid)
	[sampler]=$(q 'SELECT worker_pid FROM health.status')
	[checker]=$(backend_pid 'pg_health checker')
	[names]=$(backend_pid 'pg_health names')
	[session]=$(tr -dc '0-9' <"$work/session.pid" 2>/dev/null || true))
procs=(http sampler checker names session)
rss() { awk '/^RssAnon:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo '?'; }

printf '\npg_health soak: %s, %d s, a line every %d s; RssAnon in kB\n' \
	"$("$PG_CONFIG" --version)" "$SOAK_SECONDS" "$SOAK_REPORT_SECONDS"
printf 'load: HTTP %s req/s (%s clients), SQL %s rounds/s of %d statements, %s connections/s (0 = unpaced)\n' \
	"$HTTP_RATE" "$HTTP_CLIENTS" "$SQL_RATE" "$(wc -l <"$work/round.sql")" "$CHURN_RATE"
printf 'pids:'; for p in "${procs[@]}"; do printf ' %s %s' "$p" "${pid[$p]}"; done; echo
printf '%7s' time; printf ' %10s' "${procs[@]}"
printf ' %12s %11s %12s %7s\n' 'http req' 'sql rounds' connections events
declare -A first=() last=()
report() {
	local t=$1 p line http rounds conns events
	line=$(printf '%4d:%02d' $((t / 60)) $((t % 60)))
	for p in "${procs[@]}"; do
		last[$p]=$(rss "${pid[$p]}")
		line+=$(printf ' %10s' "${last[$p]}")
	done
	http=$(sed -n -E 's/.*requests=([0-9]+).*/\1/p' "$work/http.log" | awk '{ s += $1 } END { print s + 0 }')
	rounds=$(($(grep -c '^round$' "$work/sql.progress" || true) * 100))
	conns=$(q 'SELECT connections_authenticated FROM health.connections' || echo '?')
	events=$(q 'SELECT count(*) FROM health.events' || echo '?')
	printf '%s %12s %11s %12s %7s\n' "$line" "$http" "$rounds" "$conns" "$events"
}
# a process past SOAK_MAX_RSS_MB: its name
too_big() {
	local p r
	for p in "${procs[@]}"; do
		r=$(rss "${pid[$p]}")
		if [[ "$r" =~ ^[0-9]+$ ]] && [ "$r" -gt $((SOAK_MAX_RSS_MB * 1024)) ]; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

report 0
t_next=$SOAK_REPORT_SECONDS
early=
while :; do
	[ "$t_next" -gt "$SOAK_SECONDS" ] && t_next=$SOAK_SECONDS
	now=$(date +%s)
	if [ "$now" -lt $((start + t_next)) ]; then
		sleep $((start + t_next - now < 5 ? start + t_next - now : 5))
		big=$(too_big) || continue
		early="$big passed $SOAK_MAX_RSS_MB MB"
		touch "$work/stop"
		t=$(($(date +%s) - start))
	else
		t=$t_next
	fi
	report "$t"
	if [ "${#first[@]}" -eq 0 ]; then
		for p in "${procs[@]}"; do first[$p]=${last[$p]}; done
		t_first=$t
	fi
	[ -n "$early" ] && { echo "stopped early: $early"; break; }
	[ "$t" -ge "$SOAK_SECONDS" ] && break
	t_next=$((t_next + SOAK_REPORT_SECONDS))
done
touch "$work/stop" "$work/done"

# the workers must still be the ones measured
restarted=
[ "$(http_pid)" = "${pid[http]}" ] || restarted+=' http'
[ "$(q 'SELECT worker_pid FROM health.status')" = "${pid[sampler]}" ] || restarted+=' sampler'
[ "$(backend_pid 'pg_health checker')" = "${pid[checker]}" ] || restarted+=' checker'
[ "$(backend_pid 'pg_health names')" = "${pid[names]}" ] || restarted+=' names'
if [ -s "$work/sql.err" ]; then
	echo 'the SQL session said:'
	head -5 "$work/sql.err"
fi

printf '\ngrowth from %d:%02d (after the warm-up) to %d:%02d:\n' $((t_first / 60)) $((t_first % 60)) \
	$((t / 60)) $((t % 60))
status=0
for p in "${procs[@]}"; do
	if [[ "${first[$p]}" =~ ^[0-9]+$ && "${last[$p]}" =~ ^[0-9]+$ ]]; then
		d=$((last[$p] - first[$p]))
		verdict=flat
		if [ "$d" -ge "$SOAK_LIMIT_KB" ]; then
			verdict="GROWS (limit $SOAK_LIMIT_KB kB)"
			status=1
		fi
		printf '  %-8s %+10d kB  %+10.1f kB/min  %s\n' "$p" "$d" \
			"$(awk -v d="$d" -v s=$((t - t_first)) 'BEGIN { print (s > 0) ? d * 60 / s : 0 }')" "$verdict"
	else
		printf '  %-8s not measured (process gone?)\n' "$p"
		status=1
	fi
done
if [ -n "$restarted" ]; then
	echo "restarted during the soak (its figures are not comparable):$restarted"
	status=1
fi
[ -z "$early" ] || status=1
exit $status
