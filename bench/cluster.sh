#!/usr/bin/env bash
# bench/cluster.sh -- what pg_health's cluster polling costs (issue 29), side
# by side in one run.
#
# a. The poll's cost.  Three servers from this tree (a primary, M, and two
#    streaming standbys of it, A and B, from pg_basebackup), each with
#    pg_health's HTTP endpoint on 127.0.0.1; only M polls.  ROUNDS rounds,
#    each a window of DURATION seconds per configuration of M's
#    pg_health.cluster_members, in alternating order (set with ALTER SYSTEM
#    and a reload, a second to settle before each window):
#      0    empty: no polling at all
#      3    db1=M (M itself), db2=A, db3=B
#      10   db1..db10 over the same three ports (M 4 times, A and B 3 each)
#    at pg_health.cluster_interval INTERVAL (default 100 ms, the least the
#    setting allows: many polls a window, a precise figure per poll).  Per
#    window: the CPU time of M's pooler worker, which polls ("pg_health
#    poller", /proc/<pid>/schedstat, nanoseconds), and of the HTTP workers
#    of A and B, which answer ("pg_health http"; M's answers its own poll
#    too, as any member's does, and is left out: it is the one process that
#    serves M's other requests).  Rounds a second: 1 / INTERVAL, each a poll
#    of every member (the next round is due one interval after the last one
#    began, so the period is INTERVAL plus the wakeup's rounding to a
#    millisecond: the figures per round and per poll are high by at most
#    that part, about 1 %).  Reported, medians over rounds: each
#    configuration's CPU per second, the poller's against the 3-member
#    one's (the empty one's is next to nothing), the extra CPU (against the
#    same round's empty window) per polling round and per poll, a round's
#    fixed part and its part per member (from the 3- and 10-member rounds),
#    the answering HTTP worker's extra CPU per answer, and what that comes
#    to at the default interval (1 s).  And the bytes of a poll: the request
#    the poller sends (its text, from cluster_poll.c) and a member's answer
#    to it (sent by python3 to A, counted), at the HTTP level (TCP's own
#    handshake and headers not counted).
#
# b. With PATRONI=N (default 0: not run), test/t/040_patroni.pl N times
#    (scripts/test, this machine's PostgreSQL): a real Patroni cluster with
#    etcd and HAProxy, switched over, polled every 20 ms; each run's line of
#    times, then their medians: Patroni's /cluster naming the new leader,
#    every node's pg_health /cluster naming the new primary, its /primary
#    200, the old leader's leaving, a write through HAProxy.
#
# Builds: this tree, into a private installation (bench/common.sh).  Runs
# as root (the servers as the unprivileged user, as everywhere).
#
# Usage: bash bench/cluster.sh   (ROUNDS=4 DURATION=10 INTERVAL=100ms PATRONI=0)
source "$(dirname "$0")/../scripts/lib.sh"
source "$(dirname "$0")/../scripts/server.sh"
source "$(dirname "$0")/common.sh"

ROUNDS=${ROUNDS:-4}
DURATION=${DURATION:-10}
INTERVAL=${INTERVAL:-100ms}
PATRONI=${PATRONI:-0}
case $INTERVAL in
	*ms) interval_ms=${INTERVAL%ms} ;;
	*s) interval_ms=$((${INTERVAL%s} * 1000)) ;;
	*) ph_die "INTERVAL=$INTERVAL: in ms or s (100ms, 1s)" ;;
esac

ph_ensure_packages
ph_ensure_user
work=$(mktemp -d /tmp/pg_health_cluster.XXXXXX)
chmod 755 "$work"
cleanup() {
	ph_server_stop
	rm -rf "$work"
}
trap cleanup EXIT
ph_bench_builds "$work"
machine_pg_config=$PG_CONFIG	# for scripts/test (b), which builds for itself
PG_CONFIG=${PH_BENCH_PG_CONFIG[new]}
bindir=$("$PG_CONFIG" --bindir)

# --- a. three servers: M, and A and B streaming from it ------------------------

common=("pg_health.http_listen_addresses = '127.0.0.1'" "pg_health.cluster_interval = $INTERVAL"
	"pg_health.cluster_timeout = 1s" "autovacuum = off")
