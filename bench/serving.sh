#!/usr/bin/env bash
# bench/serving.sh -- what the serving checks of issue 28 cost, side by side
# in one run.
#
# a. The sampler's time per sample with the new collectors (accept probe
#    state, commit waits, disk figures, archiver, XID/MultiXact ages) against
#    1.1's.  Two servers side by side, one from this tree and one from
#    BASELINE (default 2de6641, the 1.1 release), each built into a private
#    installation (bench/common.sh), same settings (max_connections 1100,
#    sample_interval SAMPLE_INTERVAL, autovacuum off), each with 1000 idle
#    sessions of 1000 application_names held open (ph_bench_hold_idle: the
#    pool table at its worst).  ROUNDS rounds, each a window of DURATION
#    seconds per server in alternating order (drift cancels out of each
#    round's ratio); while one server is measured the other is parked
#    (sample_interval 60s, the accept probe off, with a reload), so that
#    neither disturbs the other's samples and each window begins at a new
#    phase.  Per window: the median of the samples' sample_duration (wall
#    time of one sample, health.history) and the sampler's CPU per second
#    (/proc/<pid>/schedstat; this tree's includes the accept probe, driven
#    from the sampler between samples).  Reported: the median of the
#    per-round ratios this tree / 1.1 (target <= 1.10) and their range.
#
# b. The accept probe's CPU cost: one server from this tree (no idle
#    sessions, autovacuum off, so that no other child of the postmaster comes
#    and goes), ROUNDS rounds of DURATION seconds in alternating order with
#    pg_health.accept_probe_interval = 0 (off), 1s (the default) and
#    FAST_INTERVAL (many probes: a precise figure per probe), set with ALTER
#    SYSTEM and a reload between them, and, for reference, the probe off and
#    an outside client (python3) making the same connection every
#    FAST_INTERVAL: what any such connection attempt costs the server.  The server's CPU in each window is
#    the postmaster's own (it forks each probe's backend), its children's
#    reaped meanwhile (cutime + cstime from /proc/<postmaster>/stat: the
#    probes' backends, which answer the SSLRequest and exit), and the
#    sampler's own (it connects, sends, waits, reads, closes).  The live
#    processes' CPU is read from /proc/<pid>/schedstat (nanoseconds, the sum
#    utime + stime is made from); the children's only exists in clock ticks,
#    accumulated in nanoseconds by the kernel and cut to ticks when read, so
#    each window's figure is exact to a tick (10 ms) or two, which is why the
#    per-probe figure comes from the FAST_INTERVAL rounds.  Per probe: the
#    extra CPU over the same round's "off" window, divided by the probes
#    pg_health counted (the accepting check's detail).
#    Then, with log_connections = on and the default interval, the lines
#    the server log gets between two marks written into it (no session is
#    opened between them, so every backend that logs is a probe's), per
#    probe, and their text.
#
# Builds: this tree and BASELINE, into private installations.  Runs as root
# (the servers as the unprivileged user, as everywhere).
#
# Usage: bash bench/serving.sh
#   (ROUNDS=4 DURATION=6 BASELINE=2de6641 IDLE=1000 SAMPLE_INTERVAL=1s FAST_INTERVAL=20ms)
source "$(dirname "$0")/../scripts/lib.sh"
source "$(dirname "$0")/../scripts/server.sh"
source "$(dirname "$0")/common.sh"

DURATION=${DURATION:-6}
ROUNDS=${ROUNDS:-4}
BASELINE=${BASELINE:-2de6641}
IDLE=${IDLE:-1000}
SAMPLE_INTERVAL=${SAMPLE_INTERVAL:-1s}
FAST_INTERVAL=${FAST_INTERVAL:-20ms}
ulimit -n 8192 2>/dev/null || true

ph_ensure_packages
ph_ensure_user
work=$(mktemp -d /tmp/pg_health_serving.XXXXXX)
chmod 755 "$work"
declare -A hold_pid=()
cleanup() {
	for b in "${!hold_pid[@]}"; do PH_BENCH_IDLE_PID=${hold_pid[$b]}; ph_bench_release_idle; done
	ph_server_stop
	rm -rf "$work"
}
trap cleanup EXIT
ph_bench_builds "$work"
hz=$(getconf CLK_TCK)
common=("max_connections = 1100" "max_files_per_process = 4000" "autovacuum = off"
	"pg_health.sample_interval = $SAMPLE_INTERVAL")

# --- a. the sampler's time per sample, this tree beside BASELINE ----------

