#!/usr/bin/env bash
# bench/poolers.sh -- what polling PgBouncers costs, side by side in one run.
#
# A throwaway server with pg_health preloaded (sample_interval 100 ms) and
# four real PgBouncers in front of it (Debian's), each with two pools and a
# few clients.  ROUNDS times, alternately:
#   none   no pooler configured
#   four   the four configured (health.configure_pooler)
# each for DURATION seconds, and for each the sampler's time per sample (avg
# and max of sample_duration over the samples of that window, from
# health.history).  The ratio four/none says whether the sampler pays for
# the poolers (it should not: it copies what the pooler worker published).
# Also the cost of a poll per pooler: its wall time (health.poolers
# poll_duration, averaged over the samples) and the pooler worker's CPU time
# per poll of one pooler (/proc/<pid>/stat over the "four" windows).
#
#   bash bench/poolers.sh            ROUNDS=4 DURATION=10 by default
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
source "$(dirname "$0")/../scripts/server.sh"
source "$(dirname "$0")/common.sh"

DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-4}

ph_ensure_packages
ph_ensure_user
pdir=$(mktemp -d /tmp/pg_health_poolers.XXXXXX)
chmod 755 "$pdir"
# this tree, built into a private installation (never the machine's)
ph_bench_builds "$pdir"
ph_bench_server_start new "pg_health.sample_interval = 100ms" "pg_health.history_size = 2000"
PG_CONFIG=${PH_BENCH_PG_CONFIG[new]}
ph_psql -q -c 'CREATE EXTENSION pg_health' >/dev/null
bindir=$("$PG_CONFIG" --bindir)
[ "$(id -u)" = 0 ] && chown "$PH_USER" "$pdir"
client_pids=()
cleanup() {
	for p in "${client_pids[@]}"; do kill -- -"$p" 2>/dev/null || true; done
	for f in "$pdir"/pgb*.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null || true; done
	sleep 0.5
	ph_server_stop
	rm -rf "$pdir"
}
trap cleanup EXIT

# four PgBouncers, two pools each (the database under two names)
ports=()
echo "\"postgres\" \"\"" >"$pdir/users.txt"
for i in 1 2 3 4; do
	port=$(ph_free_port)
	ports+=("$port")
	cat >"$pdir/pgb$i.ini" <<EOF
[databases]
db_a = host=$PGHOST port=$PGPORT dbname=postgres pool_size=4
db_b = host=$PGHOST port=$PGPORT dbname=postgres pool_size=4
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = trust
auth_file = $pdir/users.txt
admin_users = postgres
pool_mode = transaction
logfile = $pdir/pgb$i.log
pidfile = $pdir/pgb$i.pid
EOF
	ph_as_user /usr/sbin/pgbouncer -d "$pdir/pgb$i.ini"
done
[ "$(id -u)" = 0 ] && chown -R "$PH_USER" "$pdir"
sleep 1
# three idle clients per pool, held open
for port in "${ports[@]}"; do
	for db in db_a db_b; do
		for _ in 1 2 3; do
			setsid bash -c "sleep 86400 | exec $(printf %q "$bindir/psql") -X -q -h 127.0.0.1 -p $port -U postgres $db" \
				>/dev/null 2>&1 &
			client_pids+=($!)
		done
	done
done

configure() {
	if [ "$1" = four ]; then
		for i in 1 2 3 4; do
			ph_psql -Atq -c "SELECT health.configure_pooler('pgb$i', 'host=127.0.0.1 port=${ports[$((i - 1))]} dbname=pgbouncer user=postgres')" >/dev/null
		done
		for _ in $(seq 1 100); do
			[ "$(ph_psql -Atq -c "SELECT count(*) FROM health.poolers WHERE state = 'answering'")" = 4 ] && return
			sleep 0.1
		done
		ph_die "the four poolers did not answer"
	else
		for i in 1 2 3 4; do ph_psql -Atq -c "SELECT health.drop_pooler('pgb$i')" >/dev/null; done
		for _ in $(seq 1 100); do
			[ "$(ph_psql -Atq -c "SELECT count(*) FROM health.poolers")" = 0 ] && return
			sleep 0.1
		done
		ph_die "the poolers were not dropped"
	fi
}
generation() { ph_psql -Atq -c 'SELECT generation FROM health.status'; }
# the pooler worker of this server: a child of its postmaster (it has no pg_stat_activity row)
poller_pid() {
	ps -o pid=,args= --ppid "$(head -1 "$PH_SERVER_DIR/data/postmaster.pid")" |
		awk 'index($0, "pg_health poller") { print $1; exit }'
}
polls_total() { ph_psql -Atq -c 'SELECT coalesce(sum(polls), 0) FROM health.poolers'; }

declare -A sum_avg sum_n max_seen
sum_avg=([none]=0 [four]=0); sum_n=([none]=0 [four]=0); max_seen=([none]=0 [four]=0)
poll_wall=() ; cpu=0 ; polls=0
pid=$(poller_pid)
[ -n "$pid" ] || ph_die "no pooler worker found"
for r in $(seq 1 "$ROUNDS"); do
	for mode in none four; do
		configure "$mode"
		sleep 1
		g0=$(generation)
		t0=$(ph_bench_ticks "$pid"); p0=$( [ $mode = four ] && polls_total || echo 0)
		end=$((SECONDS + DURATION))
		while [ $SECONDS -lt $end ]; do
			if [ $mode = four ]; then
				poll_wall+=("$(ph_psql -Atq -c "SELECT round(avg(extract(epoch FROM poll_duration)) * 1e6) FROM health.poolers")")
			fi
			sleep 0.5
		done
		if [ $mode = four ]; then
			cpu=$((cpu + $(ph_bench_ticks "$pid") - t0))
			polls=$((polls + $(polls_total) - p0))
		fi
		read -r avg mx n < <(ph_psql -Atq -F ' ' -c "SELECT round(avg(extract(epoch FROM sample_duration)) * 1e6), round(max(extract(epoch FROM sample_duration)) * 1e6), count(*) FROM health.history WHERE generation > $g0")
		printf 'round %d %-5s sampler %6s us avg, %6s us max over %s samples\n' "$r" "$mode" "$avg" "$mx" "$n"
		sum_avg[$mode]=$((sum_avg[$mode] + avg)); sum_n[$mode]=$((sum_n[$mode] + 1))
		[ "$mx" -gt "${max_seen[$mode]}" ] && max_seen[$mode]=$mx
	done
done
a_none=$((sum_avg[none] / sum_n[none])); a_four=$((sum_avg[four] / sum_n[four]))
wall=$(printf '%s\n' "${poll_wall[@]}" | awk '{ s += $1; n++ } END { printf "%.0f", s / n }')
hz=$(getconf CLK_TCK)
printf '\nsampler time per sample: no pooler %d us avg (max %d), four poolers %d us avg (max %d): ratio %s\n' \
	"$a_none" "${max_seen[none]}" "$a_four" "${max_seen[four]}" \
	"$(awk -v a="$a_four" -v b="$a_none" 'BEGIN { printf "%.2f", a / b }')"
printf 'a poll of one pooler (connect, 5 SHOW statements, disconnect): %s us wall, %s us CPU of the pooler worker (%d polls)\n' \
	"$wall" "$(awk -v c="$cpu" -v hz="$hz" -v p="$polls" 'BEGIN { printf "%.0f", (p > 0 ? c / hz * 1e6 / p : 0) }')" "$polls"
