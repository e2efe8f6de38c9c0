# scripts/lib.sh -- shared by scripts/demo, scripts/test and bench/: find
# PostgreSQL, install what a fresh Debian machine lacks, and run server-side
# work as an unprivileged user (initdb refuses root).
set -euo pipefail

PH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PH_USER=${PH_USER:-pghealth}

ph_say() { printf '== %s\n' "$*" >&2; }
ph_die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# The newest installed major unless PG_CONFIG says otherwise.
ph_find_pg_config() {
	if [ -n "${PG_CONFIG:-}" ]; then return; fi
	local v
	for v in 18 17 16 15; do
		if [ -x "/usr/lib/postgresql/$v/bin/pg_config" ]; then
			PG_CONFIG=/usr/lib/postgresql/$v/bin/pg_config; break
		fi
	done
	[ -n "${PG_CONFIG:-}" ] || PG_CONFIG=$(command -v pg_config) || ph_die "no PostgreSQL found"
	export PG_CONFIG
}

# Debian packages the build and the tests need, installed only when missing.
ph_ensure_packages() {
	ph_find_pg_config
	local major need=()
	major=$("$PG_CONFIG" --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')
	[ -f "/usr/lib/postgresql/$major/lib/pgxs/src/makefiles/pgxs.mk" ] &&
		[ -f "$("$PG_CONFIG" --includedir-server)/postgres.h" ] || need+=("postgresql-server-dev-$major")
	perl -MIPC::Run -e1 2>/dev/null || need+=(libipc-run-perl)
	command -v make >/dev/null || need+=(make)
	command -v gcc >/dev/null || need+=(gcc)
	# libpq-be.h (for the connection hooks) includes gssapi.h on Debian's builds
	[ -f /usr/include/gssapi/gssapi.h ] || need+=(libkrb5-dev)
	# the pooler worker talks to PgBouncer through libpq, as dblink does
	[ -f "$("$PG_CONFIG" --includedir)/libpq-fe.h" ] || need+=(libpq-dev)
	# and answers /metrics gzipped through zlib
	[ -f /usr/include/zlib.h ] || need+=(zlib1g-dev)
	[ -f "/usr/share/postgresql/$major/extension/dblink.control" ] || need+=("postgresql-contrib-$major")
	# examples/service.py and its test (Debian's python, whatever else is on PATH)
	/usr/bin/python3 -c 'import psycopg2' 2>/dev/null || need+=(python3-psycopg2)
	# the load-balancer test (test/t/012_haproxy.pl)
	[ -x /usr/sbin/haproxy ] || need+=(haproxy)
	# the pooler test (test/t/023_poolers.pl) and the psycopg 3 example
	[ -x /usr/sbin/pgbouncer ] || need+=(pgbouncer)
	/usr/bin/python3 -c 'import psycopg, psycopg_pool' 2>/dev/null || need+=(python3-psycopg python3-psycopg-pool)
	# the Python package (clients/python) and its test (test/t/043_python.pl):
	# a virtualenv it is pip-installed into offline, and the frameworks it serves
	/usr/bin/python3 -c 'import ensurepip' 2>/dev/null || need+=(python3-venv)
	/usr/bin/python3 -c 'import setuptools, wheel' 2>/dev/null || need+=(python3-setuptools python3-wheel)
	/usr/bin/python3 -c 'import fastapi' 2>/dev/null || need+=(python3-fastapi)
	/usr/bin/python3 -c 'import uvicorn' 2>/dev/null || need+=(python3-uvicorn)
	/usr/bin/python3 -c 'import sqlalchemy' 2>/dev/null || need+=(python3-sqlalchemy)
	/usr/bin/python3 -c 'import asyncpg' 2>/dev/null || need+=(python3-asyncpg)
	/usr/bin/python3 -c 'import flask' 2>/dev/null || need+=(python3-flask)
	/usr/bin/python3 -c 'import django' 2>/dev/null || need+=(python3-django)
	# the Patroni test (test/t/040_patroni.pl): Patroni, etcd, and python3-etcd (Patroni 4 imports it, no longer depends on it)
	command -v patroni >/dev/null || need+=(patroni)
	command -v etcd >/dev/null || need+=(etcd-server)
	/usr/bin/python3 -c 'import etcd' 2>/dev/null || need+=(python3-etcd)
	# test/t/022_admission.pl asks the per-tenant question with curl
	command -v curl >/dev/null || need+=(curl)
	# the metrics test (test/t/010_http.pl) runs Prometheus's own promtool
	command -v promtool >/dev/null || need+=(prometheus)
	# the status page's browser test (test/t/028_status_page.pl): Debian's
	# Chromium, headless
	[ -x /usr/bin/chromium ] || need+=(chromium)
	# scripts/test's instrumented modes: PH_VALGRIND=1 needs valgrind; PH_SANITIZE=1
	# the sanitizer runtimes of the compiler PostgreSQL was built with
	[ -z "${PH_VALGRIND:-}" ] || command -v valgrind >/dev/null || need+=(valgrind)
	if [ -n "${PH_SANITIZE:-}" ]; then
		[ -f "$(ph_compiler_lib libasan.so)" ] || need+=(libasan8)
		[ -f "$(ph_compiler_lib libubsan.so)" ] || need+=(libubsan1)
	fi
	for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || need+=("$p"); done
	if [ ${#need[@]} -gt 0 ]; then
		[ "$(id -u)" = 0 ] || ph_die "missing packages: ${need[*]} (run as root, or install them)"
		ph_say "installing ${need[*]}"
		export DEBIAN_FRONTEND=noninteractive
		# packages with a service (prometheus, haproxy) must not start it: a
		# policy-rc.d that refuses, for the time of the install, unless the
		# machine has one of its own (containers usually do)
		local policy=''
		if [ ! -e /usr/sbin/policy-rc.d ]; then
			policy=/usr/sbin/policy-rc.d
			printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy"
		fi
		apt-get install -y -q "${need[@]}" >/dev/null 2>&1 ||
			{ apt-get update -q >/dev/null && apt-get install -y -q "${need[@]}" >/dev/null; } ||
			{ [ -z "$policy" ] || rm -f "$policy"; ph_die "apt-get install ${need[*]} failed"; }
		[ -z "$policy" ] || rm -f "$policy"
	fi
}

# As root, make sure the unprivileged user exists; as anyone else, use yourself.
ph_ensure_user() {
	if [ "$(id -u)" = 0 ]; then
		id "$PH_USER" >/dev/null 2>&1 || useradd --system --create-home --shell /bin/bash "$PH_USER"
	else
		PH_USER=$(id -un)
	fi
}

# Run a command as the unprivileged user, keeping PATH and PG_CONFIG.
# runuser's PAM session resets the soft open-files limit to 1024; servers with
# a thousand connections need more, so raise it back to the hard limit.
ph_as_user() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u "$PH_USER" -- bash -c 'ulimit -Sn "$(ulimit -Hn)" 2>/dev/null; exec "$@"' ph_as_user \
			env PATH="$PATH" PG_CONFIG="$PG_CONFIG" "$@"
	else
		"$@"
	fi
}

# Build warning-free (warnings are errors here) and install into PostgreSQL.
# Builds in DIR (default: the source tree), adding PH_COPT_EXTRA to the
# compiler's flags (scripts/test's sanitizers).  With DESTDIR, installs under
# that directory instead (see ph_private_install).
ph_build_install() {
	ph_find_pg_config
	local dir=${1:-$PH_ROOT} destdir=${2:-}
	local flags="-Wall -Wextra -Wno-unused-parameter -Werror${PH_COPT_EXTRA:+ $PH_COPT_EXTRA}"
	ph_say "building pg_health against $("$PG_CONFIG" --version)${PH_COPT_EXTRA:+ with $PH_COPT_EXTRA}"
	make -C "$dir" -s clean PG_CONFIG="$PG_CONFIG" >/dev/null
	# explicit: callers run this in && lists, where set -e does not stop a
	# failed build from testing the library installed before
	make -C "$dir" -s PG_CONFIG="$PG_CONFIG" COPT="$flags" >/dev/null || ph_die "the build failed"
	# the house's rule (docs/design.md): calls only downward, no loop (a
	# benchmark's baseline tree may predate the rule)
	if [ -f "$dir/scripts/check-layers" ]; then
		perl "$dir/scripts/check-layers" "$dir/src" || ph_die "a call crosses the layers (above)"
	fi
	if [ -n "$destdir" ]; then
		make -C "$dir" -s install PG_CONFIG="$PG_CONFIG" DESTDIR="$destdir" >/dev/null || ph_die "make install failed"
	elif [ -w "$("$PG_CONFIG" --pkglibdir)" ]; then
		make -C "$dir" -s install PG_CONFIG="$PG_CONFIG" >/dev/null || ph_die "make install failed"
	else
		sudo -n make -C "$dir" -s install PG_CONFIG="$PG_CONFIG" >/dev/null ||
			ph_die "cannot install into $("$PG_CONFIG" --pkglibdir): run as root"
	fi
}

# A private copy of the tree (no build products, no .git), for a build and
# test output the unprivileged user can write.  Call ph_user_own on it after
# building as root.
ph_private_copy() {
	local dir
	dir=$(mktemp -d /tmp/pg_health.XXXXXX)
	tar -C "$PH_ROOT" --exclude=.git --exclude='*.o' --exclude='*.so' --exclude='*.bc' \
		--exclude=tmp_check --exclude=tmp_regress --exclude=tmp_check_iso --exclude=results \
		--exclude=output_iso -cf - . | tar -C "$dir" -xf -
	chmod 755 "$dir"
	echo "$dir"
}

# The file of a runtime library (libasan.so, libubsan.so) of the compiler
# PostgreSQL builds extensions with, symbolic links resolved.
ph_compiler_lib() {
	ph_find_pg_config
	local f
	f=$($("$PG_CONFIG" --cc | awk '{ print $1 }') -print-file-name="$1")
	readlink -f "$f" 2>/dev/null || echo "$f"
}

# A private installation of this PostgreSQL, with this build of pg_health in
# it, under INST: the build installed there (ph_build_install DIR INST), then
# copies of PostgreSQL's programs in INST/<bindir> and, in INST/<pkglibdir> and
# INST/<sharedir>, symbolic links to everything the real directories hold
# except pg_health's own files.  PostgreSQL's programs find their library and
# share directories relative to where they really are (hence copies, not
# links), so servers started from INST/<bindir> load this build, and nothing
# else: neither the machine's installation nor whatever another checkout
# installs into it meanwhile.  Prints INST/<bindir>.
ph_private_install() {
	ph_find_pg_config
	local inst=$1 bindir
	bindir=$("$PG_CONFIG" --bindir)
	mkdir -p "$inst$bindir"
	cp -pL "$bindir"/* "$inst$bindir"/
	ph_mirror "$("$PG_CONFIG" --pkglibdir)" "$inst$("$PG_CONFIG" --pkglibdir)"
	ph_mirror "$("$PG_CONFIG" --sharedir)" "$inst$("$PG_CONFIG" --sharedir)"
	[ "$("$inst$bindir/pg_config" --pkglibdir)" = "$inst$("$PG_CONFIG" --pkglibdir)" ] ||
		ph_die "the private installation in $inst does not find its own libraries"
	echo "$inst$bindir"
}

# DST gets a symbolic link to each entry of SRC it lacks (pg_health's own
# excepted), recursively into directories both have.
ph_mirror() {
	local src=$1 dst=$2 e name
	mkdir -p "$dst"
	for e in "$src"/*; do
		name=${e##*/}
		case $name in pg_health|pg_health.*|pg_health--*) continue ;; esac
		if [ -d "$e" ] && [ -d "$dst/$name" ] && [ ! -L "$dst/$name" ]; then
			ph_mirror "$e" "$dst/$name"
		elif [ ! -e "$dst/$name" ] && [ ! -L "$dst/$name" ]; then
			ln -s "$e" "$dst/$name"
		fi
	done
}

