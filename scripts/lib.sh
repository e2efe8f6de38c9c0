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
	[ -f "/usr/share/postgresql/$major/extension/dblink.control" ] || need+=("postgresql-contrib-$major")
	# examples/service.py and its test (Debian's python, whatever else is on PATH)
	/usr/bin/python3 -c 'import psycopg2' 2>/dev/null || need+=(python3-psycopg2)
	# the load-balancer test (test/t/012_haproxy.pl)
	[ -x /usr/sbin/haproxy ] || need+=(haproxy)
	for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || need+=("$p"); done
	if [ ${#need[@]} -gt 0 ]; then
		[ "$(id -u)" = 0 ] || ph_die "missing packages: ${need[*]} (run as root, or install them)"
		ph_say "installing ${need[*]}"
		export DEBIAN_FRONTEND=noninteractive
		apt-get install -y -q "${need[@]}" >/dev/null 2>&1 ||
			{ apt-get update -q >/dev/null && apt-get install -y -q "${need[@]}" >/dev/null; } ||
			ph_die "apt-get install ${need[*]} failed"
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
# Builds in DIR (default: the source tree).
ph_build_install() {
	ph_find_pg_config
	local dir=${1:-$PH_ROOT}
	local flags='-Wall -Wextra -Wno-unused-parameter -Werror'
	ph_say "building pg_health against $("$PG_CONFIG" --version)"
	make -C "$dir" -s clean PG_CONFIG="$PG_CONFIG" >/dev/null
	make -C "$dir" -s PG_CONFIG="$PG_CONFIG" COPT="$flags" >/dev/null
	if [ -w "$("$PG_CONFIG" --pkglibdir)" ]; then
		make -C "$dir" -s install PG_CONFIG="$PG_CONFIG" >/dev/null
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
