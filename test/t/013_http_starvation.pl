# The HTTP endpoint under clients that hold places cheaply: for 10 s, 64
# clients that send one byte and reconnect once answered, and 100 slowloris
# clients (a byte every 200-400 ms, never a whole request, reconnecting when
# dropped), while /live and /ready are probed every 50 ms.  The probes must
# get their true verdict (at least 99%), each within 100 ms, and sampling
# must go on.  Then the sampler's memory: 5,000 requests to each endpoint
# leave its RssAnon within 2 MB of what it was after a warm-up.  And query
# arguments out of range get a 400 naming them.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Socket qw(PF_INET SOCK_STREAM SOL_SOCKET SO_ERROR pack_sockaddr_in inet_aton);
use Fcntl qw(F_GETFL F_SETFL O_NONBLOCK);
use Errno qw(EINPROGRESS EAGAIN EWOULDBLOCK EINTR);
use IO::Socket::INET;
use IO::Select;
use JSON::PP;
use Time::HiRes qw(time usleep);
use POSIX ();
use File::Basename qw(dirname);
use PgHealthTest;

my $flood_secs = 10;
my $interval_ms = 100;

my $probe_c = dirname(__FILE__) . '/../../bench/http_probe.c';
my $tmp = PostgreSQL::Test::Utils::tempdir();
my $probe = "$tmp/http_probe";
system('cc', '-O2', '-o', $probe, $probe_c, '-lpthread') == 0 or die "cannot build $probe_c";

my $hport = PostgreSQL::Test::Cluster::get_free_port();
my $node = PostgreSQL::Test::Cluster->new('starve');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_health'
pg_health.sample_interval = ${interval_ms}ms
pg_health.http_port = $hport
# the defaults, written out: what the flood is sized against
pg_health.http_max_clients = 64
pg_health.http_client_timeout = 2s
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION pg_health');
$node->poll_query_until('postgres', 'SELECT health.ready()');
is((poll_http($hport, '/ready', 200))[0], 200, 'the endpoint answers /ready 200 before the flood');
my $pid = $node->safe_psql('postgres', 'SELECT worker_pid FROM health.status');

# The attackers, in one child process with non-blocking sockets, for $secs
# seconds against 127.0.0.1 only.  "onebyte" clients send "G" and wait for
# the server to answer or close, then reconnect at once; "slowloris" clients
# send one more byte of a request that never ends every 200-400 ms, and
# reconnect when dropped.  Counts go to $statfile as name=value lines.
sub flood
{
	my ($port, $secs, $statfile) = @_;
	my $addr = pack_sockaddr_in($port, inet_aton('127.0.0.1'));
	my $slowreq = "GET /ready HTTP/1.1\r\nX-Slow: " . ('a' x 4000);
	my (@c, %st);
	push @c, { kind => 'onebyte', state => 'closed', due => 0 } for 1 .. 64;
	push @c, { kind => 'slowloris', state => 'closed', due => 0 } for 1 .. 100;
	my $reset = sub {
		my ($x, $due) = @_;
		close $x->{s} if $x->{s};
		%$x = (kind => $x->{kind}, state => 'closed', due => $due);
	};
	my $end = time + $secs;
	while ((my $now = time) < $end)
	{
		my ($r, $w) = ('', '');
		for my $x (@c)
		{
			if ($x->{state} eq 'closed' && $now >= $x->{due})
			{
				my $s;
				if (!socket($s, PF_INET, SOCK_STREAM, 0))
				{
					$st{socket_errors}++;
					$x->{due} = $now + 0.05;
					next;
				}
				fcntl($s, F_SETFL, fcntl($s, F_GETFL, 0) | O_NONBLOCK);
				if (!connect($s, $addr) && $! != EINPROGRESS)
				{
					$st{connect_errors}++;
					close $s;
					$x->{due} = $now + 0.05;
					next;
				}
				$st{"connects_$x->{kind}"}++;
				@$x{qw(s state sent)} = ($s, 'connecting', 0);
			}
			next if $x->{state} eq 'closed';
			vec($w, fileno($x->{s}), 1) = 1 if $x->{state} eq 'connecting';
			vec($r, fileno($x->{s}), 1) = 1 if $x->{state} eq 'open';
		}
		my $nfound = select(my $rr = $r, my $ww = $w, undef, 0.01);
		next if $nfound < 0;
		$now = time;
		for my $x (@c)
		{
			next if $x->{state} eq 'closed';
			my $fn = fileno($x->{s});
			if ($x->{state} eq 'connecting' && vec($ww, $fn, 1))
			{
				if (unpack('i', getsockopt($x->{s}, SOL_SOCKET, SO_ERROR)))
				{
					$st{connect_errors}++;
					$reset->($x, $now + 0.05);
					next;
				}
				syswrite($x->{s}, 'G');
				@$x{qw(state sent due)} = ('open', 1, $now + 0.2 + rand(0.2));
			}
			elsif ($x->{state} eq 'open' && vec($rr, $fn, 1))
			{
				my $n = sysread($x->{s}, my $buf, 4096);
				next if !defined($n) && ($! == EAGAIN || $! == EWOULDBLOCK || $! == EINTR);
				if ($n && $buf =~ m{^HTTP/1\.1 (\d{3})})
				{
					$st{"answers_$x->{kind}_$1"}++;
					next;		# then the close
				}
				next if $n;
				$st{"dropped_$x->{kind}"}++;
				$reset->($x, $now);		# reconnect at once
			}
			elsif ($x->{state} eq 'open' && $x->{kind} eq 'slowloris' && $now >= $x->{due}
				&& $x->{sent} < length($slowreq))
			{
				syswrite($x->{s}, substr($slowreq, $x->{sent}++, 1));
				$x->{due} = $now + 0.2 + rand(0.2);
			}
		}
	}
	open my $f, '>', $statfile or die "cannot write $statfile: $!";
	print $f map { "$_=$st{$_}\n" } sort keys %st;
	close $f;
}

