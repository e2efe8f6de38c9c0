# health.refresh() in a loop cannot make the sampler spin nor flush the
# history (issue 26): with a 1 s interval, 20 pg_monitor sessions calling it
# back to back make at most two samples per interval, costing the sampler
# under 5 % of a core (1.1: 54 %), and the history gains one entry
# per interval as it does idle; every call still gets its sample, in time.
# A lone call after a quiet spell is answered at once by a sample that
# started after it, and one right after another within an interval.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use POSIX ();
use Time::HiRes qw(time usleep);
use PgHealthTest;

my $sessions = 20;
my $idle_secs = 10;
my $loop_secs = 15;
my $slack_ticks = 3;

my $node = PostgreSQL::Test::Cluster->new('refresh');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_health'
pg_health.sample_interval = 1s
max_connections = 40
});
$node->start;
sub q1 { return $node->safe_psql('postgres', $_[0]); }

# The callers run as a pg_monitor member, as issue 26's did.  Each loop
# counts its calls and those that returned false.
q1(q{
	CREATE EXTENSION pg_health;
	CREATE ROLE mon LOGIN IN ROLE pg_monitor;
	CREATE FUNCTION public.refresh_loop(secs float8, OUT calls int, OUT failed int)
	LANGUAGE plpgsql AS $$
	DECLARE stop timestamptz := clock_timestamp() + secs * interval '1 s';
	BEGIN
	  calls := 0;
	  failed := 0;
	  WHILE clock_timestamp() < stop LOOP
	    calls := calls + 1;
	    IF NOT health.refresh() THEN
	      failed := failed + 1;
	    END IF;
	  END LOOP;
	END $$;
	-- one call: whether it was answered, by a sample that started after it,
	-- and how long it waited
	CREATE FUNCTION public.timed_refresh(OUT ok boolean, OUT fresh boolean, OUT waited float8)
	LANGUAGE plpgsql AS $$
	DECLARE t0 timestamptz := clock_timestamp();
	BEGIN
	  ok := health.refresh();
	  waited := extract(epoch FROM clock_timestamp() - t0);
	  SELECT sampled_at >= t0 INTO fresh FROM health.status;
	END $$;
});
ok($node->poll_query_until('postgres', 'SELECT health.ready()'), 'ready');

my @sampler = worker_pids($node, 'pg_health sampler');
is(scalar(@sampler), 1, 'one sampler, found by its title');
my $pid = $sampler[0];
is(q1('SELECT worker_pid FROM health.status'), $pid, '... the one health.status names');

# The sampler's CPU so far, in clock ticks (utime + stime, fields 14 and 15
# of /proc/<pid>/stat; the command name before them may hold spaces).
sub ticks
{
	my $stat = slurp_file("/proc/$pid/stat");
	my ($rest) = $stat =~ /\)\s+(.*)$/s or die "unreadable /proc/$pid/stat";
	my @f = split ' ', $rest;
	return $f[11] + $f[12];
}
my $hz = POSIX::sysconf(POSIX::_SC_CLK_TCK()) || 100;
# The same in nanoseconds where the kernel keeps it (/proc/<pid>/schedstat),
# for the figures printed: a tick is 10 ms, longer than many samples.
sub run_ns
{
	my $s = eval { slurp_file("/proc/$pid/schedstat") } // return 0;
	return $s =~ /^(\d+)/ ? $1 : 0;
}
# What a window of the test saw: sampler ticks, samples, history entries,
# and the shortest and longest gap between those entries.
sub window
{
	my ($g0, $g1) = @_;
	return split /\|/, q1(qq{
		SELECT count(*), coalesce(min(gap), 0), coalesce(max(gap), 0) FROM (
		  SELECT extract(epoch FROM sampled_at - lag(sampled_at) OVER (ORDER BY generation)) AS gap
		  FROM health.history WHERE generation > $g0 AND generation <= $g1) h});
}
sub generation { return q1('SELECT generation FROM health.status'); }

# --- idle -----------------------------------------------------------------
sleep 2;	# past the start: the names worker's first passes, the first samples
my ($g0, $c0, $n0, $t0) = (generation(), ticks(), run_ns(), time);
sleep $idle_secs;
my ($g1, $c1, $n1, $t1) = (generation(), ticks(), run_ns(), time);
my $idle_time = $t1 - $t0;
my $idle_ticks = $c1 - $c0;
my $idle_ns = $n1 - $n0;
my ($idle_hist) = window($g0, $g1);
note(sprintf('idle %.1f s: sampler %d ticks, %.1f ms of CPU (%.3f%% of a core), %d samples, %d history entries',
	$idle_time, $idle_ticks, ($n1 - $n0) / 1e6, ($n1 - $n0) / 1e7 / $idle_time, $g1 - $g0, $idle_hist));

