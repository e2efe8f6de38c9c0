# pg_health is never the way in: the attacks found on 1.0, each tried again.
#
# The owner of pg_health.database (a non-superuser) plants operators and
# functions in public, sets the database's search_path to a schema of its
# own, and registers checks that set search_path for the next ones, write
# with a CTE, INSERT ... RETURNING, or do DDL in a function.  A superuser's
# check with unqualified names runs beside them.  Nobody gains a privilege
# and nothing a check does is kept.  Then the limits: concurrent
# registrations past the limit, rows beyond it written directly, hostile
# intervals in stored rows; and hostile bytes: invalid UTF-8 in a raw
# startup packet to a full server, and a detail written in a SQL_ASCII
# database, never make the report invalid UTF-8.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IO::Socket::INET;
use Encode qw(decode FB_CROAK LEAVE_SRC);
use Time::HiRes qw(usleep);

my $node = PostgreSQL::Test::Cluster->new('attacks');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_health'
pg_health.sample_interval = 100ms
pg_health.database = 'appdb'
max_connections = 12
});
$node->start;

sub q1 { my ($db, $sql, @o) = @_; return $node->safe_psql($db, $sql, @o); }
sub as_attacker { my ($sql) = @_; return q1('appdb', $sql, extra_params => [ '-U', 'attacker' ]); }
sub error_of
{
	my ($db, $role, $sql) = @_;
	my ($ret, $out, $err) = $node->psql($db, "\\set VERBOSITY verbose\n$sql",
		extra_params => defined $role ? [ '-U', $role ] : []);
	return $err;
}
sub sqlstate_of { my $e = error_of(@_); return $e =~ /ERROR:\s+([0-9A-Z]{5}):/ ? $1 : "no error: $e"; }
sub is_superuser { return q1('postgres', q{SELECT rolsuper FROM pg_roles WHERE rolname = 'attacker'}) eq 't'; }
sub check_detail
{
	my ($name) = @_;
	q1('postgres', 'SELECT health.refresh()');
	return q1('postgres', "SELECT status || ': ' || detail FROM health.checks WHERE name = 'custom:$name'");
}
# Wait until a check has a result, then return it.
sub ran
{
	my ($name) = @_;
	$node->poll_query_until('postgres', qq{
		SELECT health.refresh() AND EXISTS (SELECT FROM health.checks
		WHERE name = 'custom:$name' AND detail NOT LIKE 'has not run%')}) or diag("$name never ran");
	return check_detail($name);
}

$node->safe_psql('postgres', q{
	CREATE ROLE attacker LOGIN;
	CREATE DATABASE appdb OWNER attacker;
	CREATE EXTENSION pg_health;
});
$node->safe_psql('appdb', q{
	CREATE EXTENSION pg_health;
	CREATE SCHEMA app AUTHORIZATION attacker;
	CREATE TABLE app.schema_version (v int);
	INSERT INTO app.schema_version VALUES (42);
	ALTER TABLE app.schema_version OWNER TO attacker;
});
ok($node->poll_query_until('postgres', q{SELECT count(*) = 1 FROM pg_stat_activity
                                         WHERE backend_type = 'pg_health checker'}),
	'the checker runs in appdb');

# The attacker's traps: whatever calls them as a superuser makes the
# attacker a superuser.  Each is an operator or function pg_health 1.0
# resolved through search_path, or one a superuser's unqualified check
# would resolve.
as_attacker(q{
	CREATE FUNCTION public.trap() RETURNS void LANGUAGE plpgsql AS $$
	BEGIN
	  BEGIN ALTER ROLE attacker SUPERUSER; EXCEPTION WHEN OTHERS THEN NULL; END;
	END $$;
	CREATE FUNCTION public.f8_times_i4(float8, int4) RETURNS float8 LANGUAGE plpgsql AS $$
	BEGIN PERFORM public.trap(); RETURN $1 * $2::float8; END $$;
	CREATE OPERATOR public.* (LEFTARG = float8, RIGHTARG = int4, FUNCTION = public.f8_times_i4);
	CREATE FUNCTION public.i4_times_iv(int4, interval) RETURNS interval LANGUAGE plpgsql AS $$
	BEGIN PERFORM public.trap(); RETURN $2 * $1::float8; END $$;
	CREATE OPERATOR public.* (LEFTARG = int4, RIGHTARG = interval, FUNCTION = public.i4_times_iv);
	CREATE SCHEMA evil;
	CREATE FUNCTION evil.now() RETURNS timestamptz LANGUAGE plpgsql AS $$
	BEGIN PERFORM public.trap(); RETURN pg_catalog.now(); END $$;
	CREATE FUNCTION evil.count(anyelement) RETURNS int8 LANGUAGE plpgsql AS $$
	BEGIN PERFORM public.trap(); RETURN 1; END $$;
	ALTER DATABASE appdb SET search_path = evil, public, pg_catalog;
	CREATE TABLE public.written (x int);
	CREATE FUNCTION public.ddl() RETURNS boolean LANGUAGE plpgsql AS $$
	BEGIN CREATE TABLE public.made_by_a_check (x int); RETURN true; END $$;
});
# the checker reads the database's settings only when it connects
$node->safe_psql('postgres', q{SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                               WHERE backend_type = 'pg_health checker'});
ok($node->poll_query_until('postgres', q{SELECT count(*) = 1 FROM pg_stat_activity
                                         WHERE backend_type = 'pg_health checker'}),
	'the checker is back, connected under the planted search_path');