declare -A dir port hport
hport[M]=$(ph_free_port)
ph_bench_server_start new "${common[@]}" "pg_health.http_port = ${hport[M]}" "pg_health.cluster_name = 'db1'"
trap cleanup EXIT	# ph_server_start sets its own
dir[M]=$PH_SERVER_DIR port[M]=$PGPORT
ph_psql -q -c 'CREATE EXTENSION pg_health' >/dev/null
for s in A B; do
	d=$(mktemp -d /tmp/pg_health_server.XXXXXX)
	chmod 755 "$d"
	[ "$(id -u)" = 0 ] && chown "$PH_USER" "$d"
	PH_SERVER_DIRS+=("$d")	# ph_server_stop stops and removes it
	port[$s]=$(ph_free_port) hport[$s]=$(ph_free_port) dir[$s]=$d
	ph_as_user "$bindir/pg_basebackup" -h "${dir[M]}" -p "${port[M]}" -U postgres -D "$d/data" -R -X stream -c fast
	printf '%s\n' "port = ${port[$s]}" "unix_socket_directories = '$d'" "pg_health.http_port = ${hport[$s]}" \
		"pg_health.cluster_name = 'db$([ $s = A ] && echo 2 || echo 3)'" |
		ph_as_user tee -a "$d/data/postgresql.conf" >/dev/null
	ph_as_user "$bindir/pg_ctl" -D "$d/data" -l "$d/server.log" -w start >/dev/null ||
		{ cat "$d/server.log" >&2; ph_die "standby $s did not start"; }
done
at() { PGHOST=${dir[$1]} PGPORT=${port[$1]}; }	# point ph_psql at a server
at M
[ "$(ph_psql -Atq -c "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")" = 2 ] ||
	ph_die "the two standbys do not stream from M"

worker_of() {	# server, title
	ps -o pid=,args= --ppid "$(head -1 "${dir[$1]}/data/postmaster.pid")" | awk -v t="$2" 'index($0, t) { print $1; exit }'
}
run_ns() { awk '{ print $1 }' "/proc/$1/schedstat"; }	# CPU time used so far, ns
now() { date +%s.%N; }
poller=$(worker_of M 'pg_health poller')
http_a=$(worker_of A 'pg_health http')
http_b=$(worker_of B 'pg_health http')
[ -n "$poller" ] && [ -n "$http_a" ] && [ -n "$http_b" ] || ph_die "pg_health's workers not found (poller '$poller', http '$http_a' '$http_b')"

declare -A list polled_a polled_b
addr() { echo "127.0.0.1:${hport[$1]}"; }
list[0]=''
list[3]="db1=$(addr M),db2=$(addr A),db3=$(addr B)"
list[10]=$(for i in $(seq 1 10); do
	s=$(echo M A B | cut -d' ' -f$(( (i - 1) % 3 + 1 )))
	printf 'db%d=%s,' "$i" "$(addr "$s")"
done | sed 's/,$//')
polled_a=([0]=0 [3]=1 [10]=3) polled_b=([0]=0 [3]=1 [10]=3)
configure() {	# members: 0, 3, 10
	at M
	if [ "$1" = 0 ]; then
		ph_psql -Atq -c 'ALTER SYSTEM RESET pg_health.cluster_members' -c 'SELECT pg_reload_conf()' >/dev/null
	else
		ph_psql -Atq -c "ALTER SYSTEM SET pg_health.cluster_members = '${list[$1]}'" -c 'SELECT pg_reload_conf()' >/dev/null
	fi
	# until M's /cluster shows that many members, every one of them up
	for _ in $(seq 1 100); do
		curl -s "http://$(addr M)/cluster" | python3 -c '
import json, sys
d = json.load(sys.stdin); n = int(sys.argv[1])
sys.exit(0 if d["members_configured"] == n and all(m["state"] == "up" for m in d["members"]) else 1)' "$1" && return
		sleep 0.2
	done
	ph_die "M's /cluster never showed $1 members up"
}
[ "$(worker_of M 'pg_health poller')" = "$poller" ] || ph_die "the poller restarted"

modes=(0 3 10)
printf '\n== a. cluster polling: %d rounds of %d s per configuration, cluster_interval %s, alternating\n' \
	"$ROUNDS" "$DURATION" "$INTERVAL" >&2
for r in $(seq 1 "$ROUNDS"); do
	order=("${modes[@]}")
	[ $((r % 2)) -eq 0 ] && order=(10 3 0)
	for m in "${order[@]}"; do
		configure "$m"
		sleep 1
		p0=$(run_ns "$poller") a0=$(run_ns "$http_a") b0=$(run_ns "$http_b") t0=$(now)
		sleep "$DURATION"
		p1=$(run_ns "$poller") a1=$(run_ns "$http_a") b1=$(run_ns "$http_b") t1=$(now)
		secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
		echo "$r $m $secs $((p1 - p0)) $((a1 - a0)) $((b1 - b0))" >>"$work/a.rows"
		printf 'round %d, %2d members: poller %7.3f ms, HTTP workers of A and B %7.3f + %7.3f ms over %s s\n' "$r" "$m" \
			"$(awk -v x="$((p1 - p0))" 'BEGIN { print x / 1e6 }')" "$(awk -v x="$((a1 - a0))" 'BEGIN { print x / 1e6 }')" \
			"$(awk -v x="$((b1 - b0))" 'BEGIN { print x / 1e6 }')" "$secs" >&2
	done