# Make BINDIR/postgres (a private installation's) run the real server,
# renamed postgres.real, under MODE's checker, reports in LOGDIR (or in
# $PH_INSTRUMENT_LOGS when that is set where the server starts), with the
# helpers in HELPERS (test/instrumented):
#   sanitize  the compiler's AddressSanitizer runtime preloaded, then
#             sanitizer_preload.c (see there why); pg_health is built with
#             -fsanitize=address,undefined and loads the UndefinedBehavior-
#             Sanitizer runtime itself.  Each report goes to a file
#             LOGDIR/sanitizer.<pid> and ends its process (abort).
#   valgrind  memcheck, following every fork and exec, one LOGDIR/<pid>.log
#             per process, suppressions from valgrind.supp; a process with an
#             error exits 128, which the postmaster treats as a crash.
# Every server that pg_regress, the isolation tester, pg_ctl or initdb start
# from BINDIR goes through it, and every process such a postmaster forks
# (backends, pg_health's workers) inherits the checker.  Each server start
# adds a line to LOGDIR/servers.  PH_VALGRIND_OPTIONS, where the server
# starts, adds options to valgrind's.
ph_instrument_postgres() {
	local bindir=$1 mode=$2 logdir=$3 helpers=$4 w cc
	w=$bindir/postgres
	mv "$w" "$w.real"
	# initdb's bootstrap and single-user runs and version queries are no
	# servers: valgrind skips them, and the count of servers leaves them out
	local head
	head=$(cat <<EOF
#!/bin/sh
# Written by scripts/lib.sh (ph_instrument_postgres): PostgreSQL's server
# under $mode, reports in \$logs.
logs=\${PH_INSTRUMENT_LOGS:-$logdir}
server=yes
case " \$* " in
*" --boot "*|*" --single "*|*" -V "*|*" --version "*|*" -C "*|*" --describe-config "*) server= ;;
esac
[ -z "\$server" ] || echo "\$\$ \$*" >>"\$logs/servers"
EOF
)
	case $mode in
	sanitize)
		cc=$("$PG_CONFIG" --cc | awk '{ print $1 }')
		"$cc" -shared -fPIC -O2 -Wall -Werror -Wl,-z,initfirst "$helpers/sanitizer_preload.c" \
			-o "$bindir/sanitizer_preload.so" -ldl
		cat >"$w" <<EOF
