# The sampler worker's life: start, SIGTERM and restart, reload, crash
# restart of the whole cluster, and a prompt fast shutdown.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);

my $node = PostgreSQL::Test::Cluster->new('worker');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_health'
pg_health.sample_interval = 100ms
pg_health.stale_after = 1s
restart_after_crash = on
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION pg_health');

ok($node->poll_query_until('postgres', 'SELECT health.ready() AND health.live() AND health.started()'),
	'ready, live and started after start');
ok($node->wait_for_log(qr/LOG:  pg_health: status changed from \w+ to ready/),
	'the transition to ready is in the server log');

my $pid = $node->safe_psql('postgres', 'SELECT worker_pid FROM health.status');
like($pid, qr/^\d+$/, 'worker pid reported');

# The sampler has no database connection, so it is not a backend.
my ($ret, $out, $err) = $node->psql('postgres', "SELECT pg_terminate_backend($pid)");
is($out, 'f', 'pg_terminate_backend() does not reach the sampler');
like($err, qr/PID $pid is not a PostgreSQL \w+ process/, '... and says why');
ok(kill(0, $pid), 'the sampler still runs');

# SIGTERM: readers see "unknown" at once, then the postmaster restarts it
# (after 2 s).  One query asks for all of it, so a restart cannot come
# between the parts.
kill 'TERM', $pid;
ok($node->poll_query_until('postgres',
		"SELECT s.status = 'unknown' AND NOT s.ready AND NOT s.live AND NOT health.live()
		        AND NOT health.ready()
		        AND (SELECT status || ': ' || detail FROM health.checks WHERE name = 'sampler')
		            LIKE 'critical: the pg_health worker is not running%'
		        AND (SELECT count(*) FROM health.checks WHERE name <> 'sampler' AND status <> 'unknown') = 0
		 FROM health.status s"),
	'after SIGTERM: status unknown, not live, not ready; the sampler check says why, '
	  . 'and the checks of the stale sample are unknown');
ok($node->poll_query_until('postgres', "SELECT live AND worker_pid <> $pid FROM health.status"),
	'a new sampler takes over');
ok($node->poll_query_until('postgres', 'SELECT health.ready()'), 'ready again');
is($node->safe_psql('postgres',
		"SELECT count(*) > 0 FROM health.events WHERE old_status = 'unknown' AND generation > 1"),
	't', 'the way back from unknown is an event');

# Reload applies a new interval without restart.  Judged from the server's
# own sample times (the median gap of the last five), not from sleeps of the
# test's: a stalled VM makes the sampler skip a beat, it does not make up for
# it, and a slow psql stretches any window the test measures.
my $median_gap = q{
	SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY gap)::numeric, 3)
	FROM (SELECT extract(epoch FROM sampled_at - lag(sampled_at) OVER (ORDER BY generation)) AS gap
	      FROM (SELECT sampled_at, generation FROM health.history
	            ORDER BY generation DESC LIMIT 6) h) g
	WHERE gap IS NOT NULL};
sub interval_applies
{
	my ($secs) = @_;
	$node->poll_query_until('postgres', "SELECT ($median_gap) BETWEEN 0.8 * $secs AND 1.25 * $secs");
	return $node->safe_psql('postgres', $median_gap);
}
$node->safe_psql('postgres', "ALTER SYSTEM SET pg_health.sample_interval = '1s'");
$node->reload;
my $slow = interval_applies(1);
ok($slow >= 0.8 && $slow <= 1.25, "1 s interval after reload: samples 1 s apart ($slow s, the median of five gaps)");
$node->safe_psql('postgres', "ALTER SYSTEM SET pg_health.sample_interval = '100ms'");
$node->reload;
my $fast = interval_applies(0.1);
ok($fast >= 0.08 && $fast <= 0.125, "100 ms interval after reload: samples 0.1 s apart ($fast s)");

# Crash restart: a backend killed with SIGKILL makes the postmaster rebuild
# shared memory; health.status shows it.
my $before = $node->safe_psql('postgres', 'SELECT shmem_initialized_at FROM health.status');
my $victim = $node->background_psql('postgres');
my $victim_pid = $victim->query_safe('SELECT pg_backend_pid()');
kill 'KILL', $victim_pid;
eval { $victim->quit; };
# Asked until true.  Not with poll_query_until: a psql started while the
# server is in recovery mode exits before reading its query, and the broken
# pipe then ends the whole test file (PostgreSQL 15's library).
my $rebuilt = 0;
my $deadline = time + 180;
while (time < $deadline)
{
	my ($ret, $out) = eval {
		$node->psql('postgres',
			"SELECT shmem_initialized_at > '$before' AND shmem_initialized_at > server_started_at
			        AND health.ready() FROM health.status");
	};
	if (defined $ret && $ret == 0 && $out eq 't') { $rebuilt = 1; last; }
	usleep(100_000);
}
ok($rebuilt, 'after a crash restart: shared memory rebuilt, reported, and ready again');
like(slurp_file($node->logfile), qr/all server processes terminated; reinitializing/,
	'the server did crash-restart');
is($node->safe_psql('postgres', 'SELECT old_status FROM health.events ORDER BY generation LIMIT 1'),
	'unknown', 'events start afresh after the crash restart');

# Fast shutdown is not held up by the worker.
my $t0 = time;
$node->stop('fast');
my $took = time - $t0;
cmp_ok($took, '<', 10, sprintf('pg_ctl stop -m fast completes promptly (%.2f s)', $took));

done_testing();
