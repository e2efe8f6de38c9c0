# Custom checks (initialization gates): registered by the owner of
# pg_health.database, run by the checker worker as that role under a
# timeout; every way a query can fail gives the right status and detail and
# leaves the checker running; transitions are sent with NOTIFY; DROP DATABASE
# of the checker's database does not hang, and the checker comes back when
# the database does.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);

my $node = PostgreSQL::Test::Cluster->new('checks');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_health'
pg_health.sample_interval = 100ms
pg_health.database = 'appdb'
});
$node->start;
$node->safe_psql('postgres', q{
	CREATE ROLE app_owner LOGIN;
	CREATE ROLE someone LOGIN;
	CREATE DATABASE appdb OWNER app_owner;
	CREATE EXTENSION pg_health;
});
$node->safe_psql('appdb', q{
	CREATE EXTENSION pg_health;
	CREATE TABLE public.schema_version (v int);
	INSERT INTO public.schema_version VALUES (41);
	GRANT SELECT ON public.schema_version TO app_owner;
	CREATE TABLE public.secret (x int);
});

sub q1 { my ($db, $sql, @o) = @_; return $node->safe_psql($db, $sql, @o); }
sub as_owner { my ($sql) = @_; return q1('appdb', $sql, extra_params => [ '-U', 'app_owner' ]); }
sub sqlstate_of
{
	my ($db, $role, $sql) = @_;
	my ($ret, $out, $err) = $node->psql($db, "\\set VERBOSITY verbose\n$sql",
		extra_params => defined $role ? [ '-U', $role ] : []);
	return $err =~ /ERROR:\s+([0-9A-Z]{5}):/ ? $1 : "no error: $err";
}
sub check_row
{
	my ($name) = @_;
	q1('postgres', 'SELECT health.refresh()');
	return q1('postgres', "SELECT status || ': ' || detail FROM health.checks WHERE name = 'custom:$name'");
}

ok($node->poll_query_until('postgres', q{SELECT count(*) = 1 FROM pg_stat_activity
                                         WHERE backend_type = 'pg_health checker' AND datname = 'appdb'}),
	'the checker runs in pg_health.database');
my $checker = q1('postgres', q{SELECT pid FROM pg_stat_activity WHERE backend_type = 'pg_health checker'});

# Who may register, and where.
is(sqlstate_of('postgres', undef, q{SELECT health.register_check('x', 'SELECT true')}), '55000',
	'registering from another database than pg_health.database: 55000');
like((($node->psql('postgres', q{SELECT health.register_check('x', 'SELECT true')}))[2]),
	qr/custom checks are configured in database "appdb", not "postgres"/, '... saying which database');
is(sqlstate_of('appdb', 'someone', q{SELECT health.register_check('x', 'SELECT true')}), '42501',
	'a role that does not own the database: 42501');
is(sqlstate_of('appdb', 'app_owner', q{SELECT health.register_check('x', 'SELECT 1')}), '42804',
	'a query that does not return one boolean is refused at registration');
is(sqlstate_of('appdb', 'app_owner', q{SELECT health.register_check('x', 'SELEC true')}), '42601',
	'a syntax error is refused at registration');

# The owner registers gates of every kind.
as_owner(q{
	SELECT health.register_check('schema', 'SELECT max(v) >= 42 FROM public.schema_version', run_interval => '200ms');
	SELECT health.register_check('null', 'SELECT NULL::boolean', run_interval => '200ms');
	SELECT health.register_check('error', 'SELECT (1 / (SELECT count(*) FROM public.schema_version WHERE v < 0)) = 1',
	                             run_interval => '200ms');
	SELECT health.register_check('slow', 'SELECT pg_sleep(5) IS NOT NULL', timeout => '100ms', run_interval => '200ms');
	SELECT health.register_check('rows', 'SELECT true FROM generate_series(1, 2)', run_interval => '200ms');
	SELECT health.register_check('none', 'SELECT true WHERE false', run_interval => '200ms');
	SELECT health.register_check('secret', 'SELECT count(*) >= 0 FROM public.secret', run_interval => '200ms');
	SELECT health.register_check('soft', 'SELECT false', severity => 'warning', run_interval => '200ms');
});
ok($node->poll_query_until('postgres', q{SELECT health.refresh() AND count(*) = 8 FROM health.checks
                                         WHERE name LIKE 'custom:%' AND detail NOT LIKE 'has not run yet%'}),
	'all eight have run');