postmaster_of() { head -1 "$1/data/postmaster.pid"; }
sampler_of() {	# server dir
	ps -o pid=,args= --ppid "$(postmaster_of "$1")" | awk 'index($0, "pg_health sampler") { print $1; exit }'
}
run_ns() { awk '{ print $1 }' "/proc/$1/schedstat"; }	# CPU time used so far, ns
declare -A sdir sport spid
for b in "${PH_BENCH_BUILDS[@]}"; do
	ph_bench_server_start "$b" "${common[@]}"
	trap cleanup EXIT	# ph_server_start sets its own
	sdir[$b]=$PH_SERVER_DIR sport[$b]=$PGPORT
	ph_psql -q -c 'CREATE EXTENSION pg_health' -c 'CREATE EXTENSION dblink' >/dev/null
	mkdir -p "$work/hold-$b" && chmod 755 "$work/hold-$b"
	ph_say "${PH_BENCH_LABEL[$b]}: opening $IDLE idle sessions"
	PH_BENCH_IDLE_PID=
	ph_bench_hold_idle "$IDLE" "$work/hold-$b"
	hold_pid[$b]=$PH_BENCH_IDLE_PID
	PH_BENCH_IDLE_PID=
	spid[$b]=$(sampler_of "$PH_SERVER_DIR")
	[ -n "${spid[$b]}" ] || ph_die "no sampler found for ${PH_BENCH_LABEL[$b]}"
done
at() { PGHOST=${sdir[$1]} PGPORT=${sport[$1]}; }	# point ph_psql at a build's server
generation() { at "$1"; ph_psql -Atq -c 'SELECT generation FROM health.status'; }
now() { date +%s.%N; }
# A server measures (its settings as started: sample_interval, the accept
# probe at its default) or is parked: sampling once a minute (the most the
# setting allows), no accept probe, so that it leaves the machine to the
# other one.  A reload that un-parks a sampler makes it sample at once, then
# every interval from there: each window begins at a new phase.
measure() {
	at "$1"
	ph_psql -Atq -c 'ALTER SYSTEM RESET pg_health.sample_interval' \
		${has_probe[$1]:+-c 'ALTER SYSTEM RESET pg_health.accept_probe_interval'} -c 'SELECT pg_reload_conf()' >/dev/null
}
park() {
	at "$1"
	ph_psql -Atq -c "ALTER SYSTEM SET pg_health.sample_interval = '60s'" \
		${has_probe[$1]:+-c "ALTER SYSTEM SET pg_health.accept_probe_interval = 0"} -c 'SELECT pg_reload_conf()' >/dev/null
}
declare -A has_probe=()
for b in "${PH_BENCH_BUILDS[@]}"; do
	at "$b"
	[ "$(ph_psql -Atq -c "SELECT count(*) FROM pg_settings WHERE name = 'pg_health.accept_probe_interval'")" = 1 ] &&
		has_probe[$b]=1
	park "$b"
done
[ "$DURATION" -le 50 ] || ph_die "DURATION=$DURATION: at most 50 s (a parked sampler samples once a minute)"
sleep 1

printf '\n== a. sampler time per sample, %d idle sessions, sample_interval %s: %d rounds of %d s per build, alternating\n' \
	"$IDLE" "$SAMPLE_INTERVAL" "$ROUNDS" "$DURATION" >&2
for r in $(seq 1 "$ROUNDS"); do
	order=(new base)
	[ $((r % 2)) -eq 0 ] && order=(base new)
	for b in "${order[@]}"; do
		measure "$b"
		# the sample the reload made at once is not counted (its caches
		# went cold while parked)
		sleep 0.5
		g0=$(generation "$b"); c0=$(run_ns "${spid[$b]}"); t0=$(now)
		sleep "$DURATION"
		c1=$(run_ns "${spid[$b]}"); t1=$(now); g1=$(generation "$b")
		park "$b"
		# the window's samples, one per line, in microseconds
		ph_psql -Atq -c "SELECT round(extract(epoch FROM sample_duration) * 1e6) FROM health.history
		                  WHERE generation > $g0 AND generation <= $g1 AND client_backends >= $IDLE" >"$work/a.$b.$r"
		cat "$work/a.$b.$r" >>"$work/a.$b.all"
		# median us, samples, sampler CPU ms/s
		echo "$(ph_median <"$work/a.$b.$r") $(wc -l <"$work/a.$b.$r")" \
			"$(awk -v c="$((c1 - c0))" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", c / 1e6 / (b - a) }')" >>"$work/a.$b.rounds"
	done
	paste -d' ' "$work/a.new.rounds" "$work/a.base.rounds" | tail -1 |
		awk -v r="$r" -v base="${PH_BENCH_LABEL[base]}" \
			'{ printf "round %d: this tree %.0f us (%d samples), %s %.0f us (%d samples): %.3f\n", r, $1, $2, base, $4, $5, $1 / $4 }' >&2
