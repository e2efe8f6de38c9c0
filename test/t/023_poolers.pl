# Connection poolers in the one verdict, with Debian's real PgBouncer,
# started by this test in front of the server:
#  - a pool of 2 server connections and 20 clients running pg_sleep(1):
#    pooler:<name> critical with the wait in its detail, /ready 503 naming
#    it; ready again once the queue has drained;
#  - a component counting its clients at the pooler;
#  - wrong credentials, a user that is not an admin, a PostgreSQL server
#    instead of PgBouncer: a critical reason with the pooler's own error;
#  - PgBouncer frozen (SIGSTOP): sampling and SQL unaffected, the timeout
#    reported; PgBouncer stopped: critical "unreachable" after the grace;
#  - health.report_pool(): an application's own pool, its waits judged;
#  - bad input to configure_pooler and report_pool: errors with SQLSTATEs.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(time usleep);
use PgHealthTest;

my ($pgbouncer) = grep { -x $_ } ('/usr/sbin/pgbouncer', '/usr/bin/pgbouncer');
die 'pgbouncer is not installed (scripts/lib.sh installs it: apt-get install pgbouncer)'
  unless $pgbouncer;

my $http = PostgreSQL::Test::Cluster::get_free_port();
my $node = PostgreSQL::Test::Cluster->new('poolers');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_health'
pg_health.sample_interval = 100ms
pg_health.pooler_interval = 200ms
pg_health.pooler_timeout = 500ms
pg_health.pooler_grace = 2s
pg_health.pooler_wait_warning = 1s
pg_health.pooler_wait_critical = 3s
pg_health.http_port = $http
listen_addresses = '127.0.0.1'
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION pg_health');
my $su = $node->safe_psql('postgres', 'SELECT current_user');
$node->safe_psql('postgres', 'CREATE ROLE app LOGIN; CREATE ROLE outsider LOGIN');
my $bindir = $node->config_data('--bindir');

# the defaults the docs give
is($node->safe_psql('postgres', q{SELECT current_setting('pg_health.pooler_grace')}),
	'2s', 'the test runs with a 2 s grace');

# ------------------------------------------------------------------------
# PgBouncer: transaction pooling, 2 server connections per pool
# ------------------------------------------------------------------------
my $dir = PostgreSQL::Test::Utils::tempdir();
my $bport = PostgreSQL::Test::Cluster::get_free_port();
write_pgbouncer_config($dir, $node->port, $bport, $su, 100, $su, 'app');

my $bouncer;
# whatever happens to the test, its PgBouncer does not outlive it
END { kill 'KILL', bouncer_pid() if defined $bouncer && bouncer_pid(); }
sub start_bouncer { $bouncer = start_pgbouncer($pgbouncer, $dir, $bindir, $bport, $su); }
sub bouncer_pid { return pgbouncer_pid($dir); }
start_bouncer();
ok(bouncer_pid(), 'PgBouncer is running');
my @poller = worker_pids($node, 'pg_health poller');
is(scalar @poller, 1, 'one pooler worker runs');