# register_check's own SQL, as the table's owner, under the caller's path
as_attacker(q{SET search_path = public, pg_catalog;
	SELECT health.register_check('slow', 'SELECT true', run_interval => '100ms')});
ok(!is_superuser(), 'register_check under a planted search_path: no superuser');

# checks that write, and one that sets search_path for the next ones
as_attacker(q{
	SELECT health.register_check('a_sets_path',
	  $$SELECT pg_catalog.set_config('search_path', 'evil, public, pg_catalog', false) IS NOT NULL$$,
	  run_interval => '100ms');
	SELECT health.register_check('cte_insert',
	  'WITH w AS (INSERT INTO public.written VALUES (1) RETURNING 1) SELECT true FROM w',
	  run_interval => '100ms', search_path => 'public');
	SELECT health.register_check('insert_returning',
	  'INSERT INTO public.written VALUES (2) RETURNING true',
	  run_interval => '100ms', search_path => 'public');
	SELECT health.register_check('ddl_function', 'SELECT public.ddl()', run_interval => '100ms');
	SELECT health.register_check('version', 'SELECT max(v) >= 42 FROM app.schema_version',
	  run_interval => '100ms');
	SELECT health.register_check('version_by_path', 'SELECT max(v) >= 42 FROM schema_version',
	  run_interval => '100ms', search_path => 'app');
});
# a superuser's check with unqualified names, run after 'a_sets_path'
q1('appdb', q{SELECT health.register_check('z_superuser', 'SELECT now() IS NOT NULL AND count(1) > 0',
              run_interval => '100ms')});

like(ran('cte_insert'), qr/^critical: .*read-only transaction.*SQLSTATE 25006/,
	'a writing CTE fails with 25006');
like(ran('insert_returning'), qr/^critical: .*read-only transaction.*SQLSTATE 25006/,
	'INSERT ... RETURNING fails with 25006');
like(ran('ddl_function'), qr/^critical: .*read-only transaction.*SQLSTATE 25006/,
	'a function doing DDL fails with 25006');
like(ran('version'), qr/^ok: passed/, 'a qualified query passes');
like(ran('version_by_path'), qr/^ok: passed/, 'a query under its stored search_path passes');
like(ran('a_sets_path'), qr/^ok: passed/, 'set_config inside a check runs...');
like(ran('z_superuser'), qr/^ok: passed/, "...and the superuser's unqualified check after it passes");
# give every check several more runs
$node->poll_query_until('postgres', q{SELECT pg_catalog.pg_sleep(2) IS NOT NULL});
ok(!is_superuser(), 'after many runs of every check: the attacker is not a superuser');
is(q1('appdb', 'SELECT count(*) FROM public.written'), '0', 'nothing a check wrote was kept');
is(q1('appdb', q{SELECT count(*) FROM pg_class WHERE relname = 'made_by_a_check'}), '0',
	'no table made by a check');
is(q1('appdb', q{SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pg_health checker'
                 AND pid = (SELECT pid FROM pg_stat_activity WHERE backend_type = 'pg_health checker')}),
	'1', 'one checker, still running');

# A query that only works through the database's search_path is refused at
# registration, with the search_path it was planned under.
my $err = error_of('appdb', 'attacker', q{SELECT health.register_check('bare', 'SELECT max(v) > 0 FROM schema_version')});
like($err, qr/42P01.*search_path = pg_catalog, pg_temp/s,
	'an unqualified name: 42P01 at registration, naming the search_path');

q1('appdb', q{DELETE FROM health.custom_checks});

# ---------------------------------------------------------------------
# Limits under concurrency: two sessions register past the limit at once.
# ---------------------------------------------------------------------
q1('appdb', join('', map { "SELECT health.register_check('c$_', 'SELECT true', run_interval => '1h');\n" } 1 .. 31));
my $s1 = $node->background_psql('appdb', on_error_stop => 0);
my $s2 = $node->background_psql('appdb', on_error_stop => 0);
$s1->query_safe(q{BEGIN; SELECT health.register_check('c32a', 'SELECT true')});
$s2->query_until(qr/started/, q{\echo started
SELECT health.register_check('c32b', 'SELECT true');
});
$s1->query_safe('COMMIT');
$s2->query(q{SELECT 1});
$s1->quit;
$s2->quit;
is(q1('appdb', 'SELECT count(*) FROM health.custom_checks'), '32',
	'two concurrent registrations at the limit: only one commits');