done
[ "$(worker_of M 'pg_health poller')" = "$poller" ] || ph_die "the poller restarted during the run"

# the bytes of a poll: the poller's request (its text in cluster_poll.c) and
# a member's answer to exactly that request
request=$(sed -n 's/.*static const char request\[\] = "\(.*\)";/\1/p' "$PH_ROOT/src/collect/cluster_poll.c")
[ -n "$request" ] || ph_die "the poller's request not found in src/collect/cluster_poll.c"
read -r req_bytes ans_bytes head_bytes < <(python3 - "$request" "${hport[A]}" <<'PY'
import socket, sys
req = sys.argv[1].encode().decode('unicode_escape').encode()
s = socket.create_connection(("127.0.0.1", int(sys.argv[2])), timeout=5)
s.sendall(req)
ans = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    ans += chunk
s.close()
print(len(req), len(ans), ans.index(b"\r\n\r\n") + 4)
PY
)

# per round and configuration, against the same round's empty window: the
# extra CPU, ms per second (poller, A, B); per polling round of M, us
# (poller); per poll answered, us (A, B); per poll made, us (poller)
awk -v iv="$interval_ms" -v pa3="${polled_a[3]}" -v pa10="${polled_a[10]}" '
	{ k = $1 " " $2; p[k] = $4 / 1e6 / $3; a[k] = $5 / 1e6 / $3; b[k] = $6 / 1e6 / $3
	  rounds[$1] = 1; modes[$2] = 1 }
	END { for (r in rounds) for (m in modes) { k = r " " m; o = r " 0"
	        per_s = 1000 / iv; answered = (m == 3 ? pa3 : m == 10 ? pa10 : 0) * per_s
	        xp = p[k] - p[o]; xa = a[k] - a[o]; xb = b[k] - b[o]
	        printf "%s %s %.4f %.4f %.4f %.4f %.4f %.4f %.1f %.1f %.1f %.1f\n", r, m, p[k], a[k], b[k], xp, xa, xb,
	               (m > 0) ? xp * 1000 / per_s : 0,
	               (m > 0) ? xp * 1000 / (m * per_s) : 0,
	               (answered > 0) ? xa * 1000 / answered : 0,
	               (answered > 0) ? xb * 1000 / answered : 0 } }' "$work/a.rows" >"$work/a.per"
col() { awk -v m="$1" -v c="$2" '$2 == m { print $c }' "$work/a.per"; }
med() { col "$1" "$2" | ph_median; }
# a round of M's poller: a fixed part and a part per member, from the 3- and
# 10-member rounds (per polling round, us: columns 9)
round3=$(med 3 9 | awk '{ printf "%.0f", $1 }') round10=$(med 10 9 | awk '{ printf "%.0f", $1 }')
per_member=$(awk -v a="$round3" -v b="$round10" 'BEGIN { printf "%.0f", (b - a) / 7 }')
fixed=$(awk -v a="$round3" -v m="$per_member" 'BEGIN { printf "%.0f", a - 3 * m }')

# --- b. Patroni: test/t/040_patroni.pl, PATRONI times --------------------------

if [ "$PATRONI" -gt 0 ]; then
	ph_server_stop
	printf '\n== b. test/t/040_patroni.pl, %d runs\n' "$PATRONI" >&2
	for i in $(seq 1 "$PATRONI"); do
		PG_CONFIG=$machine_pg_config PH_LOCAL=1 PH_PRIVATE=1 PH_TAP_ONLY=1 PROVE_FLAGS=-v \
			PROVE_TESTS=test/t/040_patroni.pl bash "$PH_ROOT/scripts/test" >"$work/patroni.$i.log" 2>&1 ||
			{ tail -n 60 "$work/patroni.$i.log" >&2; ph_die "test/t/040_patroni.pl failed (run $i)"; }
		grep -h '^# switchover ' "$work/patroni.$i.log" | sed 's/^# //' | tee -a "$work/patroni.lines" >&2
	done
fi