# Wait until $sql (on the server) returns $want; returns the seconds it took, or undef.
sub wait_for
{
	my ($sql, $want, $timeout) = @_;
	my $t0 = time;
	while (time - $t0 < ($timeout // 20))
	{
		my $got = $node->safe_psql('postgres', $sql);
		return time - $t0 if $got eq $want;
		usleep(50_000);
	}
	return undef;
}
my $check = sub {
	my $name = shift;
	return qq{SELECT status FROM health.checks WHERE name = 'pooler:$name'};
};

# ------------------------------------------------------------------------
# Configuration, and bad input
# ------------------------------------------------------------------------
my $conninfo = "host=127.0.0.1 port=$bport dbname=pgbouncer user=$su";
$node->safe_psql('postgres', "SELECT health.configure_pooler('pgb', '$conninfo')");
ok(defined wait_for(q{SELECT state FROM health.poolers WHERE name = 'pgb'}, 'answering'),
	'the pooler worker answers for pgb');
is($node->safe_psql('postgres', $check->('pgb')), 'ok', 'pooler:pgb is ok with no one waiting');
like($node->safe_psql('postgres', q{SELECT version FROM health.poolers WHERE name = 'pgb'}),
	qr/^PgBouncer \d/, 'its version is read');
is($node->safe_psql('postgres', q{SELECT host || ':' || port || ' ' || max_client_conn || ' ' || pool_mode FROM health.poolers}),
	"127.0.0.1:$bport 100 transaction", 'host, port, max_client_conn and pool_mode are shown, never the conninfo');

my ($ret, $out, $err);
my %bad = (
	q{SELECT health.configure_pooler('x', 'host=127.0.0.1 port=6432 dbname=pgbouncer nosuchoption=1')}
	  => [ qr/invalid conninfo for pooler "x"/, '22023' ],
	q{SELECT health.configure_pooler('x', 'host=127.0.0.1 port=6432')}
	  => [ qr/must name PgBouncer's admin console/, '22023' ],
	q{SELECT health.configure_pooler('x', 'host=127.0.0.1 dbname=postgres')}
	  => [ qr/must name PgBouncer's admin console/, '22023' ],
	q{SELECT health.configure_pooler('X Y', 'dbname=pgbouncer')}
	  => [ qr/invalid pooler name "X Y"/, '22023' ],
	q{SELECT health.configure_pooler('x', NULL)} => [ qr/conninfo must not be NULL/, '22004' ],
	q{SELECT health.configure_pooler('x', 'host=pgb.example.com dbname=pgbouncer')}
	  => [ qr/names host "pgb.example.com", which the pooler worker would have to look up/, '22023' ],
	q{SELECT health.configure_pooler('x', 'host=127.0.0.1 password=correct horse dbname=pgbouncer')}
	  => [ qr/invalid conninfo for pooler "x": libpq cannot parse it/, '22023' ],
	q{SELECT health.configure_pooler('x', repeat('a', 2000))}
	  => [ qr/more than the 1023 allowed/, '22023' ],
);
for my $sql (sort keys %bad)
{
	($ret, $out, $err) = $node->psql('postgres', "\\set VERBOSITY verbose\n$sql");
	like($err, $bad{$sql}[0], "bad input refused: $sql");
	like($err, qr/ERROR:  $bad{$sql}[1]/, "... with SQLSTATE $bad{$sql}[1]");
}
($ret, $out, $err) = $node->psql('postgres',
	q{SELECT health.configure_pooler('x', 'host=127.0.0.1 password=correct horse dbname=pgbouncer')});
unlike($err, qr/horse/, "libpq's parse error is not shown: it may quote the password");
$node->safe_psql('postgres',
	q{SELECT health.configure_pooler('named', 'host=pgb.example.com hostaddr=127.0.0.1 port=1 dbname=pgbouncer')});
is($node->safe_psql('postgres', q{SELECT health.drop_pooler('named')}), 't',
	'a host name with hostaddr is taken (no lookup)');
($ret, $out, $err) = $node->psql('postgres',
	"SET ROLE app; SELECT health.configure_pooler('x', 'dbname=pgbouncer')");
like($err, qr/permission denied for function configure_pooler/, 'a non-superuser cannot configure a pooler');
($ret, $out, $err) = $node->psql('postgres', 'SET ROLE app; SELECT conninfo FROM health.pooler_config');
like($err, qr/permission denied for table pooler_config/, '... nor read a conninfo');
$node->safe_psql('postgres', 'GRANT pg_monitor TO outsider');
($ret, $out, $err) = $node->psql('postgres',
	'SET ROLE outsider; SELECT count(*) FROM health.pooler_config');
like($err, qr/permission denied/, 'pg_monitor cannot read the conninfo');
# (a dropped pooler leaves the list when the checker next loads it: within a second)
ok(defined wait_for(q{SET ROLE outsider; SELECT count(*) FROM health.poolers}, '1'),
	'... but sees health.poolers');
$node->safe_psql('postgres', 'CREATE DATABASE other');
$node->safe_psql('other', 'CREATE EXTENSION pg_health');
($ret, $out, $err) = $node->psql('other', "SELECT health.configure_pooler('x', 'dbname=pgbouncer')");
like($err, qr/poolers are configured in database "postgres", not "other"/,
	'poolers are configured in pg_health.database only');
$node->safe_psql('postgres', join ';',
	map { "SELECT health.configure_pooler('p$_', 'host=127.0.0.1 port=1 dbname=pgbouncer')" } 1 .. 7);
($ret, $out, $err) = $node->psql('postgres',
	"\\set VERBOSITY verbose\nSELECT health.configure_pooler('p8', 'host=127.0.0.1 port=1 dbname=pgbouncer')");
like($err, qr/53400: cannot configure pooler "p8": 8 poolers are configured/, 'at most 8 poolers');
is($node->safe_psql('postgres', join ';', map { "SELECT health.drop_pooler('p$_')" } 1 .. 7),
	join("\n", ('t') x 7), 'drop_pooler says it dropped them');
is($node->safe_psql('postgres', q{SELECT health.drop_pooler('nosuch')}), 'f', '... and false for none');
ok(defined wait_for(q{SELECT count(*) FROM health.checks WHERE name ~ '^pooler:p[0-9]$'}, '0'),
	'dropped poolers leave the verdict');

# ------------------------------------------------------------------------
# 20 clients, 2 server connections: the queue is in the verdict
# ------------------------------------------------------------------------
my @clients;
for my $i (1 .. 20)
{
	push @clients, IPC::Run::start(
		[ "$bindir/psql", '-X', '-h', '127.0.0.1', '-p', $bport, '-U', $su, '-d', 'postgres',
		  '-c', 'SELECT pg_sleep(1)' ],
		'>', '/dev/null', '2>', "$dir/client$i.err");
}
my $took = wait_for($check->('pgb'), 'critical', 20);
ok(defined $took, 'pooler:pgb turns critical while clients wait longer than 3 s');
my $detail = $node->safe_psql('postgres', q{SELECT detail FROM health.checks WHERE name = 'pooler:pgb'});
like($detail, qr/client\(s\) waiting for a server connection; pool postgres\/\Q$su\E: \d+ waiting, the oldest for \d+\.\d s \(2 of 2 server connections in use\)/,
	'its detail names the pool, the number waiting and the wait');
my ($status, $headers, $body) = http_get($http, '/ready');
is($status, 503, '/ready answers 503');
like($body, qr/"check":"pooler:pgb","status":"critical"/, '... naming pooler:pgb');
is($node->safe_psql('postgres', q{SELECT cl_waiting > 0 AND sv_active = 2 AND pool_size = 2 AND maxwait > '1s' FROM health.pooler_pools WHERE pooler = 'pgb' AND database = 'postgres'}),
	't', 'health.pooler_pools shows the waiting clients, the busy servers and the wait');
my $metrics = (http_get($http, '/metrics'))[2];
like($metrics, qr/^pg_health_pooler_clients\{pooler="pgb",database="postgres",user="\Q$su\E",state="waiting"\} [1-9]/m,
	'/metrics has the waiting clients');
like($metrics, qr/^pg_health_pooler_max_wait_seconds\{pooler="pgb",database="postgres",user="\Q$su\E"\} [1-9]/m,
	'... and the wait');
like($metrics, qr/^pg_health_pooler_up\{pooler="pgb"\} 1$/m, '... and the pooler up');
my $report = $node->safe_psql('postgres', q{SELECT health.report()->'poolers'->0->'pools'->0->>'cl_waiting'});
cmp_ok($report, '>', 0, "health.report()'s poolers section has the pool");

# drained: the clients finish, and the verdict follows within a poll and a sample
$_->finish for @clients;
my $t_done = time;
my $back = wait_for(q{SELECT health.ready()}, 't', 10);
ok(defined $back, 'ready again once the queue has drained');
note(sprintf 'ready %.2f s after the last client finished', $back // -1);
cmp_ok($back // 99, '<', 2, '... within a poll and two samples (2 s allowed)');
($status) = http_get($http, '/ready');
is($status, 200, '/ready answers 200 again');
like($node->safe_psql('postgres', q{SELECT changes FROM health.events ORDER BY occurred_at DESC LIMIT 5}),
	qr/"check": "pooler:pgb"/, 'the transition is an event (and a NOTIFY)');


# ------------------------------------------------------------------------
# A component counting its clients at the pooler
# ------------------------------------------------------------------------
$node->safe_psql('postgres', qq{
	SELECT health.configure_component('api', pooler => 'pgb', pooler_database => 'postgres',
	  pooler_user => '$su', pool_min_connections => 3);
	SELECT health.set_component_state('api', 'ready');
});
ok(defined wait_for(q{SELECT status FROM health.components WHERE name = 'api'}, 'warning'),
	'a component whose pool at the pooler is short is critical (not required: a warning)');
like($node->safe_psql('postgres', q{SELECT detail FROM health.checks WHERE name = 'component:api'}),
	qr/its pool at pooler "pgb" \(database postgres, user \Q$su\E\) holds [0-2] of the 3 connections it needs/,
	'... and says where its pool is counted');
my @idle;
for (1 .. 3)
{
	my ($in, $o) = ('', '');
	push @idle, [ IPC::Run::start([ "$bindir/psql", '-X', '-h', '127.0.0.1', '-p', $bport, '-U', $su, '-d', 'postgres' ],
		'<', \$in, '>', \$o, '2>', '/dev/null'), \$in ];
}
ok(defined wait_for(q{SELECT status || ' ' || pool_connections || ' ' || pooler FROM health.components WHERE name = 'api'},
	'ok 3 pgb'), 'three idle clients at the pooler meet its minimum');
for (@idle) { ${ $_->[1] } .= "\\q\n"; $_->[0]->finish; }
$node->safe_psql('postgres', q{SELECT health.drop_component('api')});

# ------------------------------------------------------------------------
# Poolers that cannot be read
# ------------------------------------------------------------------------
$node->safe_psql('postgres', qq{
	SELECT health.configure_pooler('nouser', 'host=127.0.0.1 port=$bport dbname=pgbouncer user=nosuch');
	SELECT health.configure_pooler('notadmin', 'host=127.0.0.1 port=$bport dbname=pgbouncer user=app');
	CREATE DATABASE pgbouncer;
	SELECT health.configure_pooler('notpgb', 'host=127.0.0.1 port=@{[ $node->port ]} dbname=pgbouncer user=$su');
});
for my $case ([ 'nouser', qr/could not connect: .+(no such user|authentication failed)/ ],
	[ 'notadmin', qr/could not connect: .*not allowed/ ],
	[ 'notpgb', qr/not a PgBouncer admin console: SHOW VERSION: unrecognized configuration parameter "version"/ ])
{
	my ($name, $why) = @$case;
	ok(defined wait_for($check->($name), 'critical', 10), "pooler:$name critical after the grace");
	like($node->safe_psql('postgres', "SELECT detail FROM health.checks WHERE name = 'pooler:$name'"),
		$why, "... with the pooler's own error");
}
is($node->safe_psql('postgres', q{SELECT state FROM health.poolers WHERE name = 'notpgb'}),
	'never answered', 'health.poolers says it never answered');
$node->safe_psql('postgres', q{SELECT health.drop_pooler('nouser'), health.drop_pooler('notadmin'), health.drop_pooler('notpgb')});
ok(defined wait_for(q{SELECT health.ready()}, 't'), 'ready once they are dropped');

# ------------------------------------------------------------------------
# PgBouncer frozen: nothing else waits for it
# ------------------------------------------------------------------------
my $pid = bouncer_pid();
kill 'STOP', $pid;
my $gen0 = $node->safe_psql('postgres', 'SELECT generation FROM health.status');
ok(defined wait_for(q{SELECT detail LIKE '%timed out: no answer within pg_health.pooler_timeout (500 ms)%' FROM health.checks WHERE name = 'pooler:pgb'}, 't', 10),
	'a frozen PgBouncer is reported as a timeout');
my $t0 = time;
for (1 .. 20) { $node->safe_psql('postgres', 'SELECT health.ready()'); }
my $per_call = (time - $t0) / 20;
cmp_ok($per_call, '<', 0.5, sprintf('SQL answers while it is frozen (%.0f ms a call with psql)', $per_call * 1000));
cmp_ok($node->safe_psql('postgres', 'SELECT generation FROM health.status'), '>', $gen0 + 5,
	'the sampler keeps sampling');
cmp_ok($node->safe_psql('postgres', q{SELECT extract(epoch FROM now() - sampled_at) FROM health.status}),
	'<', 1, '... its sample is fresh');
ok(defined wait_for($check->('pgb'), 'critical', 10), 'critical once the grace has passed');
($status, $headers, $body) = http_get($http, '/ready');
is($status, 503, '/ready answers 503 at once, naming it');
like($body, qr/pooler:pgb/, '... naming pooler:pgb');
kill 'CONT', $pid;
ok(defined wait_for($check->('pgb'), 'ok', 10), 'thawed: ok again');

# ------------------------------------------------------------------------
# PgBouncer stopped: unreachable after the grace
# ------------------------------------------------------------------------
my $t_term = time;
kill 'TERM', $pid;
$bouncer->finish;
cmp_ok(time - $t_term, '<', 5,
	sprintf("PgBouncer's own shutdown is not held up by pg_health (%.1f s; from 1.23 SIGTERM waits for its clients)", time - $t_term));
# The check as each read finds it, from the stop to critical: the grace
# (2 s) counts from PgBouncer's last answer, so a single read after the
# polls fail could already fall past it on a loaded machine.
my @states;
my $t_states = time;
while (time - $t_states < 15)
{
	my $s = $node->safe_psql('postgres', q{
		SELECT p.state || ' ' || c.status FROM health.poolers p, health.checks c
		 WHERE p.name = 'pgb' AND c.name = 'pooler:pgb'});
	push @states, $s unless @states && $states[-1] eq $s;
	last if $s =~ /critical$/;
	usleep(20_000);
}
note 'pgb after the stop: ' . join(', ', @states);
my @failing = grep { /^failing / } @states;
is($failing[0] // '', 'failing warning', 'stopped: polls fail, a warning within the grace');
is($states[-1], 'failing critical', '... critical after it');
like($node->safe_psql('postgres', q{SELECT detail FROM health.checks WHERE name = 'pooler:pgb'}),
	qr/pooler "pgb" unreachable: no answer for \d+ s: could not connect: /, '... "unreachable", with the reason');
start_bouncer();
ok(defined wait_for($check->('pgb'), 'ok', 10), 'started again: ok');

# ------------------------------------------------------------------------
# An application's own pool
# ------------------------------------------------------------------------
$node->safe_psql('postgres', q{
	SELECT health.configure_component('svc', reporter => 'app', pool_max_wait => '1s');
	SET ROLE app;
	SELECT health.set_component_state('svc', 'ready');
	SELECT health.report_pool('svc', 2, 3, 0, 10);
});
ok(defined wait_for(q{SELECT status || ' ' || pool_in_use || ' ' || pool_idle || ' ' || pool_waiting || ' ' || pool_max_size FROM health.components WHERE name = 'svc'},
	'ok 2 3 0 10'), 'report_pool: its figures in health.components');
$node->safe_psql('postgres', q{SET ROLE app; SELECT health.report_pool('svc', 10, 0, 4, 10, '300ms')});
ok(defined wait_for(q{SELECT status FROM health.components WHERE name = 'svc'}, 'warning'),
	'clients waiting: a warning');
$node->append_conf('postgresql.conf', "pg_health.required_components = 'svc'\n");
$node->reload;
$node->safe_psql('postgres', q{SET ROLE app; SELECT health.report_pool('svc', 10, 0, 4, 10, '2.5s')});
ok(defined wait_for(q{SELECT status FROM health.checks WHERE name = 'component:svc'}, 'critical'),
	'a wait longer than its pool_max_wait: critical');
like($node->safe_psql('postgres', q{SELECT detail FROM health.checks WHERE name = 'component:svc'}),
	qr/its own pool: 10 in use, 0 idle, 4 waiting, max 10, the longest wait 2\.5 s, longer than its pool_max_wait \(1\.0 s\)/,
	'... and says why');
$metrics = (http_get($http, '/metrics'))[2];
like($metrics, qr/^pg_health_component_pool_connections\{component="svc",state="waiting"\} 4$/m,
	'/metrics has its pool');
like($metrics, qr/^pg_health_component_pool_longest_wait_seconds\{component="svc"\} 2\.5$/m, '... and its wait');
like($node->safe_psql('postgres', q{SELECT health.report()->'components'}),
	qr/"pool_waiting": 4/, 'the report has its pool');
$node->safe_psql('postgres', q{SET ROLE app; SELECT health.report_pool('svc', 3, 7, 0, 10)});
ok(defined wait_for(q{SELECT status FROM health.checks WHERE name = 'component:svc'}, 'ok'),
	'the queue gone: ok');

my %pool_bad = (
	q{SELECT health.report_pool('svc', -1, 0, 0, 10)} => [ qr/in_use must not be negative/, '22023' ],
	q{SELECT health.report_pool('svc', 8, 5, 0, 10)} => [ qr/8 in use and 5 idle do not fit a max_size of 10/, '22023' ],
	q{SELECT health.report_pool('svc', 0, 0, 0, 0)} => [ qr/do not fit a max_size of 0/, '22023' ],
	q{SELECT health.report_pool('svc', NULL, 0, 0, 10)} => [ qr/in_use must not be NULL/, '22004' ],
	q{SELECT health.report_pool('svc', 1, 0, 0, 10, '-1s')} => [ qr/max_wait must be between/, '22023' ],
	q{SELECT health.report_pool('nosuch', 1, 0, 0, 10)} => [ qr/component "nosuch" has not reported a state/, '42704' ],
	q{SET ROLE outsider; SELECT health.report_pool('svc', 1, 0, 0, 10)} => [ qr/permission denied to report for component "svc"/, '42501' ],
	q{SELECT health.configure_component('y', pooler => 'pgb', pool_application_name => 'y')} => [ qr/by application_name or at a pooler, not both/, '22023' ],
	q{SELECT health.configure_component('y', pooler_user => 'u')} => [ qr/pooler_database and pooler_user need a pooler/, '22023' ],
	q{SELECT health.configure_component('y', pooler => 'pgb', pooler_user => repeat('u', 64))} => [ qr/pooler_user must be 1 to 63 bytes long/, '42622' ],
);
for my $sql (sort keys %pool_bad)
{
	($ret, $out, $err) = $node->psql('postgres', "\\set VERBOSITY verbose\n$sql");
	like($err, $pool_bad{$sql}[0], "bad input refused: $sql");
	like($err, qr/ERROR:  $pool_bad{$sql}[1]/, "... with SQLSTATE $pool_bad{$sql}[1]");
}

# the same pooler worker all along: it never crashed nor left, and its memory is flat
is(join(',', worker_pids($node, 'pg_health poller')), $poller[0], 'the same pooler worker throughout');
# steady polling, one pooler answering and one refusing, after a warm-up
# that has taken every path once: the worker's memory stays where it is
$node->safe_psql('postgres', q{SELECT health.configure_pooler('refused', 'host=127.0.0.1 port=1 dbname=pgbouncer')});
sleep 3;
my $polls0 = $node->safe_psql('postgres', q{SELECT polls FROM health.poolers WHERE name = 'pgb'});
my $rss0 = rss_anon_kb($poller[0]);
sleep 10;
my $polls = $node->safe_psql('postgres', q{SELECT polls FROM health.poolers WHERE name = 'pgb'}) - $polls0;
my $rss1 = rss_anon_kb($poller[0]);
note("pooler worker RssAnon $rss0 kB -> $rss1 kB over $polls polls of pgb and of a refusing pooler");
cmp_ok($polls, '>=', 20, 'polled steadily meanwhile');
cmp_ok($rss1 - $rss0, '<=', 128, 'its memory is flat (RssAnon within 128 kB)');
ok(!grep({ /server process .* was terminated by signal/ } split /\n/, slurp_file($node->logfile)),
	'no worker crashed');

kill 'TERM', bouncer_pid();
$bouncer->finish;
$node->stop;
done_testing();
