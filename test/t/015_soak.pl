# Soak: memory stays flat under sustained use.  A preloaded server with the
# HTTP endpoint on, the checker running a custom check every 100 ms in
# pg_health.database, a small events ring kept full by a stream of
# transitions (a component flipping ready/failed, a check flipping
# ok/warning), takes
#   5,000 requests to each HTTP endpoint (a new connection per request),
#   5,000 calls of each SQL function and selects from each health.* view, all
#     in ONE session, each call a statement of its own,
#   2,000 connections opened and closed,
# and the anonymous resident memory (RssAnon) of the sampler, the HTTP
# worker, the checker, the names worker and that one session must grow by
# less than 2 MB between the end of a warm-up (a tenth of the work) and the
# end; the bytes used in the memory contexts of every worker (the sampler,
# the HTTP worker, the checker, the names worker; each logs them when
# health.log_worker_memory_contexts() asks, since
# pg_log_backend_memory_contexts() reaches only the two with a database
# connection) by less than 2 kB, and what each reports in health.workers by
# less than 64 kB.  The figures are printed.  bench/soak.sh runs the same workload for
# 30 minutes.
#
# Bounded: about a minute on an idle 2-core machine (PH_SOAK_SCALE=0.2 runs
# a fifth of it).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use File::Basename qw(dirname);
use Time::HiRes qw(time usleep);
use PgHealthTest;

my $t_start = time;
my $scale = $ENV{PH_SOAK_SCALE} // 1;
my $n_http = int(5000 * $scale);	# per endpoint
my $n_sql = int(5000 * $scale);	# per function and per view
my $n_conn = int(2000 * $scale);
my $limit_kb = 2048;
my @paths = qw(/live /ready /startup /health /metrics /primary /replica /);

my $tmp = PostgreSQL::Test::Utils::tempdir();
my $probe = "$tmp/http_probe";
system('cc', '-O2', '-o', $probe, dirname(__FILE__) . '/../../bench/http_probe.c', '-lpthread') == 0
  or die 'cannot build bench/http_probe.c';

my $hport = PostgreSQL::Test::Cluster::get_free_port();
my $node = PostgreSQL::Test::Cluster->new('soak');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_health'
pg_health.sample_interval = 100ms
pg_health.http_port = $hport
pg_health.database = 'soak'
pg_health.events_size = 20
pg_health.history_size = 60
max_connections = 40
log_min_messages = warning
});
$node->start;
$node->safe_psql('postgres', q{
	CREATE DATABASE soak;
	CREATE ROLE churn_a LOGIN;
	CREATE ROLE churn_b LOGIN;
});
$node->safe_psql('soak', q{
	CREATE EXTENSION pg_health;
	-- a gate that runs every 100 ms, and one that flips between ok and
	-- warning every half second: transitions, so events, all along
	SELECT health.register_check('steady', 'SELECT true', run_interval => '100ms');
	SELECT health.register_check('flip', 'SELECT floor(extract(epoch FROM clock_timestamp()) * 2)::bigint % 2 = 0',
	                             severity => 'warning', run_interval => '100ms');
	SELECT health.configure_component('flipper');
});
sub q1 { return $node->safe_psql('soak', $_[0]); }

ok($node->poll_query_until('soak', q{SELECT health.refresh() AND count(*) = 2 FROM health.checks
                                     WHERE name LIKE 'custom:%' AND detail NOT LIKE 'has not run yet%'}),
	'the checker runs the custom checks');

# A component flipping ready/failed every 0.3 s, for at most 5 minutes (it
# is stopped at the end).
my ($flip_out, $flip_err) = ('', '');
my $flipper = IPC::Run::start(
	[ $node->installed_command('psql'), '-XAtq', '-d', $node->connstr('soak') . ' application_name=soak_flipper', '-c', q{
		DO $$
		BEGIN
		  FOR i IN 1 .. 1000 LOOP
		    PERFORM health.set_component_state('flipper', CASE WHEN i % 2 = 0 THEN 'ready' ELSE 'failed' END,
		                                       'flip ' || i);
		    PERFORM pg_sleep(0.3);
		  END LOOP;
		END $$} ],
	'>', \$flip_out, '2>', \$flip_err, IPC::Run::timeout(600));
ok($node->poll_query_until('soak', 'SELECT count(*) = 20 FROM health.events'), 'the events ring is full');

# The processes whose memory is watched.
sub pid_of_title { my ($title) = @_; return (worker_pids($node, $title))[0]; }
sub pid_of_type
{
	my ($type) = @_;
	my $pid = q1("SELECT pid FROM pg_stat_activity WHERE backend_type = '$type'");
	return $pid ne '' ? $pid : pid_of_title($type);
}

my $session = $node->background_psql('soak', timeout => 600);
my %pid = (
	sampler => q1('SELECT worker_pid FROM health.status') || pid_of_title('pg_health sampler'),
	checker => pid_of_type('pg_health checker'),
	names => pid_of_type('pg_health names'),
	session => $session->query_safe('SELECT pg_backend_pid()'));