$head
# servers whose arguments hold one of the strings in PH_ASAN_NO_QUARANTINE
# keep no freed memory in quarantine (for tests that measure their memory)
q=
for s in \${PH_ASAN_NO_QUARANTINE:-}; do
	case "\$*" in *"\$s"*) q=:quarantine_size_mb=0 ;; esac
done
LD_PRELOAD=$(ph_compiler_lib libasan.so):$bindir/sanitizer_preload.so\${LD_PRELOAD:+:\$LD_PRELOAD}
ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:halt_on_error=1:disable_coredump=1:log_path=\$logs/sanitizer\$q\${ASAN_OPTIONS:+:\$ASAN_OPTIONS}
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:abort_on_error=1:disable_coredump=1:log_path=\$logs/sanitizer\${UBSAN_OPTIONS:+:\$UBSAN_OPTIONS}
export LD_PRELOAD ASAN_OPTIONS UBSAN_OPTIONS
exec "$w.real" "\$@"
EOF
		;;
	valgrind)
		cat >"$w" <<EOF
$head
[ -n "\$server" ] || exec "$w.real" "\$@"
exec valgrind --tool=memcheck --trace-children=yes --error-exitcode=128 --leak-check=no \\
	--num-callers=40 --fullpath-after= --suppressions="$helpers/valgrind.supp" \\
	--log-file="\$logs/%p.log" \${PH_VALGRIND_OPTIONS:-} "$w.real" "\$@"
