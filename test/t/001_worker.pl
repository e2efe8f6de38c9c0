# The sampler worker's life: start, SIGTERM and restart, reload, crash
# restart of the whole cluster, and a prompt fast shutdown.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);

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
like(slurp_file($node->logfile), qr/LOG:  pg_health: status changed from \w+ to ready/,
	'the transition to ready is in the server log');

my $pid = $node->safe_psql('postgres', 'SELECT worker_pid FROM health.status');
like($pid, qr/^\d+$/, 'worker pid reported');

# The sampler has no database connection, so it is not a backend.
my ($ret, $out, $err) = $node->psql('postgres', "SELECT pg_terminate_backend($pid)");
is($out, 'f', 'pg_terminate_backend() does not reach the sampler');
like($err, qr/PID $pid is not a PostgreSQL \w+ process/, '... and says why');
ok(kill(0, $pid), 'the sampler still runs');

# SIGTERM: readers see "unknown" at once, then the postmaster restarts it.
kill 'TERM', $pid;
ok($node->poll_query_until('postgres',
		"SELECT status = 'unknown' AND NOT ready AND NOT live AND NOT health.live()
		        AND NOT health.ready() FROM health.status"),
	'after SIGTERM: status unknown, not live, not ready');
like($node->safe_psql('postgres', "SELECT status || ': ' || detail FROM health.checks WHERE name = 'sampler'"),
	qr/^critical: the pg_health worker is not running/, 'the sampler check says why');
is($node->safe_psql('postgres', "SELECT count(*) FROM health.checks WHERE name <> 'sampler' AND status <> 'unknown'"),
	'0', 'checks of a stale sample are unknown');
ok($node->poll_query_until('postgres', "SELECT live AND worker_pid <> $pid FROM health.status"),
	'a new sampler takes over');
ok($node->poll_query_until('postgres', 'SELECT health.ready()'), 'ready again');
is($node->safe_psql('postgres',
		"SELECT count(*) > 0 FROM health.events WHERE old_status = 'unknown' AND generation > 1"),
	't', 'the way back from unknown is an event');

# Reload applies a new interval without restart.
sub samples_in
{
	my ($seconds) = @_;
	my $g1 = $node->safe_psql('postgres', 'SELECT generation FROM health.status');
	sleep($seconds);
	my $g2 = $node->safe_psql('postgres', 'SELECT generation FROM health.status');
	return $g2 - $g1;
}
$node->safe_psql('postgres', "ALTER SYSTEM SET pg_health.sample_interval = '1s'");
$node->reload;
sleep(1.5);
my $slow = samples_in(3);
cmp_ok($slow, '>=', 2, "1 s interval after reload: at least 2 samples in 3 s ($slow)");
cmp_ok($slow, '<=', 4, "1 s interval after reload: at most 4 samples in 3 s ($slow)");
$node->safe_psql('postgres', "ALTER SYSTEM SET pg_health.sample_interval = '100ms'");
$node->reload;
sleep(1.5);
my $fast = samples_in(2);
cmp_ok($fast, '>=', 12, "100 ms interval after reload: at least 12 samples in 2 s ($fast)");

# Crash restart: a backend killed with SIGKILL makes the postmaster rebuild
# shared memory; health.status shows it.
my $before = $node->safe_psql('postgres', 'SELECT shmem_initialized_at FROM health.status');
my $victim = $node->background_psql('postgres');
my $victim_pid = $victim->query_safe('SELECT pg_backend_pid()');
kill 'KILL', $victim_pid;
eval { $victim->quit; };
ok($node->poll_query_until('postgres',
		"SELECT shmem_initialized_at > '$before' AND shmem_initialized_at > server_started_at
		        AND health.ready() FROM health.status"),
	'after a crash restart: shared memory rebuilt, reported, and ready again');
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