$pid{http} = pid_of_title('pg_health http');
$pid{disk} = pid_of_title('pg_health disk');
my @procs = qw(http sampler checker names disk session);
like($pid{$_}, qr/^\d+$/, "$_: pid $pid{$_}") for @procs;

# One SQL round: every function and every view of the schema, a statement
# each, output thrown away; then psql says "round" (to count them).
my @views = split /\n/, q1(q{SELECT format('%I.%I', schemaname, viewname) FROM pg_views
                              WHERE schemaname = 'health' ORDER BY viewname});
cmp_ok(scalar(@views), '>=', 9, 'views to select from: ' . join(', ', @views));
my $round = join('', map { "SELECT health.$_;\n" } qw{live() ready() started() report() checks()})
  . join('', map { "SELECT * FROM $_;\n" } @views) . "\\echo round\n";
my $sql_file = "$tmp/round.sql";
sub sql_rounds
{
	my ($n) = @_;
	open my $fh, '>', $sql_file or die $!;
	print $fh $round x $n;
	close $fh;
	my $out = $session->query_safe("\\o /dev/null\n\\i $sql_file\n\\o");
	return scalar(() = $out =~ /^round$/mg);
}

# HTTP: every path in turn, $n requests each from two concurrent clients;
# after each path, the sampler's RssAnon (to tell which path grows it).
sub start_http
{
	my ($n, $out) = @_;
	my $rss = "\$(awk '/^RssAnon:/ { print \$2 }' /proc/$pid{http}/status)";
	my $cmd = "echo 'path=start' http_rss=$rss ; "
	  . join(' ; ', map { "echo 'path=$_' \$($probe -p $hport -P $_ -c 2 -n $n) http_rss=$rss" } @paths);
	return IPC::Run::start([ 'sh', '-c', $cmd ], '>', $out, '2>&1', IPC::Run::timeout(300));
}
# Connections: $n, half as churn_a to soak, half as churn_b to postgres;
# pgbench -C opens a new connection for every transaction.
my $select1 = "$tmp/select1.sql";
PostgreSQL::Test::Utils::append_to_file($select1, "SELECT 1;\n");
sub start_churn
{
	my ($n, $out) = @_;
	my @h;
	for my $who ([ 'churn_a', 'soak' ], [ 'churn_b', 'postgres' ])
	{
		push @h, IPC::Run::start(
			[ $node->installed_command('pgbench'), '-n', '-C', '-c', '1', '-t', int($n / 2), '-f', $select1,
			  '-h', $node->host, '-p', $node->port, '-U', $who->[0], $who->[1] ],
			'>>', $out, '2>>', $out, IPC::Run::timeout(300));
	}
	return @h;
}

# One phase: HTTP, churn and the SQL session at once.
my (%http_done, $conn_done, $conn_expected, $sql_done, $http_by_path);
sub phase
{
	my ($name, $http_n, $sql_n, $conn_n) = @_;
	my ($http_out, $churn_out) = ('', '');
	my $t0 = time;
	my $http = start_http($http_n, \$http_out);
	my @churn = start_churn($conn_n, \$churn_out);
	$sql_done += sql_rounds($sql_n);
	my $t_sql = time - $t0;
	$http->finish;
	$_->finish for @churn;
	my ($last_rss, @by_path);
	for my $line (split /\n/, $http_out)
	{
		my ($path) = $line =~ /path=(\S+)/ or next;
		my ($rss) = $line =~ /http_rss=(\d+)/;
		push @by_path, sprintf('%s %+d kB', $path, $rss - $last_rss) if defined $rss && defined $last_rss;
		$last_rss = $rss;
		my ($req, $ok, $errors) = $line =~ /requests=(\d+) ok=(\d+) .* errors=(\d+)/ or next;
		$http_done{$path} += $ok;
		note("$name: $line");
	}
	note("$name: the HTTP worker's RssAnon while serving each path: " . join(', ', @by_path));
	$http_by_path = join(', ', @by_path);
	my @done = $churn_out =~ /number of transactions actually processed: (\d+)/g;
	$conn_done += $_ for @done;
	$conn_expected += 2 * int($conn_n / 2);
	note("$name: pgbench: $churn_out") unless @done == 2;
	note(sprintf('%s: %.1f s (the SQL session %.1f s)', $name, time - $t0, $t_sql));
}

sub measure { return { map { $_ => rss_anon_kb($pid{$_}) } @procs }; }