done
# each round's ratio this tree / baseline, of the medians
paste -d' ' "$work/a.new.rounds" "$work/a.base.rounds" | awk '{ print ($4 > 0) ? $1 / $4 : 0 }' >"$work/a.ratios"
# the sampler's CPU per second, ms (median over rounds)
cpu_per_s() { awk '{ print $3 }' "$work/a.$1.rounds" | ph_median; }

for b in "${!hold_pid[@]}"; do PH_BENCH_IDLE_PID=${hold_pid[$b]}; ph_bench_release_idle; done
hold_pid=()
ph_server_stop

# --- b. the accept probe's CPU, and its log lines --------------------------

ph_bench_server_start new "${common[@]}" "log_line_prefix = '%m [%p] '"
trap cleanup EXIT
PG_CONFIG=${PH_BENCH_PG_CONFIG[new]}
ph_psql -q -c 'CREATE EXTENSION pg_health' >/dev/null
pm=$(postmaster_of "$PH_SERVER_DIR")
sp=$(sampler_of "$PH_SERVER_DIR")
[ -n "$sp" ] || ph_die "no sampler found"
log=$PH_SERVER_DIR/server.log

# the server's CPU so far, ns: the postmaster's own, its reaped children's, the sampler's
server_cpu() {
	echo "$(run_ns "$pm") $(awk -v hz="$hz" '{ printf "%.0f", ($16 + $17) * 1e9 / hz }' "/proc/$pm/stat") $(run_ns "$sp")"
}
# the probes the sampler has made by a fresh sample, from the accepting
# check's detail ("... answered in 0.9 ms, 0.3 s ago (12 probes, 0 failed)"),
# as a fraction: the count, plus the part of an interval since the last
# answer (an integer count over a window of a few probes is too coarse);
# then that sample's time, epoch seconds.  0 when the probe is off.
probes() {	# interval in seconds
	ph_psql -Atq -F ' ' -c 'SELECT health.refresh()' \
		-c "SELECT coalesce(substring(detail FROM '\((\d+) probes')::float8
		                    + least(coalesce(substring(detail FROM ', ([0-9.]+) s ago')::float8, 0) / $1, 1), 0),
		           (SELECT extract(epoch FROM sampled_at) FROM health.status)
		      FROM health.checks WHERE name = 'accepting'" | tail -1
}
# the probes in the window t0..t1: the counter's rate between its two
# samples, over the window's length
probes_in() {	# "p0 s0" "p1 s1" t0 t1
	awk -v a="$1" -v b="$2" -v c="$3" -v d="$4" 'BEGIN { split(a, x, " "); split(b, y, " ")
		printf "%.1f", (y[2] > x[2]) ? (y[1] - x[1]) * (d - c) / (y[2] - x[2]) : 0 }'
}
# a setting's time (1s, 20ms, 250: milliseconds) in seconds
seconds() {
	awk -v v="$1" 'BEGIN { x = v + 0; if (v ~ /min$/) x *= 60; else if (v ~ /ms$/) x /= 1000;
		else if (v ~ /h$/) x *= 3600; else if (v !~ /s$/) x /= 1000; print x }'
}
set_interval() {
	ph_psql -Atq -c "ALTER SYSTEM SET pg_health.accept_probe_interval = '$1'" -c 'SELECT pg_reload_conf()' >/dev/null
}

# a client doing what the probe does (connect, SSLRequest, read the answer,
# hang up) from outside the server, at FAST_INTERVAL, with the probe off:
# what any such connection costs the server, with or without pg_health
cat >"$work/client.py" <<'PY'
import socket, struct, sys, time
path, pause, secs = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
n, end = 0, time.monotonic() + secs
while time.monotonic() < end:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.sendall(struct.pack("!II", 8, 80877103))
    s.recv(1)
    s.close()
    n += 1
    time.sleep(pause)
print(n)
PY
fast_s=$(seconds "$FAST_INTERVAL")

modes=(0 1s "$FAST_INTERVAL" client)
printf '\n== b. accept probe CPU: %d rounds of %d s, accept_probe_interval %s, and an outside client every %s, alternating\n' \
	"$ROUNDS" "$DURATION" "0 1s $FAST_INTERVAL" "$FAST_INTERVAL" >&2
