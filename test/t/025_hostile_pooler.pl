# A pooler is outside input: test/helpers/fake_pooler.py logs in like
# PgBouncer and then answers hostilely (test/helpers/fake_pooler.py lists how).  Whatever it answers, the pooler
# worker neither crashes nor grows, the sampler and SQL never wait for it,
# nothing it says reaches the log, and what is shown is bounded, valid UTF-8.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use IO::Socket::INET;
use Time::HiRes qw(time usleep);
use File::Basename qw(dirname);
use PgHealthTest;

my $fake = dirname(__FILE__) . '/../helpers/fake_pooler.py';
my $node = PostgreSQL::Test::Cluster->new('hostile_pooler');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_health'
pg_health.sample_interval = 100ms
pg_health.pooler_interval = 200ms
pg_health.pooler_timeout = 500ms
pg_health.pooler_grace = 2s
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION pg_health');
my ($poller) = worker_pids($node, 'pg_health poller');
ok($poller, 'the pooler worker runs');

sub wait_for
{
	my ($sql, $want, $timeout) = @_;
	my $t0 = time;
	while (time - $t0 < ($timeout // 20))
	{
		return 1 if $node->safe_psql('postgres', $sql) eq $want;
		usleep(50_000);
	}
	return 0;
}

my %fakes;
for my $mode (qw(hostile flood drip garbage copy notify closer))
{
	my $port = PostgreSQL::Test::Cluster::get_free_port();
	$fakes{$mode} = IPC::Run::start([ '/usr/bin/python3', $fake, $port, $mode ], '>', '/dev/null', '2>', '/dev/null');
	for (1 .. 100) { last if IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port"); usleep(50_000); }
	$node->safe_psql('postgres',
		"SELECT health.configure_pooler('$mode', 'host=127.0.0.1 port=$port dbname=pgbouncer user=x sslmode=disable gssencmode=disable')");
}
my $rss0 = rss_anon_kb($poller);

ok(wait_for(q{SELECT state FROM health.poolers WHERE name = 'hostile'}, 'answering'),
	'a hostile pooler that still speaks the protocol is read');
is($node->safe_psql('postgres', q{
	SELECT pools || ' ' || (max_client_conn IS NOT NULL) || ' ' || client_connections || ' '
	       || (clients_waiting >= 0) || ' ' || (longest_wait >= '0')
	  FROM health.poolers WHERE name = 'hostile'}),
	'32 true 0 true true', 'its numbers are clamped: 32 pools kept, none negative, garbage read as 0');
is($node->safe_psql('postgres', q{
	SELECT count(*) FILTER (WHERE folded_pools > 0) || ' ' || max(octet_length(database)) || ' '
	       || max(octet_length(user_name)) || ' ' || bool_and(cl_active >= 0 AND cl_waiting >= 0)
	  FROM health.pooler_pools WHERE pooler = 'hostile'}),
	'1 63 63 true', 'its names are cut to 63 bytes, the rest of its 5,000 pools folded into one row');
like($node->safe_psql('postgres', q{SELECT version FROM health.poolers WHERE name = 'hostile'}),
	qr/^PgBouncer 1\.99 \?\?<script>v+$/, 'invalid bytes become "?": valid UTF-8 everywhere');
my $report = $node->safe_psql('postgres', q{SELECT health.report()->'poolers'});
ok(length($report) < 100_000, 'the report stays small (' . length($report) . ' bytes)');

ok(wait_for(q{SELECT detail LIKE '%timed out%' FROM health.checks WHERE name = 'pooler:flood'}, 't'),
	'rows without end: the poll times out');
ok(wait_for(q{SELECT detail LIKE '%timed out%' FROM health.checks WHERE name = 'pooler:drip'}, 't'),
	'an answer dripping a byte at a time: the poll times out');
ok(wait_for(q{SELECT status FROM health.checks WHERE name = 'pooler:garbage'}, 'critical'),
	'garbage instead of the protocol: critical');
like($node->safe_psql('postgres', q{SELECT error FROM health.poolers WHERE name = 'garbage'}),
	qr/could not connect: /, '... with libpq\'s reason');

ok(wait_for(q{SELECT status FROM health.checks WHERE name = 'pooler:copy'}, 'critical'),
	'a COPY instead of rows: critical');
like($node->safe_psql('postgres', q{SELECT error FROM health.poolers WHERE name = 'copy'}),
	qr/not a PgBouncer admin console: SHOW VERSION answered with PGRES_COPY_OUT/, '... saying so');
ok(wait_for(q{SELECT status FROM health.checks WHERE name = 'pooler:notify'}, 'critical'),
	'notifications from a pooler: critical');
like($node->safe_psql('postgres', q{SELECT error FROM health.poolers WHERE name = 'notify'}),
	qr/not a PgBouncer admin console: it sent a notification/, '... saying so (and they are freed, not kept)');

# a component whose pool may be among the 4,969 folded away: not known, not 0
$node->safe_psql('postgres', q{
	SELECT health.configure_component('c', pooler => 'hostile', pooler_database => 'db3',
	  pooler_user => 'nosuch', pool_min_connections => 1);
	SELECT health.set_component_state('c', 'ready');
});
ok(wait_for(q{SELECT pool_connections IS NULL FROM health.components WHERE name = 'c'}, 't'),
	'a component pool that may have been folded away is unknown, not 0');
like($node->safe_psql('postgres', q{SELECT detail FROM health.checks WHERE name = 'component:c'}),
	qr/its pool at pooler "hostile" \(database db3, user nosuch\) is not known/, '... and says so');

# a pooler that closes the kept connection after every poll: connected again, no failure
ok(wait_for(q{SELECT polls >= 5 FROM health.poolers WHERE name = 'closer'}, 't'), 'the closer is polled');
is($node->safe_psql('postgres', q{SELECT state || ' ' || failures FROM health.poolers WHERE name = 'closer'}),
	'answering 0', '... and a connection the pooler closed meanwhile is made again, not a failure');

# let the flood run through a few more polls, then look at the worker
my $gen0 = $node->safe_psql('postgres', 'SELECT generation FROM health.status');
my $t0 = time;
my $calls = 0;
while (time - $t0 < 5) { $node->safe_psql('postgres', 'SELECT health.ready()'); $calls++; }
cmp_ok($calls, '>', 10, "SQL answers meanwhile ($calls calls in 5 s)");
cmp_ok($node->safe_psql('postgres', 'SELECT generation FROM health.status') - $gen0, '>', 30,
	'the sampler samples meanwhile');
my $rss1 = rss_anon_kb($poller);
note("pooler worker RssAnon $rss0 kB -> $rss1 kB");
cmp_ok($rss1 - $rss0, '<', 4096, 'the flood costs the worker no memory (RssAnon within 4 MB)');
is(join(',', worker_pids($node, 'pg_health poller')), $poller, 'the same pooler worker: it never crashed');
my $log = slurp_file($node->logfile);
unlike($log, qr/hello from the pooler/, "the pooler's NOTICEs never reach the log");
unlike($log, qr/terminated by signal/, 'no process crashed');

$_->kill_kill for values %fakes;
$node->stop;
done_testing();
