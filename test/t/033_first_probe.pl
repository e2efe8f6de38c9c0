# A new tenant pair is answered on its first probe (issue 27, item 6).  The
# per-tenant question over HTTP (/ready?user=&database=) needs the names
# worker to look a pair up; the first probe of a pair used to answer 503
# "unknown" (looking_up) until its next pass.  Now the HTTP worker parks such
# a request, without blocking anyone else, until the pass (at most 300 ms).
# Against a preloaded server, right after it started:
#
#  - the first probe of an admitted pair answers 200, well within 300 ms;
#  - the first probe of a role that does not exist answers 503
#    no_such_role, not looking_up;
#  - 50 new pairs at once: every one answered 200 within 300 ms and a pass,
#    and /live, asked meanwhile on other connections, at once (< 100 ms);
#  - the names worker stopped (SIGSTOP): a first probe answers
#    unknown/looking_up after 300 ms, not later, while /live is answered at
#    once; after SIGCONT the pair's next probe answers 200;
#  - parking has a budget: of 60 made-up pairs at once, those past it are
#    answered at once (looking_up), the others no_such_role.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IO::Socket::INET;
use IO::Select;
use Time::HiRes qw(time usleep);
use PgHealthTest;

my $hport = PostgreSQL::Test::Cluster::get_free_port();
my $node = PostgreSQL::Test::Cluster->new('first_probe');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_health'
pg_health.sample_interval = 100ms
pg_health.http_port = $hport
});
$node->start;
$node->safe_psql('postgres', join "\n", 'CREATE ROLE app LOGIN; CREATE DATABASE appdb;',
	map { "CREATE ROLE tenant$_ LOGIN;" } 1 .. 51);

# Whatever happens below, never leave a process stopped: the node could not
# shut down.
my @stopped;
END { kill 'CONT', @stopped if @stopped; }

# The server ready and the names worker running: nothing has asked about a
# pair yet.
my ($st) = poll_http($hport, '/ready', 200, 30);
is($st, 200, 'the server is ready');
my $deadline = time + 30;
usleep(50_000) while !worker_pids($node, 'pg_health names') && time < $deadline;
my ($names_pid) = worker_pids($node, 'pg_health names');
ok($names_pid, 'the names worker runs');