# Rows beyond the limit written directly fail closed, named.
q1('appdb', q{INSERT INTO health.custom_checks (name, query, registered_by) VALUES
              ('zz1', 'SELECT true', 'attacker'), ('zz2', 'SELECT true', 'attacker')});
ok($node->poll_query_until('postgres', q{SELECT health.refresh() AND status = 'critical' FROM health.checks
                                         WHERE name = 'custom_checks'}),
	'rows beyond the limit: a critical custom_checks check');
like(q1('postgres', q{SELECT detail FROM health.checks WHERE name = 'custom_checks'}),
	qr/2 custom check\(s\) .* beyond the 32 that run, from "zz1"/, '... naming how many and from which');
is(q1('postgres', 'SELECT health.ready()'), 'f', '... and the server is not ready');
q1('appdb', q{DELETE FROM health.custom_checks});

# A stored row with hostile intervals: clamped, run, no restart loop.
my $checker = q1('postgres', q{SELECT pid FROM pg_stat_activity WHERE backend_type = 'pg_health checker'});
q1('appdb', q{INSERT INTO health.custom_checks (name, query, run_interval, timeout, registered_by)
              VALUES ('restored', 'SELECT true', '100 years', '-5 years', 'attacker')});
like(ran('restored'), qr/^ok: passed .* every 86400\.0 s/, 'run_interval of 100 years: clamped to a day, and run');
is(q1('postgres', q{SELECT pid FROM pg_stat_activity WHERE backend_type = 'pg_health checker'}), $checker,
	'the checker did not restart');
q1('appdb', q{DELETE FROM health.custom_checks});

# ---------------------------------------------------------------------
# Hostile bytes.
# ---------------------------------------------------------------------
# A SQL_ASCII database takes any byte in a detail.
q1('postgres', q{CREATE DATABASE bytes ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0});
q1('bytes', q{CREATE EXTENSION pg_health;
              SELECT health.set_component_state('raw', 'ready', E'caf\xe9 \xff\xfe ok')});

# A full server, then a raw startup packet whose names are not UTF-8.
my $bg = $node->background_psql('postgres');
$bg->query_safe('CREATE EXTENSION IF NOT EXISTS dblink');
my $connstr = 'host=' . $node->host . ' port=' . $node->port . ' dbname=postgres';
$bg->query(qq{DO \$\$ BEGIN FOR i IN 1..20 LOOP
  BEGIN PERFORM dblink_connect('c' || i, '$connstr'); EXCEPTION WHEN OTHERS THEN EXIT; END;
  END LOOP; END \$\$});
my $user = "\xff\xfe<script>\x01";
my $packet = pack('N', 196608) . "user\0$user\0database\0\xc3\x28db\0\0";
my $sock = IO::Socket::UNIX->new(Peer => $node->host . '/.s.PGSQL.' . $node->port);
if ($sock)
{
	print $sock pack('N', length($packet) + 4) . $packet;
	my $reply = '';
	sysread($sock, $reply, 4096);
	like($reply, qr/too many clients|reserved/, 'the full server refused the raw startup packet');
	close $sock;
}
else
{
	fail("could not connect to the server's socket: $!");
}
# The backends that fill the server (the session and its dblink
# connections) leave after the client's quit, each at its own pace: a
# connection opened before they are gone would be refused too, and its
# refusal would be the last one the report names.
my @fillers = split /\n/, $bg->query_safe(q{SELECT pid FROM pg_stat_activity WHERE backend_type = 'client backend'});
$bg->quit;
my $gone_by = time + 60;
usleep(50_000) while grep({ kill 0, $_ } @fillers) && time < $gone_by;
is(scalar(grep { kill 0, $_ } @fillers), 0, 'the ' . scalar(@fillers) . ' backends that filled the server are gone');
ok($node->poll_query_until('postgres', q{SELECT health.refresh() AND (health.report() #>> '{connections,last_refused_role}') IS NOT NULL}),
	'the refusal is in the report');

my $report = q1('postgres', q{SELECT health.report()::text});
my $decoded = eval { decode('UTF-8', $report, FB_CROAK | LEAVE_SRC) };
ok(defined $decoded, 'health.report() is valid UTF-8 after invalid bytes in a startup packet and a SQL_ASCII detail');
like($report, qr/"last_refused_role": "\?\?<script> "/, 'the refused name, invalid bytes as ?, control characters as spaces');
like($report, qr/"last_refusal_authenticated": false/, '... marked as what an unauthenticated client asked for');
like($report, qr/caf\? \?\? ok/, "the SQL_ASCII detail's invalid bytes as ?");
like(q1('postgres', q{SELECT detail FROM health.checks WHERE name = 'connection_refusals'}),
	qr/before authentication, for a client that asked for role/, 'the check says the name is unverified');

done_testing();
