# bench/common.sh -- shared by the benchmarks (bench/*.sh).  Source after
# scripts/lib.sh and scripts/server.sh.
#
# The benchmarks never install into the machine's PostgreSQL (other checkouts
# install and test there meanwhile): this tree, as it is, and with
# BASELINE=<git revision> that revision too, are each built into a private
# installation (scripts/lib.sh, ph_private_install), and each server is
# started from one of them.

# Build the source tree SRC into a private installation under INST; prints
# the installation's pg_config.
ph_bench_build() {
	local src=$1 inst=$2 bindir
	ph_build_install "$src" "$inst" >&2
	bindir=$(ph_private_install "$inst")
	chmod -R a+rX "$inst"
	echo "$bindir/pg_config"
}

# The builds to measure, under DIR: sets PH_BENCH_BUILDS (new, then base when
# BASELINE is set), PH_BENCH_PG_CONFIG[build] and PH_BENCH_LABEL[build].
declare -A PH_BENCH_PG_CONFIG PH_BENCH_LABEL
PH_BENCH_BUILDS=()
ph_bench_builds() {
	local dir=$1 copy rev
	copy=$(ph_private_copy)
	PH_BENCH_PG_CONFIG[new]=$(ph_bench_build "$copy" "$dir/inst-new")
	rm -rf "$copy"
	PH_BENCH_LABEL[new]='pg_health'
	PH_BENCH_BUILDS=(new)
	if [ -n "${BASELINE:-}" ]; then
		mkdir -p "$dir/base-src"
		if [ -d "$BASELINE" ]; then
			# a source tree (a scratch copy of another checkout)
			tar -C "$BASELINE" --exclude=.git --exclude='*.o' --exclude='*.so' --exclude='*.bc' -cf - . |
				tar -C "$dir/base-src" -xf -
			rev=$(basename "$BASELINE")
		else
			rev=$(git -C "$PH_ROOT" rev-parse --short "$BASELINE") || ph_die "BASELINE=$BASELINE: no such revision"
			git -C "$PH_ROOT" archive "$rev" | tar -x -C "$dir/base-src"
		fi
		PH_BENCH_PG_CONFIG[base]=$(ph_bench_build "$dir/base-src" "$dir/inst-base")
		PH_BENCH_LABEL[base]="pg_health $rev"
		PH_BENCH_BUILDS+=(base)
	fi
}

# Start a server from BUILD's installation (ph_server_start's arguments
# follow); PGHOST, PGPORT and PH_SERVER_DIR point at it, as ph_server_start
# leaves them.
ph_bench_server_start() {
	local build=$1
	shift
	PG_CONFIG=${PH_BENCH_PG_CONFIG[$build]} ph_server_start "$@"
}

# The pid of the process that answers HTTP for the server in DIR (a
# PH_SERVER_DIR): the "pg_health http" worker, or, in builds from before it
# (1.1 and earlier), the sampler, which served HTTP in its wait.
ph_bench_http_pid() {
	local postmaster pid
	postmaster=$(head -1 "$1/data/postmaster.pid")
	for title in 'pg_health http' 'pg_health sampler'; do
		pid=$(ps -o pid=,args= --ppid "$postmaster" | awk -v t="$title" 'index($0, t) { print $1; exit }')
		if [ -n "$pid" ]; then echo "$pid"; return; fi
	done
}

# The number after NAME= in a line of bench/http_probe.c's output (stdin).
ph_bench_field() { sed -n -E "s/(^|.* )$1=([0-9.]+).*/\2/p"; }
# The CPU time (user + system, in clock ticks) process PID has used so far.
ph_bench_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# TICKS of CPU time spread over N requests, in microseconds each (0 for none).
ph_bench_us_per() {
	awk -v t="$1" -v hz="$(getconf CLK_TCK)" -v n="$2" 'BEGIN { printf "%.1f", (n > 0) ? t * 1e6 / hz / n : 0 }'
}

# Hold N idle client connections to the server at PGHOST/PGPORT, each with an
# application_name of its own, so that the sampler's pool table is at its
# worst (1000 groups: 255 rows and one folding the other 745); N = 0 releases
# them.  One session opens them with dblink (CREATE EXTENSION dblink first;
# its sockets count against max_files_per_process / 3), then its psql waits on
# standard input (no CPU), in a process group of its own so that one kill
# ends it all.  DIR: a directory the benchmark's user can read.
PH_BENCH_IDLE_PID=
ph_bench_release_idle() {
	[ -z "$PH_BENCH_IDLE_PID" ] || kill -- -"$PH_BENCH_IDLE_PID" 2>/dev/null || true
	PH_BENCH_IDLE_PID=
}
ph_bench_hold_idle() {
	local n=$1 dir=$2 bindir have
	bindir=$("$PG_CONFIG" --bindir)
	cat >"$dir/hold.sh" <<HOLD
{ echo "SELECT count(dblink_connect('c' || i, 'host=$PGHOST port=$PGPORT dbname=postgres user=postgres application_name=c' || i)) FROM generate_series(1, \$1) AS i;"
  sleep 86400; } | "$bindir/psql" -X -q -o /dev/null -h "$PGHOST" -p "$PGPORT" -U postgres postgres
HOLD
	chmod 644 "$dir/hold.sh"
	if [ -n "$PH_BENCH_IDLE_PID" ]; then
		ph_bench_release_idle
		# wait until their backends are gone, or the next level runs out of slots
		for _ in $(seq 1 300); do
			[ "$(ph_psql -Atq -c "SELECT health.refresh(); SELECT client_backends FROM health.connections" | tail -1)" -le 1 ] && break
			sleep 0.2
		done
	fi
	[ "$n" -gt 0 ] || return 0
	if [ "$(id -u)" = 0 ]; then
		setsid runuser -u "$PH_USER" -- bash -c 'ulimit -Sn "$(ulimit -Hn)"; exec bash "$@"' hold "$dir/hold.sh" "$n" 2>/dev/null &
	else
		setsid bash "$dir/hold.sh" "$n" 2>/dev/null &
	fi
	PH_BENCH_IDLE_PID=$!
	disown "$PH_BENCH_IDLE_PID"	# ended by process group; no job notices
	for _ in $(seq 1 600); do
		have=$(ph_psql -Atq -c "SELECT health.refresh(); SELECT idle FROM health.connections" | tail -1)
		[ "$have" -ge "$n" ] && return 0
		pgrep -g "$PH_BENCH_IDLE_PID" -x psql >/dev/null || ph_die "the session holding $n idle connections exited"
		sleep 0.5
	done
	ph_die "could not open $n idle connections"
}