EOF
		;;
	*) ph_die "ph_instrument_postgres: unknown mode $mode" ;;
	esac
	chmod 755 "$w"
	# pg_ctl restart runs the program a server recorded in postmaster.opts:
	# postgres.real, the checked program, not this wrapper.  BINDIR/pg_ctl
	# points the record back at the wrapper first.
	mv "$bindir/pg_ctl" "$bindir/pg_ctl.real"
	cat >"$bindir/pg_ctl" <<EOF
#!/bin/sh
# Written by scripts/lib.sh (ph_instrument_postgres): pg_ctl, with a server's
# postmaster.opts naming $w (not $w.real) before a restart.
data=\${PGDATA:-}
prev=
for a in "\$@"; do
	case \$prev in -D|--pgdata) data=\$a ;; esac
	case \$a in --pgdata=*) data=\${a#--pgdata=} ;; -D?*) data=\${a#-D} ;; esac
	prev=\$a
done
[ -z "\$data" ] || [ ! -f "\$data/postmaster.opts" ] ||
	sed -i "s|^$w.real |$w |" "\$data/postmaster.opts"
exec "$bindir/pg_ctl.real" "\$@"
EOF
	chmod 755 "$bindir/pg_ctl"
	mkdir -p "$logdir"
}

# Every sanitizer report in LOGDIR, printed; PH_REPORTS is set to their number
# (the SUMMARY lines; a file without one counts as one report).
ph_sanitizer_reports() {
	local f n
	PH_REPORTS=0
	for f in "$1"/sanitizer.*; do
		[ -s "$f" ] || continue
		n=$(grep -c '^SUMMARY: ' "$f" || true)
		[ "$n" -gt 0 ] || n=1
		PH_REPORTS=$((PH_REPORTS + n))
		echo "---- sanitizer report: $f"
		cat "$f"
	done
}

