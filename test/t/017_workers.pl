# Exactly one sampler, one names worker and one checker at any time,
# whatever is terminated, and no background-worker slot leaked: SIGTERM to
# the names worker and to the checker, five times each.  Then SIGKILL of a
# pg_health worker: PostgreSQL restarts every backend (a crash of any
# process attached to shared memory), and the time back to ready is
# measured and printed (docs/security.md cites it).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);
use PgHealthTest;

my $node = PostgreSQL::Test::Cluster->new('workers');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_health'
pg_health.sample_interval = 100ms
pg_health.database = 'postgres'
# pg_health's six (sampler, http, names, checker, poller, disk), the logical
# replication launcher, and two for a parallel query
max_worker_processes = 9
max_parallel_workers = 4
# as in production (the test harness turns it off)
restart_after_crash = on
});
$node->start;
$node->safe_psql('postgres', q{CREATE EXTENSION pg_health;
	CREATE TABLE big AS SELECT g FROM generate_series(1, 200000) g; ANALYZE big;});

sub q1 { my ($sql) = @_; return $node->safe_psql('postgres', $sql); }
sub pids_of { my ($type) = @_; return worker_pids($node, "pg_health $type"); }
sub count_of { my ($type) = @_; return scalar(my @p = pids_of($type)); }
# never 0: kill 0 would signal this test's own process group
sub pid_of
{
	my ($type) = @_;
	my @p = pids_of($type);
	BAIL_OUT("no pg_health $type process found by its title") unless @p;
	return $p[0];
}
# The workers every pg_health server has, each exactly once (polled: a
# restarted worker takes a few seconds).
sub one_of_each
{
	for (1 .. 600)
	{
		return 1 if count_of('sampler') == 1 && count_of('names') == 1 && count_of('checker') == 1
		  && count_of('disk') == 1;
		usleep(100_000);
	}
	diag(sprintf('sampler %d, names %d, checker %d, disk %d', count_of('sampler'), count_of('names'),
		count_of('checker'), count_of('disk')));
	return 0;
}
sub parallel_workers_launched
{
	my $plan = q1(q{SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0;
		SET min_parallel_table_scan_size = 0; SET max_parallel_workers_per_gather = 2;
		EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) SELECT count(*) FROM big});
	return $plan =~ /Workers Launched: (\d+)/ ? $1 : -1;
}

ok(one_of_each(), 'at start: one sampler, one names worker, one checker');
is(parallel_workers_launched(), 2, 'a parallel query gets its 2 workers');

for my $type ('names', 'checker', 'disk')
{
	for my $round (1 .. ($type eq 'disk' ? 2 : 5))
	{
		my $pid = pid_of($type);
		kill 'TERM', $pid;
		usleep(100_000) while kill(0, $pid);
		ok(one_of_each(), "SIGTERM $round to the $type worker: one of each again");
		isnt(pid_of($type), $pid, "... a new $type worker");
	}
}
# a while later: still exactly one of each (no orphan comes back)
usleep(3_000_000);
is(count_of('checker'), '1', 'three seconds later: still one checker');
is(count_of('names'), '1', '... one names worker');
is(count_of('sampler'), '1', '... one sampler');
is(count_of('disk'), '1', '... one disk worker');
is(parallel_workers_launched(), 2, 'no background-worker slot leaked: the parallel query still gets 2');
my $log = slurp_file($node->logfile);
unlike($log, qr/no background worker slot free/, 'never "no background worker slot free"');

# SIGKILL of the sampler: the postmaster treats it as a crash and restarts
# every process; measure the time until health.ready() says true again.
my $sampler = pid_of('sampler');
my $log_offset = -s $node->logfile;
my $t0 = time;
kill 'KILL', $sampler;
ok($node->wait_for_log(qr/all server processes terminated; reinitializing/, $log_offset),
	'SIGKILL of the sampler: a crash restart of the whole server');
my $back = 0;
while (time - $t0 < 60)
{
	# in eval: a psql that exits before reading its query (the server in
	# recovery mode) is a broken pipe, which would end the test file
	my ($ret, $out) = eval { $node->psql('postgres', 'SELECT health.ready()') };
	if (defined $ret && $ret == 0 && $out eq 't') { $back = time - $t0; last; }
	usleep(20_000);
}
ok($back > 0, '... and it is ready again');
diag(sprintf('SIGKILL of the sampler: ready again after %.2f s', $back));
ok(one_of_each(), 'after the crash restart: one of each');

done_testing();