like(check_row('schema'), qr/^critical: failed \d+ s ago: returned false \(as role "app_owner"/, 'false: critical, as the owner');
like(check_row('null'), qr/^critical: failed \d+ s ago: returned NULL/, 'NULL: critical');
like(check_row('error'), qr/^critical: failed \d+ s ago: error: division by zero \(SQLSTATE 22012\)/, 'an error: critical, with the message');
like(check_row('slow'), qr/^critical: failed \d+ s ago: did not finish within its timeout of 100 ms/, 'a timeout: critical');
like(check_row('rows'), qr/^critical: failed \d+ s ago: returned more than one row, not one row/, 'two rows: critical');
like(check_row('none'), qr/^critical: failed \d+ s ago: returned no row, not one row/, 'no row: critical');
like(check_row('secret'), qr/^critical: failed \d+ s ago: error: permission denied for table secret/,
	'it runs as the role that registered it, not as a superuser');
like(check_row('soft'), qr/^warning: failed/, 'severity warning: a warning');
is(q1('postgres', q{SELECT pid FROM pg_stat_activity WHERE backend_type = 'pg_health checker'}), $checker,
	'the checker survived all of it');
is(q1('postgres', 'SELECT health.ready()'), 'f', 'failing critical gates: not ready');

# The gate opens: NOTIFY tells a listener.
as_owner(q{SELECT health.drop_check(n) FROM unnest(ARRAY['null', 'error', 'slow', 'rows', 'none', 'secret']) n});
my $listener = $node->background_psql('appdb');
$listener->query_safe('LISTEN pg_health');
q1('appdb', 'UPDATE public.schema_version SET v = 42');
ok($node->poll_query_until('postgres', q{SELECT health.refresh() AND status = 'ok' FROM health.checks
                                         WHERE name = 'custom:schema'}),
	'the migration landed: the gate passes');
like(check_row('schema'), qr/^ok: passed \d+ s ago in [0-9.]+ ms \(as role "app_owner", every 0.2 s\)$/,
	'... and says so');
ok($node->poll_query_until('postgres', q{SELECT health.refresh() AND health.ready()}), 'ready once the gates pass');
my $heard = '';
for (1 .. 50)
{
	$heard .= $listener->query_safe('SELECT 1');
	last if $heard =~ /"check": ?"custom:schema", ?"old": ?"critical", ?"new": ?"ok"|"check":"custom:schema","old":"critical","new":"ok"/;
	usleep(100_000);
}
like($heard, qr/Asynchronous notification "pg_health" with payload "\{.*"check":"custom:schema","old":"critical","new":"ok"/,
	'a LISTENing session got the check\'s transition');
like($heard, qr/"old_status":"not_ready","new_status":"degraded"/, '... and the overall status change');
$listener->quit;
is(q1('postgres', q{SELECT changes->0->>'check' || ' ' || (changes->0->>'new') FROM health.events
                     WHERE changes @> '[{"check": "custom:schema", "new": "ok"}]'}),
	'custom:schema ok', 'health.events keeps the same transition');

# DROP DATABASE of the checker's database: without FORCE it fails as for any
# session (no hang); with FORCE it completes at once.
my $log_offset = -s $node->logfile;
my $t0 = time;
my ($ret, $out, $err) = $node->psql('postgres', 'DROP DATABASE appdb');
like($err, qr/database "appdb" is being accessed by other users/, 'DROP DATABASE without FORCE: refused');
# (bounds that tell a hang from a slow machine: PostgreSQL itself waits 5 s
# for the other sessions before it refuses, and FORCE fails, not succeeds,
# if the checker does not leave)
cmp_ok(time - $t0, '<', 30, '... after PostgreSQL\'s own 5 s wait, not a hang');
$t0 = time;
q1('postgres', 'DROP DATABASE appdb WITH (FORCE)');
cmp_ok(time - $t0, '<', 15, 'DROP DATABASE ... WITH (FORCE) completes, no hang');
# the names worker says so once it notices; then 3 s more to see it is not repeated
$node->wait_for_log(qr/database "appdb" \(pg_health.database\) does not exist/, $log_offset);
sleep 3;
is(q1('postgres', q{SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pg_health checker'}), '0',
	'no checker while the database does not exist');
my $log = substr(slurp_file($node->logfile), $log_offset);
my @missing = ($log =~ /database "appdb" \(pg_health.database\) does not exist/g);
is(scalar(@missing), 1, 'said once in the log, no restart loop');
unlike($log, qr/terminated by signal/, 'nothing crashed');
ok($node->poll_query_until('postgres', q{SELECT health.refresh() AND status = 'critical'
                                          AND detail LIKE '%the pg_health checker is not running%'
                                         FROM health.checks WHERE name = 'custom:schema'}),
	'the gate fails closed once its result is stale');

# The database comes back: so does the checker, with the checks of the new one.
$node->safe_psql('postgres', 'CREATE DATABASE appdb OWNER app_owner');
$node->safe_psql('appdb', 'CREATE EXTENSION pg_health');
ok($node->poll_query_until('postgres', q{SELECT count(*) = 1 FROM pg_stat_activity
                                         WHERE backend_type = 'pg_health checker' AND datname = 'appdb'}),
	'the checker is back in the new database');
ok($node->poll_query_until('postgres', q{SELECT health.refresh() AND count(*) = 0 FROM health.checks
                                         WHERE name LIKE 'custom:%'}),
	'and the new database has no checks');
is(q1('postgres', 'SELECT health.ready()'), 't', 'ready');

$node->stop;
done_testing();