for r in $(seq 1 "$ROUNDS"); do
	order=("${modes[@]}")
	[ $((r % 2)) -eq 0 ] && order=(client "$FAST_INTERVAL" 1s 0)
	for m in "${order[@]}"; do
		set_interval "$([ "$m" = client ] && echo 0 || echo "$m")"
		sleep 1
		# the counter's reads open sessions: outside the CPU window, their
		# backends gone (and reaped) before it begins
		secs_m=$(seconds "$(case $m in 0 | client) echo 1s ;; *) echo "$m" ;; esac)")
		p0=$(probes "$secs_m")
		sleep 0.5
		read -r a0 b0 s0 <<<"$(server_cpu)"; t0=$(now)
		if [ "$m" = client ]; then
			n=$(python3 "$work/client.py" "$PH_SERVER_DIR/.s.PGSQL.$PGPORT" "$fast_s" "$DURATION")
			sleep 0.2	# the last backend reaped
		else
			sleep "$DURATION"
		fi
		read -r a1 b1 s1 <<<"$(server_cpu)"; t1=$(now)
		p1=$(probes "$secs_m")
		[ "$m" = client ] || n=$(probes_in "$p0" "$p1" "$t0" "$t1")
		secs=$(awk -v c="$t0" -v d="$t1" 'BEGIN { printf "%.3f", d - c }')
		echo "$r $m $secs $n $((a1 - a0)) $((b1 - b0)) $((s1 - s0))" >>"$work/b.rows"
		printf 'round %d %-8s %6.1f connections, postmaster %6.1f ms, children %6.1f ms, sampler %5.1f ms over %s s\n' "$r" "$m" "$n" \
			"$(awk -v x="$((a1 - a0))" 'BEGIN { print x / 1e6 }')" "$(awk -v x="$((b1 - b0))" 'BEGIN { print x / 1e6 }')" \
			"$(awk -v x="$((s1 - s0))" 'BEGIN { print x / 1e6 }')" "$secs" >&2
	done
done
# per round and mode: CPU ms per second (total and parts), connections per
# second, and against the same round's "off": extra ms per second, ms per
# connection, and the parts' ms per connection
awk '{ secs = $3; k = $1 " " $2
       tot[k] = ($5 + $6 + $7) / 1e6 / secs; rate[k] = $4 / secs
       pm[k] = $5 / 1e6 / secs; ch[k] = $6 / 1e6 / secs; sa[k] = $7 / 1e6 / secs
       rounds[$1] = 1; modes[$2] = 1 }
     END { for (r in rounds) for (m in modes) { k = r " " m; o = r " 0"; n = rate[k]
             printf "%s %s %.4f %.3f %.4f %.4f %.4f %.4f %.4f %.4f %.4f %.4f\n", r, m, tot[k], n, pm[k], ch[k], sa[k],
                    tot[k] - tot[o], (n > 0) ? (tot[k] - tot[o]) / n : 0, (n > 0) ? (pm[k] - pm[o]) / n : 0,
                    (n > 0) ? (ch[k] - ch[o]) / n : 0, (n > 0) ? (sa[k] - sa[o]) / n : 0 } }' "$work/b.rows" >"$work/b.per"
col() { awk -v m="$1" -v c="$2" '$2 == m { print $c }' "$work/b.per"; }

# the log: log_connections on, the default interval, between two marks
ph_psql -Atq -c 'ALTER SYSTEM SET log_connections = on' >/dev/null
set_interval 1s
sleep 1
lp0=$(probes 1)
sleep 0.5
mark="serving.sh mark $$"
echo "$mark begin" >>"$log"; t0=$(now)
sleep "$DURATION"
echo "$mark end" >>"$log"; t1=$(now)
lp1=$(probes 1)
log_probes=$(probes_in "$lp0" "$lp1" "$t0" "$t1")
awk -v b="$mark begin" -v e="$mark end" '$0 == b { on = 1; next } $0 == e { on = 0 } on' "$log" >"$work/log.window"
log_lines=$(wc -l <"$work/log.window")
log_pids=$(sed -n -E 's/^[0-9-]+ [0-9:.]+ [A-Z]+ \[([0-9]+)\].*/\1/p' "$work/log.window" | sort -u | wc -l)

# --- the results -----------------------------------------------------------

fmt_range() { ph_range "${1:-%.3f}"; }
printf '\nserving checks benchmark: %s, %d rounds of %d s\n' "$("$PG_CONFIG" --version)" "$ROUNDS" "$DURATION"
printf '%s: this tree; %s: BASELINE=%s\n' "${PH_BENCH_LABEL[new]}" "${PH_BENCH_LABEL[base]}" "$BASELINE"
printf '\na. sampler time per sample (health.history sample_duration, wall), %d idle sessions in %d pools, sample_interval %s,\n' \
	"$IDLE" "$IDLE" "$SAMPLE_INTERVAL"