# One probe: (status, body, seconds).  The clock runs from before the
# connect to the end of the answer.
sub probe
{
	my ($path) = @_;
	my ($status, $head, $body, $secs) = http_raw($hport, "GET $path HTTP/1.1\r\nHost: x\r\n\r\n");
	return ($status, $body, $secs);
}

# The flood, and the probes meanwhile (from 0.5 s in, so that the attackers
# already hold the places, to 0.5 s before the end).
my $statfile = "$tmp/flood.stats";
my $t_from = $node->safe_psql('postgres', 'SELECT now()');
my $child = fork() // die "fork: $!";
if ($child == 0)
{
	# _exit: the child must not run the parent's END blocks (they stop the node)
	eval { flood($hport, $flood_secs, $statfile); };
	print STDERR "flood: $@" if $@;
	POSIX::_exit(0);
}
usleep(500_000);
my (@times, %wrong, $good, $n);
my $until = time + $flood_secs - 1;
for (my $tick = time; time < $until; $tick += 0.05)
{
	for my $path ('/live', '/ready')
	{
		my ($st, $body, $secs) = probe($path);
		my $doc = eval { decode_json($body) };
		$n++;
		push @times, $secs;
		if ($st == 200 && ref $doc && ($doc->{probe} // '') eq substr($path, 1) && $doc->{ok})
		{
			$good++;
		}
		else
		{
			$wrong{ "$path: $st " . substr($body, 0, 80) }++;
		}
	}
	my $sleep = $tick + 0.05 - time;
	usleep($sleep * 1e6) if $sleep > 0;
}
# the child ends by itself at $flood_secs; never wait for it past that
my $waited = time;
while (waitpid($child, POSIX::WNOHANG()) == 0)
{
	if (time - $waited > 10) { kill 'KILL', $child; waitpid($child, 0); last; }
	usleep(100_000);
}
my $t_to = $node->safe_psql('postgres', 'SELECT now()');
my %stats = map { chomp; split /=/, $_, 2 } do { open my $f, '<', $statfile or die "no $statfile"; <$f> };
note(join(', ', map { "$_=$stats{$_}" } sort keys %stats));
diag("wrong answers: $_ (x$wrong{$_})") for sort keys %wrong;

# The attack was real: both kinds connected over and over, and were dropped
# by the server (a 408: at their deadline, or evicted by a newcomer).
cmp_ok($stats{connects_onebyte} // 0, '>', 2 * 64, 'the one-byte clients reconnected again and again');
cmp_ok($stats{connects_slowloris} // 0, '>=', 100, 'the slowloris clients connected');
cmp_ok(($stats{answers_onebyte_408} // 0) + ($stats{answers_slowloris_408} // 0), '>', 64,
	'... and were dropped with 408s');

my @sorted = sort { $a <=> $b } @times;
my $pct = 100 * ($good // 0) / $n;
cmp_ok($n, '>=', 100, "$n probes of /live and /ready during the flood");
cmp_ok($pct, '>=', 99, sprintf('%.1f%% of them got the true verdict (200, ok, the right probe)', $pct));
cmp_ok($sorted[-1], '<', 0.1,
	sprintf('each probe answered within 100 ms (median %.1f ms, worst %.1f ms)',
		1000 * $sorted[ $#sorted / 2 ], 1000 * $sorted[-1]));

# Sampling went on: no gap between samples of the flood over two intervals
# (one missed sample at most), from the server's own sample times.
my ($gap, $samples) = split /\|/, $node->safe_psql('postgres', qq{
	SELECT round(coalesce(max(gap), 0)), count(*) FROM (
	  SELECT extract(epoch FROM sampled_at - lag(sampled_at) OVER (ORDER BY generation)) * 1000 AS gap
	  FROM health.history WHERE sampled_at BETWEEN '$t_from' AND '$t_to') g});
cmp_ok($samples, '>=', $flood_secs * 1000 / $interval_ms / 2, "$samples samples during the flood");
cmp_ok($gap, '<=', 2 * $interval_ms, "no gap between samples over two intervals (the longest: $gap ms)");
is($node->safe_psql('postgres', 'SELECT worker_pid FROM health.status'), $pid, 'the same sampler throughout');

# Memory: every kind of answer, 5,000 times, after a warm-up.  (timeout: a
# server that stopped answering must not hold the test 5 s per request)
my @paths = ('/live', '/ready', '/startup', '/health', '/metrics', '/primary', '/replica', '/nope',
	'/replica?delay=99999999999999s', '/ready?user=postgres&database=postgres', '/health?user=nobody',
	'/', '/status?refresh=5');
# the HTTP worker answers (the sampler only samples)
my @http = worker_pids($node, 'pg_health http');
is(scalar(@http), 1, 'one HTTP worker');
my ($rss0, $rss1) = http_rss_growth($probe, $hport, $http[0], 5000, \@paths);
cmp_ok($rss1 - $rss0, '<', 2048,
	"the HTTP worker's RssAnon grew by less than 2 MB over 65,000 requests ($rss0 kB -> $rss1 kB)");
is_deeply([ worker_pids($node, 'pg_health http') ], \@http, '... and it is the same HTTP worker');
is($node->safe_psql('postgres', 'SELECT worker_pid FROM health.status'), $pid, '... and the same sampler');

# Query arguments out of range: 400, naming the argument.
for my $case (['/replica?delay=99999999999999s', qr/delay is out of range/],
	['/replica?delay=3651d', qr/delay is out of range/],
	['/ready?role=replica&lag=4194305TB', qr/lag is out of range/],
	['/health?lag=99999999999999999999999', qr/lag is out of range/],
	['/replica?delay=10', qr/delay must be/],
	['/ready?role=leader', qr/role must be/])
{
	my ($path, $want) = @$case;
	my ($st, undef, $body) = http_get($hport, $path);
	is($st, 400, "$path: 400");
	like($body, $want, '... naming the argument');
}
is((http_get($hport, '/replica?delay=3650d&lag=4194304TB'))[0], 503,
	'the largest limits are accepted (/replica on a primary: 503 for the role)');

unlike(slurp_file($node->logfile), qr/terminated by signal/, 'nothing crashed');
$node->stop;
done_testing();