# The errors in valgrind's log files in LOGDIR (one per process).  An error
# whose stacks hold a frame matching one of NEEDLES (fixed strings separated
# by |: pg_health's source directory, "/pg_health.so)") is printed in full with
# its process's command; the others are counted and their first lines listed.
# Sets PH_REPORTS (errors with such a frame) and PH_OTHER_REPORTS.
ph_valgrind_reports() {
	local logdir=$1 needles=$2 counts
	PH_REPORTS=0 PH_OTHER_REPORTS=0
	compgen -G "$logdir/*.log" >/dev/null || return 0
	counts=$(find "$logdir" -name '*.log' | awk -v needles="$needles" \
		-v ours="$logdir/ours.txt" -v others="$logdir/others.txt" '
		function flush(  i, hit) {
			if (blk ~ /==[0-9]+== +(at|by) 0x/) {
				hit = 0
				for (i = 1; i <= nn; i++) if (index(blk, nd[i])) hit = 1
				if (hit) { n_ours++; printf "---- %s (%s)\n%s\n", file, cmd, blk > ours }
				else { n_others++; printf "%s\n", first > others }
			}
			blk = ""
		}
		BEGIN { nn = split(needles, nd, "|"); printf "" > ours; printf "" > others }
		{
			file = $0; cmd = ""; blk = ""
			while ((getline line < file) > 0) {
				if (line ~ /^==[0-9]+== Command: /) { cmd = line; sub(/^==[0-9]+== Command: /, "", cmd) }
				if (line ~ /^==[0-9]+== *$/) flush()
				else if (line ~ /^==[0-9]+== /) {
					if (blk == "") { first = line; sub(/^==[0-9]+== /, "", first) }
					blk = blk line "\n"
				}
			}
			close(file)
			flush()
		}
		END { print n_ours + 0, n_others + 0 }')
	read -r PH_REPORTS PH_OTHER_REPORTS <<<"$counts"
	cat "$logdir/ours.txt"
	if [ "$PH_OTHER_REPORTS" -gt 0 ]; then
		echo "---- $PH_OTHER_REPORTS valgrind error(s) with no frame in pg_health, by first line:"
		sort "$logdir/others.txt" | uniq -c | sort -rn
	fi
}

ph_user_own() {
	if [ "$(id -u)" = 0 ]; then chown -R "$PH_USER" "$1"; fi
}

ph_free_port() {
	python3 - <<'PY'
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()
PY
}

# For the benchmarks: the median of the numbers on standard input, and their
# range as "lo..hi" printed with FORMAT (default %.2f).
ph_median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ph_range() { sort -g | awk -v f="${1:-%.2f}" 'NR == 1 { lo = $1 } { hi = $1 } END { printf f ".." f, lo, hi }'; }