# GET each of @paths on a connection of its own, all sent before any is
# read; returns [status, body, seconds, after] for each, in order.  Seconds
# count from each request's own sending to the end of its answer; after,
# from the end of sending them all (the answers are not read before: on a
# loaded machine, opening the later connections takes tens of ms that an
# early request's seconds include).
sub concurrent
{
	my @paths = @_;
	my (@socks, @t0, @resp, @done);
	my $sel = IO::Select->new;
	for my $i (0 .. $#paths)
	{
		my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $hport, Timeout => 5)
		  or die "connect: $!";
		$t0[$i] = time;
		print $s "GET $paths[$i] HTTP/1.1\r\nHost: x\r\n\r\n";
		$s->blocking(0);
		$socks[$i] = $s;
		$resp[$i] = '';
		$sel->add([ $s, $i ]);
	}
	my $sent = time;
	my $end = $sent + 10;
	while ($sel->count && time < $end)
	{
		for my $h ($sel->can_read(1))
		{
			my ($s, $i) = @$h;
			my $n = sysread($s, my $chunk, 65536);
			next if !defined $n && $!{EAGAIN};
			if ($n)
			{
				$resp[$i] .= $chunk;
				next;
			}
			$done[$i] = time - $t0[$i];
			$sel->remove($h);
			close $s;
		}
	}
	return map {
		my ($head, $body) = split /\r\n\r\n/, $resp[$_], 2;
		my ($code) = ($head // '') =~ m{^HTTP/1\.1 (\d{3})};
		[ $code // 0, $body // '', $done[$_] // 99, defined $done[$_] ? $done[$_] + $t0[$_] - $sent : 99 ]
	} 0 .. $#paths;
}

sub ms { return sprintf '%.0f ms', 1000 * $_[0]; }

sub max_of { my $m = 0; $m = $_ > $m ? $_ : $m for @_; return $m; }

# --- The first probe of an admitted pair ----------------------------------
my ($code, undef, $body, $secs) = http_get($hport, '/ready?user=app&database=appdb');
is($code, 200, 'the first probe of app@appdb: 200, answered in ' . ms($secs));
like($body, qr/"admission":\{"user":"app","database":"appdb","answer":"yes"/, '... admitted');
cmp_ok($secs, '<', 0.3, '... within 300 ms');

# --- The first probe of a role that does not exist ------------------------
($code, undef, $body, $secs) = http_get($hport, '/ready?user=ghost&database=appdb');
is($code, 503, 'the first probe of a role that does not exist: 503, in ' . ms($secs));
like($body, qr/"reason":"no_such_role"/, '... no_such_role');
unlike($body, qr/looking_up/, '... not looking_up');

# --- 50 new pairs at once, and /live meanwhile ------------------------------
my @r = concurrent((map { "/ready?user=tenant$_&database=appdb" } 2 .. 51), ('/live') x 5);
my @tenants = @r[0 .. 49];
my @live = @r[50 .. 54];
is(scalar(grep { $_->[0] == 200 && $_->[1] =~ /"answer":"yes"/ } @tenants), 50,
	'50 new pairs at once: every first probe 200, admitted');
my $slowest = max_of(map { $_->[2] } @tenants);
cmp_ok($slowest, '<', 0.45, '... the slowest answered in ' . ms($slowest) . ' (300 ms and a pass at most)');
is(scalar(grep { $_->[0] == 200 } @live), 5, '/live asked meanwhile: 200');
my $live_worst = max_of(map { $_->[2] } @live);
cmp_ok($live_worst, '<', 0.1, '... at once (the slowest in ' . ms($live_worst) . ')');

# --- The names worker stopped: looking_up after 300 ms, /live at once -------
kill 'STOP', $names_pid;
push @stopped, $names_pid;
@r = concurrent('/ready?user=tenant1&database=appdb', ('/live') x 3);
kill 'CONT', $names_pid;
my $t_cont = time;
@stopped = ();
is($r[0][0], 503, 'the names worker stopped: the first probe of a pair 503, after ' . ms($r[0][2]));
like($r[0][1], qr/"answer":"unknown".*"reason":"looking_up"/, '... unknown, looking_up');
cmp_ok($r[0][2], '>=', 0.25, '... once parked for 300 ms');
cmp_ok($r[0][2], '<', 1, '... and not hanging');
$live_worst = max_of(map { $_->[2] } @r[1 .. 3]);
is(scalar(grep { $_->[0] == 200 } @r[1 .. 3]), 3, '/live while it was parked: 200');
cmp_ok($live_worst, '<', 0.1, '... at once (the slowest in ' . ms($live_worst) . ')');
cmp_ok($live_worst, '<', $r[0][2], '... before the parked one was answered');

# the worker resumes at its own pace: on a loaded machine its first pass
# after SIGCONT may take longer than a probe parks (300 ms)
($code) = poll_http($hport, '/ready?user=tenant1&database=appdb', 200, 10);
is($code, 200, 'SIGCONT: the pair\'s probes 200 again, ' . ms(time - $t_cont) . ' after it');

# --- Parking's budget: a flood of new pairs is answered at once past it ----
@r = concurrent(map { "/ready?user=made_up_$_&database=appdb" } 1 .. 60);
my @waited = grep { $_->[1] =~ /"reason":"no_such_role"/ } @r;
my @at_once = grep { $_->[1] =~ /"reason":"looking_up"/ } @r;
is(scalar(@waited) + scalar(@at_once), 60, '60 made-up pairs at once: each no_such_role or looking_up');
cmp_ok(scalar(@waited), '>', 0, scalar(@waited) . ' parked until the pass: no_such_role');
cmp_ok(scalar(@at_once), '>', 0, scalar(@at_once) . ' past the budget: looking_up');
# At once: well before the 300 ms a parked request waits.  Counted from the
# last request sent, as the answers are read only then.
my $at_once_worst = max_of(map { $_->[3] } @at_once);
cmp_ok($at_once_worst, '<', 0.2, '... answered at once (the slowest ' . ms($at_once_worst) . ' after the last was sent; parked: 300 ms)');
is((http_get($hport, '/live'))[0], 200, '/live still 200');

is(join(',', worker_pids($node, 'pg_health names')), $names_pid, 'the names worker never restarted');
unlike(slurp_file($node->logfile), qr/terminated by signal/, 'nothing crashed');
$node->stop;
done_testing();
