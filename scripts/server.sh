# scripts/server.sh -- a throwaway preloaded PostgreSQL for the demo and the
# benchmarks: temporary directory, free port, Unix socket only, owned by the
# unprivileged user.  Source after lib.sh; call ph_server_start [conf lines]
# (later lines override earlier ones, shared_preload_libraries included).
# Each call starts one more server and points PGHOST/PGPORT at it;
# ph_server_stop stops them all.
PH_SERVER_DIR=
PH_PORT=
PH_SERVER_DIRS=()

ph_server_stop() {
	local d
	for d in "${PH_SERVER_DIRS[@]}"; do
		ph_as_user "$("$PG_CONFIG" --bindir)/pg_ctl" -D "$d/data" -m fast -w stop >/dev/null 2>&1 || true
		rm -rf "$d"
	done
	PH_SERVER_DIRS=()
	PH_SERVER_DIR=
}

ph_server_start() {
	local bindir
	bindir=$("$PG_CONFIG" --bindir)
	PH_SERVER_DIR=$(mktemp -d /tmp/pg_health_server.XXXXXX)
	PH_SERVER_DIRS+=("$PH_SERVER_DIR")
	chmod 755 "$PH_SERVER_DIR"
	[ "$(id -u)" = 0 ] && chown "$PH_USER" "$PH_SERVER_DIR"
	PH_PORT=$(ph_free_port)
	trap ph_server_stop EXIT
	ph_as_user "$bindir/initdb" -D "$PH_SERVER_DIR/data" -A trust -U postgres >/dev/null
	{
		echo "shared_preload_libraries = 'pg_health'"
		echo "port = $PH_PORT"
		echo "listen_addresses = ''"
		echo "unix_socket_directories = '$PH_SERVER_DIR'"
		for line in "$@"; do echo "$line"; done
	} | ph_as_user tee -a "$PH_SERVER_DIR/data/postgresql.conf" >/dev/null
	ph_as_user "$bindir/pg_ctl" -D "$PH_SERVER_DIR/data" -l "$PH_SERVER_DIR/server.log" -w start >/dev/null ||
		{ cat "$PH_SERVER_DIR/server.log" >&2; ph_die "server did not start"; }
	export PGHOST=$PH_SERVER_DIR PGPORT=$PH_PORT PGUSER=postgres PGDATABASE=postgres
}

# psql without the Debian wrapper (it costs ~34 ms a call)
ph_psql() { ph_as_user env PGHOST="$PGHOST" PGPORT="$PGPORT" PGUSER="$PGUSER" PGDATABASE="$PGDATABASE" \
	"$("$PG_CONFIG" --bindir)/psql" -X -v ON_ERROR_STOP=1 "$@"; }