printf '   alternating windows of %d s, the other server parked (no sampling, no probe); the ratio per round, of the medians\n' "$DURATION"
printf '%-26s %9s %9s %9s %9s %16s\n' build samples 'median us' 'p90 us' 'max us' 'sampler CPU ms/s'
for b in base new; do
	f=$work/a.$b.all
	printf '%-26s %9d %9.0f %9.0f %9.0f %16.3f\n' "${PH_BENCH_LABEL[$b]}" "$(wc -l <"$f")" "$(ph_median <"$f")" \
		"$(sort -g "$f" | awk '{ v[NR] = $1 } END { i = int(NR * 0.9 + 0.5); if (i < 1) i = 1; print v[i] }')" \
		"$(sort -g "$f" | tail -1)" "$(cpu_per_s "$b")"
done
[ -z "${has_probe[new]:-}" ] || [ -n "${has_probe[base]:-}" ] ||
	printf '(the sampler CPU of %s includes driving the accept probe once a second: see b, "sampler")\n' "${PH_BENCH_LABEL[new]}"
ratio=$(ph_median <"$work/a.ratios")
printf 'this tree / %s, median of the per-round ratios of medians: %.3f (rounds %s): target <= 1.10 %s\n' \
	"${PH_BENCH_LABEL[base]}" "$ratio" \
	"$(fmt_range <"$work/a.ratios")" "$(awk -v r="$ratio" 'BEGIN { print (r <= 1.10) ? "met" : "NOT met" }')"

printf '\nb. the accept probe, one server (this tree), no idle sessions, median over rounds: the server'"'"'s CPU per second\n'
printf '   (postmaster + its reaped children + sampler), and per connection against the same round with the probe off\n'
printf '%-16s %8s | %-39s | %10s | %s\n' '' '' '   per second, ms of CPU' 'extra ms/s' '  per connection, ms of CPU'
printf '%-16s %8s | %9s %9s %9s %9s | %10s | %9s %9s %9s %9s\n' 'interval' 'conn/s' total postmaster children sampler \
	'vs off' total postmaster backend sampler
for m in "${modes[@]}"; do
	label=$m
	[ "$m" = client ] && label="client $FAST_INTERVAL"
	if [ "$m" = 0 ]; then
		per=(- - - - - -)
	else
		per=()
		for c in 8 9 10 11 12; do per+=("$(col "$m" "$c" | ph_median | awk '{ printf "%.3f", $1 }')"); done
	fi
	printf '%-16s %8.2f | %9.3f %9.3f %9.3f %9.3f | %10s | %9s %9s %9s %9s\n' "$label" "$(col "$m" 4 | ph_median)" \
		"$(col "$m" 3 | ph_median)" "$(col "$m" 5 | ph_median)" "$(col "$m" 6 | ph_median)" "$(col "$m" 7 | ph_median)" \
		"${per[@]:0:5}"
done
per_fast=$(col "$FAST_INTERVAL" 9 | ph_median)
printf 'the accept probe: %.3f ms of the server'"'"'s CPU per probe (%s rounds %s; an outside client'"'"'s same connection: %.3f ms)\n' \
	"$per_fast" "$FAST_INTERVAL" "$(col "$FAST_INTERVAL" 9 | fmt_range)" "$(col client 9 | ph_median)"
printf 'at the default interval (1 s): %.3f%% of a core; measured directly (1s - off): %.3f ms/s = %.3f%% (rounds %s ms/s,\n' \
	"$(awk -v x="$per_fast" 'BEGIN { print x / 10 }')" "$(col 1s 8 | ph_median)" "$(col 1s 8 | ph_median | awk '{ print $1 / 10 }')" \
	"$(col 1s 8 | fmt_range %.2f)"
printf '   coarse: the children'"'"'s CPU is counted in 10 ms clock ticks, %s probes'"'"' worth, per %d s window)\n' \
	"$(awk -v x="$per_fast" 'BEGIN { printf "%.0f", (x > 0) ? 10 / x : 0 }')" "$DURATION"

printf '\nlog_connections = on, accept_probe_interval 1s, %d s between two marks in the server log: %d lines from %d backends\n' \
	"$DURATION" "$log_lines" "$log_pids"
printf '(pg_health counted %s probes in the window): %s lines per probe\n' "$log_probes" \
	"$(awk -v l="$log_lines" -v p="$log_pids" 'BEGIN { printf "%.2f", (p > 0) ? l / p : 0 }')"
sed -E 's/^[0-9-]+ [0-9:.]+ [A-Z]+ \[[0-9]+\] //' "$work/log.window" | sort | uniq -c | sort -rn | sed 's/^/   /'