# Bytes in use in all memory contexts of a worker, from what it logs when
# health.log_worker_memory_contexts() asks (issue 26: the HTTP worker and the
# sampler have no PGPROC in the proc array, so pg_log_backend_memory_contexts
# cannot reach them): finer than RssAnon, which the first growth of a malloc
# arena hides.
my @workers = qw(sampler http checker names disk);
sub contexts_used
{
	my ($w) = @_;
	my $p = $pid{$w};
	my $offset = -s $node->logfile;
	is(q1("SELECT health.log_worker_memory_contexts('$w')"), 't', "the $w worker is asked to log its memory contexts");
	for (1 .. 100)
	{
		my $log = substr(slurp_file($node->logfile), $offset);
		return $1 if $log =~ /\[$p\] LOG:  Grand total: \d+ bytes in \d+ blocks; \d+ free \(\d+ chunks\); (\d+) used/;
		usleep(100_000);
	}
	return undef;
}

# Warm-up: a tenth of everything (caches, buffers, the first of every path).
phase('warm-up', int($n_http / 10), int($n_sql / 10), int($n_conn / 10));
usleep(500_000);
my $before = measure();
my %used_before = map { $_ => contexts_used($_) } @workers;
my %reported_before = map { split /\|/ } split /\n/, q1('SELECT worker, context_bytes FROM health.workers');
my $t_measured = time;
phase('soak', $n_http - int($n_http / 10), $n_sql - int($n_sql / 10), $n_conn - int($n_conn / 10));
# let the workers finish what is in flight: a few samples and checker loops
usleep(500_000);
my $after = measure();
my %used_after = map { $_ => contexts_used($_) } @workers;
my %reported_after = map { split /\|/ } split /\n/, q1('SELECT worker, context_bytes FROM health.workers');
is(q1(q{SELECT string_agg(worker || '=' || pid, ' ' ORDER BY worker) FROM health.workers WHERE worker <> 'poller'}),
	join(' ', map { "$_=$pid{$_}" } sort @workers), 'health.workers names each worker with its pid');
my $seconds = time - $t_measured;

# The work was done.
for my $path (@paths)
{
	is($http_done{$path} // 0, $n_http, "GET $path: $n_http answers, each on its own connection");
}
is($conn_done // 0, $conn_expected, "$conn_expected connections opened and closed");
is($sql_done, $n_sql, "$n_sql rounds of " . (5 + @views) . ' statements in one session');
cmp_ok(q1('SELECT count(*) FROM health.events'), '==', 20, 'the events ring stayed full');
like(q1(q{SELECT detail FROM health.components WHERE name = 'flipper'}), qr/^flip \d+$/,
	'the component kept flipping');

# The same processes all along: a restart would hide a leak.
is(q1('SELECT worker_pid FROM health.status') || pid_of_title('pg_health sampler'), $pid{sampler},
	'the sampler did not restart');
is(pid_of_type('pg_health checker'), $pid{checker}, 'the checker did not restart');
is(pid_of_type('pg_health names'), $pid{names}, 'the names worker did not restart');
is(pid_of_title('pg_health http'), $pid{http}, 'the HTTP worker did not restart');
is(pid_of_title('pg_health disk'), $pid{disk}, 'the disk worker did not restart');

# Flat memory.
diag(sprintf('RssAnon after the warm-up and %.0f s later, at the end (%d requests per path, %d SQL rounds, %d connections):',
		$seconds, $n_http, $n_sql, $n_conn));
for my $p (@procs)
{
	my ($b, $a) = ($before->{$p}, $after->{$p});
	diag(sprintf('  %-8s pid %-7s %8s kB -> %8s kB  %9s kB', $p, $pid{$p}, $b // '?', $a // '?',
			defined $a && defined $b ? sprintf('%+d', $a - $b) : '?'));
}
diag("  the HTTP worker's growth while each path was served: $http_by_path");
for my $p (@procs)
{
	my ($b, $a) = ($before->{$p}, $after->{$p});
	ok(defined $b && defined $a && $a - $b < $limit_kb,
		sprintf('%s: RssAnon grew by less than 2 MB (%s kB -> %s kB: %+d kB)', $p, $b // '?', $a // '?',
			($a // 0) - ($b // 0)));
}

# Memory contexts: what a worker's loop leaves allocated shows here byte
# for byte (the checker once kept each check result's detail, 32 bytes a run).
for my $p (@workers)
{
	my ($b, $a) = ($used_before{$p}, $used_after{$p});
	ok(defined $b && defined $a && $a - $b < 2048,
		sprintf('%s: its memory contexts hold less than 2 kB more (%s -> %s bytes used: %+d)',
			$p, $b // '?', $a // '?', ($a // 0) - ($b // 0)));
	($b, $a) = ($reported_before{$p}, $reported_after{$p});
	ok(defined $b && defined $a && $b > 0 && $a - $b < 65536,
		sprintf('%s: health.workers reports less than 64 kB more in its contexts (%s -> %s bytes: %+d)',
			$p, $b // '?', $a // '?', ($a // 0) - ($b // 0)));
}

$node->safe_psql('soak', q{SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                           WHERE application_name = 'soak_flipper'});
$flipper->finish;
$session->quit;
$node->stop;
note(sprintf('the soak test took %.0f s', time - $t_start));
done_testing();