# --- the results -----------------------------------------------------------------

printf '\ncluster polling benchmark: %s, %d rounds of %d s per configuration, cluster_interval %s\n' \
	"$("$PG_CONFIG" --version)" "$ROUNDS" "$DURATION" "$INTERVAL"
printf 'a. M polls (its pooler worker, "pg_health poller"); A and B answer (their "pg_health http"); medians over rounds\n'
printf '%-8s %8s %8s | %-29s | %-9s | %-9s | %-21s\n' '' '' '' '   CPU, ms per second' '  poller' 'poller us' 'HTTP worker us'
printf '%-8s %8s %8s | %9s %9s %9s | %9s | %9s | %10s %10s\n' members rounds/s polls/s poller 'http A' 'http B' 'vs 3' \
	'per poll' 'answer, A' 'B'
for m in "${modes[@]}"; do
	if [ "$m" = 0 ]; then
		rounds=0 per=(- - -)
	else
		rounds=$((1000 / interval_ms))
		per=("$(med "$m" 10 | awk '{ printf "%.0f", $1 }')" "$(med "$m" 11 | awk '{ printf "%.0f", $1 }')" \
			"$(med "$m" 12 | awk '{ printf "%.0f", $1 }')")
	fi
	printf '%-8s %8s %8s | %9.3f %9.3f %9.3f | %9.2f | %9s | %10s %10s\n' "$m" "$rounds" "$((m * rounds))" \
		"$(med "$m" 3)" "$(med "$m" 4)" "$(med "$m" 5)" \
		"$(awk -v x="$(med "$m" 3)" -v b="$(med 3 3)" 'BEGIN { printf "%.2f", (b > 0) ? x / b : 0 }')" "${per[@]}"
done
printf '(CPU per second as measured; per poll and per answer: the extra over the same round'"'"'s empty window)\n'
printf 'a polling round of M (all members at once): %s us with 3 members, %s us with 10: %s us fixed + %s us a member\n' \
	"$round3" "$round10" "$fixed" "$per_member"
printf '   (rounds %s and %s us; the empty configuration: %.3f ms of the poller per second, no polling)\n' \
	"$(col 3 9 | ph_range %.0f)" "$(col 10 9 | ph_range %.0f)" "$(med 0 3)"
printf 'at the default cluster_interval (1 s): 3 members %s us of the poller a second (%s%% of a core), 10 members %s us (%s%%);\n' \
	"$round3" "$(awk -v x="$round3" 'BEGIN { printf "%.3f", x / 1e4 }')" "$round10" "$(awk -v x="$round10" 'BEGIN { printf "%.3f", x / 1e4 }')"
printf '   and a member'"'"'s HTTP worker %.0f us an answer when it answers one a round (%.0f us each when three at once)\n' \
	"$(med 3 11)" "$(med 10 11)"
printf 'bytes per poll: request %d, answer %d (headers %d, the /node document %d): %d bytes a member a round\n' \
	"$req_bytes" "$ans_bytes" "$head_bytes" "$((ans_bytes - head_bytes))" "$((req_bytes + ans_bytes))"

if [ "$PATRONI" -gt 0 ]; then
	printf '\nb. a Patroni switchover, test/t/040_patroni.pl, %d runs (seconds from patronictl; medians):\n' "$PATRONI"
	cat "$work/patroni.lines"
	fig() { sed -n -E "s#.*$1.*#\\1#p" "$work/patroni.lines" | ph_median; }
	printf 'patronictl returned %s s; Patroni /cluster names the new leader %s s; its /primary 200 %s s, the old one'"'"'s not 200 %s s;\n' \
		"$(fig 'returned after ([0-9.]+)\)')" "$(fig 'Patroni /cluster names [^ ]+ on [^ ]+ ([0-9.]+)/')" \
		"$(fig '/primary 200 on [^ ]+ ([0-9.]+);')" "$(fig '/primary not 200 on [^ ]+ ([0-9.]+),')"
	printf 'pg_health /cluster names it on the new primary %s s, the other replica %s s, the old leader %s s; a write through HAProxy %s s\n' \
		"$(fig 'pg_health /cluster names [^ ]+ on [^ ]+ ([0-9.]+)/')" "$(fig 'pg_health /cluster names [^ ]+ on [^ ]+ [0-9.]+/([0-9.]+)/')" \
		"$(fig 'pg_health /cluster names [^ ]+ on [^ ]+ [0-9.]+/[0-9.]+/([0-9.]+);')" "$(fig 'a write through HAProxy on [^ ]+ ([0-9.]+) ')"
fi