# --- 20 sessions refreshing back to back -----------------------------------
my $psql = $node->installed_command('psql');
my @runs;
($g0, $c0, $n0, $t0) = (generation(), ticks(), run_ns(), time);
for my $i (1 .. $sessions)
{
	my ($out, $err) = ('', '');
	my $h = IPC::Run::start(
		[ $psql, '-X', '-A', '-t', '-q', '-d', $node->connstr('postgres'), '-U', 'mon',
		  '-c', "SELECT calls || ' ' || failed FROM public.refresh_loop($loop_secs)" ],
		'<', \undef, '>', \$out, '2>', \$err,
		IPC::Run::timeout(3 * $loop_secs + 60));
	push @runs, [ $h, \$out, \$err ];
}
my ($calls, $failed, $clean) = (0, 0, 1);
for my $r (@runs)
{
	my ($h, $out, $err) = @$r;
	$h->finish;
	if ($$out =~ /^(\d+) (\d+)$/m)
	{
		$calls += $1;
		$failed += $2;
	}
	else
	{
		$clean = 0;
		diag("a refresh loop gave no count: $$out $$err");
	}
	$clean = 0 if $$err =~ /\S/;
	diag("a refresh loop said: $$err") if $$err =~ /\S/;
}
($g1, $c1, $n1, $t1) = (generation(), ticks(), run_ns(), time);
my $loop_time = $t1 - $t0;
my $loop_ticks = $c1 - $c0;
my $samples = $g1 - $g0;
my ($hist, $min_gap, $max_gap) = window($g0, $g1);
note(sprintf('%d sessions refreshing for %.1f s: %d calls (%.0f/s), sampler %d ticks, %.1f ms of CPU '
	  . '(%.3f%% of a core), %d samples (%.2f/s), %d history entries (gaps %.3f to %.3f s)',
	$sessions, $loop_time, $calls, $calls / $loop_time, $loop_ticks, ($n1 - $n0) / 1e6,
	($n1 - $n0) / 1e7 / $loop_time, $samples, $samples / $loop_time, $hist, $min_gap, $max_gap));

ok($clean, "each of the $sessions loops ran to its end, without a warning");
cmp_ok($calls, '>=', $sessions * $loop_secs, "... and called refresh() again and again ($calls calls)");
is($failed, 0, '... every call returned true: no caller timed out because of the limit');
is(scalar(my @s = worker_pids($node, 'pg_health sampler')), 1, '... one sampler throughout');
is(q1('SELECT worker_pid FROM health.status'), $pid, '... the same one');

# The sampler's CPU under the loop: what 1.1 did was spin (54 % of a core);
# 1.2 takes at most two samples per interval (asserted next), each waking the
# callers it answers.  Bounded in nanoseconds where the kernel counts them
# (clock ticks of 10 ms are coarser than a sample), else in ticks: under 5 %
# of a core.  The ratio to idle is printed for the notes, not asserted: a
# sample now also probes accept and the serving checks, and two of them per
# interval against one make any fixed multiple of a 0-or-1-tick idle figure
# a coin toss (issue 28's CI run failed on exactly that).
my $loop_pct = $n1 > 0 && $n0 > 0
  ? ($n1 - $n0) / 1e7 / $loop_time
  : 100 * ($loop_ticks - $slack_ticks) / $hz / $loop_time;
cmp_ok($loop_pct, '<', 5,
	sprintf('sampler CPU under the loop under 5%% of a core (%.2f%%; %d ticks, idle %d; %.1f times idle in ns)',
		$loop_pct, $loop_ticks, $idle_ticks,
		($n1 - $n0) / (($idle_ns || 1) * $loop_time / $idle_time)));
cmp_ok($samples, '<=', 2 * $loop_time + 2,
	sprintf('at most two samples per interval (%d in %.1f s)', $samples, $loop_time));
cmp_ok($hist, '<=', $loop_time + 2,
	"one history entry per interval, not one per refresh ($hist in the loop's "
	  . sprintf('%.1f s)', $loop_time));
cmp_ok($hist, '>=', $loop_time - 3, '... and no fewer: the regular samples kept coming');
cmp_ok($min_gap, '>=', 0.9, "... an interval apart: refresh-driven samples do not shift them (shortest gap $min_gap s)");

# --- a lone call after a quiet spell; then one right after it --------------
sleep 2;	# more than an interval since the loop's last refresh-driven sample
my ($ok, $fresh, $waited) = split /\|/, q1('SELECT * FROM public.timed_refresh()');
is("$ok $fresh", 't t', 'a lone refresh() after quiet: true, and sees a sample that started after the call');
cmp_ok($waited, '<', 1, "... promptly ($waited s)");
($ok, $fresh, $waited) = split /\|/, q1('SELECT * FROM public.timed_refresh()');
is("$ok $fresh", 't t', 'a second one right after it: true, a sample that started after the call');
cmp_ok($waited, '<', 1.5, "... within about an interval ($waited s)");

$node->stop;
done_testing();
