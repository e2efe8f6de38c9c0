# The cluster's verdict on every node (issue 29, in part): three real
# servers -- a primary, a streaming standby and a cascading standby of that
# standby -- each with pg_health's HTTP endpoint and the same
# pg_health.cluster_members.  Every node's /cluster agrees on the primary; a
# standby stopped is reported everywhere; the primary stopped is "no
# primary", naming the most advanced standby; hostile members (garbage, an
# endless answer, one that never answers, one of another cluster, one whose
# name is not an address) fail their own polls only, with the poller's
# memory flat; a standby promoted while the primary runs is a split brain
# on all three, and with fencing the old primary leaves /primary.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use JSON::PP;
use IO::Socket::INET;
use Time::HiRes qw(time usleep);
use PgHealthTest;

my %hport = map { $_ => PostgreSQL::Test::Cluster::get_free_port() } qw(a b c d);
my $members = join(',', map { "$_=127.0.0.1:$hport{$_}" } qw(a b c));
sub conf
{
	my ($name) = @_;
	return qq{
shared_preload_libraries = 'pg_health'
pg_health.sample_interval = 100ms
pg_health.http_port = $hport{$name}
pg_health.cluster_name = '$name'
pg_health.cluster_members = '$members'
pg_health.cluster_interval = 200ms
pg_health.cluster_timeout = 300ms
pg_health.replica_stream_grace = -1
};
}

my $na = PostgreSQL::Test::Cluster->new('a');
$na->init(allows_streaming => 1);
$na->append_conf('postgresql.conf', conf('a'));
$na->start;
$na->safe_psql('postgres', 'CREATE EXTENSION pg_health');
my $nb = streaming_standby($na, 'b', conf('b'));
# c streams from b: a cascading standby
$nb->backup('c.backup');
my $nc = PostgreSQL::Test::Cluster->new('c');
$nc->init_from_backup($nb, 'c.backup', has_streaming => 1);
$nc->append_conf('postgresql.conf', conf('c'));
$nc->start;
my %node = (a => $na, b => $nb, c => $nc);

sub cluster
{
	my ($name) = @_;
	my ($st, undef, $body) = http_get($hport{$name}, '/cluster');
	my $d = eval { decode_json($body) } // {};
	return ($st, $d);
}
sub member
{
	my ($doc, $name) = @_;
	my ($m) = grep { $_->{name} eq $name } @{ $doc->{members} // [] };
	return $m // {};
}
# Poll every node in @names until $cond->($status, $doc) holds for all of
# them; returns the seconds it took, or undef after $timeout.
sub all_agree
{
	my ($names, $cond, $timeout) = @_;
	my $t0 = time;
	while (time - $t0 < $timeout)
	{
		my $ok = 1;
		for my $n (@$names)
		{
			my ($st, $d) = cluster($n);
			$ok &&= $cond->($st, $d);
		}
		return time - $t0 if $ok;
		usleep(50_000);
	}
	return undef;
}

# --- One primary, seen alike from every node -----------------------------------
my $t = all_agree([qw(a b c)], sub {
	my ($st, $d) = @_;
	return $st == 200 && ($d->{primary} // '') eq 'a' && $d->{reachable} == 3;
}, 15);
ok(defined $t, 'every node\'s /cluster: 200, primary a, 3 of 3 reachable');
my ($st, $d) = cluster('c');
is(member($d, 'b')->{role}, 'standby', 'c sees b as a standby');
is(member($d, 'c')->{role}, 'standby', '... and itself');
is(member($d, 'a')->{timeline}, 1, '... a on timeline 1');
like(member($d, 'c')->{lag_bytes}, qr/^\d+$/, '... with its lag behind the primary in bytes');
is($na->safe_psql('postgres', q{SELECT status FROM health.checks WHERE name = 'cluster'}), 'ok',
	'the cluster check on a: ok');

# --- A standby stopped: reported everywhere, within two intervals ---------------
$nc->stop('fast');
my $t0 = time;
$t = all_agree([qw(a b)], sub {
	my ($st, $d) = @_;
	return $st == 200 && (member($d, 'c')->{state} // '') eq 'unreachable'
	  && ($d->{status} // '') eq 'warning';
}, 10);
ok(defined $t, 'c stopped: a and b report it unreachable (a warning), /cluster still 200');
diag(sprintf('c stopped: reported on a and b after %.2f s (cluster_interval 200 ms)', time - $t0));
cmp_ok(time - $t0, '<', 2, '... within 2 s');
like($na->safe_psql('postgres', q{SELECT detail FROM health.checks WHERE name = 'cluster'}),
	qr/; c unreachable for \d+ s \(could not connect: Connection refused\)/,
	'... the detail names it and why');
is((http_get($hport{b}, '/ready'))[0], 200, '... and b stays ready: another node down is not its fault');
$nc->start;
$t = all_agree([qw(a b c)], sub { my ($st, $d) = @_; return $st == 200 && $d->{reachable} == 3 }, 15);
ok(defined $t, 'c started again: 3 of 3 reachable everywhere');

# --- Hostile members: each fails its own poll, the others are polled on time ----
my @kids;
sub serve
{
	my ($what) = @_;
	my $l = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 16, ReuseAddr => 1)
	  or die "listen: $!";
	my $port = $l->sockport;
	my $pid = fork();
	die "fork: $!" unless defined $pid;
	if ($pid == 0)
	{
		$SIG{PIPE} = 'IGNORE';
		if ($what eq 'silent') { sleep 3600; exit 0; }	# listens, never accepts
		while (my $s = $l->accept)
		{
			my $req = '';
			sysread($s, $req, 4096);
			if ($what eq 'garbage')
			{
				print $s "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{\"name\": [1, {\"x\": \"\x01\"}]";
			}
			elsif ($what eq 'huge')
			{
				print $s "HTTP/1.1 200 OK\r\n\r\n{\"name\": \"";
				my $chunk = 'x' x 65536;
				for (1 .. 1600) { last unless print $s $chunk; }	# 100 MB, if read
			}
			close $s;
		}
		exit 0;
	}
	push @kids, $pid;
	close $l if $what ne 'silent';
	return $port;
}
END { kill 'KILL', @kids if @kids; }

my $d_node = PostgreSQL::Test::Cluster->new('d');	# another cluster
$d_node->init;
$d_node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_health'
pg_health.http_port = $hport{d}
pg_health.cluster_name = 'd'
});
$d_node->start;
my %hostile = (garbage => serve('garbage'), huge => serve('huge'), silent => serve('silent'));
my $with_hostile = join(',', $members, (map { "$_=127.0.0.1:$hostile{$_}" } sort keys %hostile),
	"other=127.0.0.1:$hport{d}", 'named=db.invalid:8008');
my $poller = (worker_pids($na, 'pg_health poller'))[0];
$na->safe_psql('postgres', qq{ALTER SYSTEM SET pg_health.cluster_members = '$with_hostile'; SELECT pg_reload_conf()});
$t = all_agree(['a'], sub {
	my ($st, $d) = @_;
	return (member($d, 'garbage')->{state} // '') eq 'unreachable'
	  && (member($d, 'huge')->{state} // '') eq 'unreachable'
	  && (member($d, 'silent')->{state} // '') eq 'unreachable'
	  && (member($d, 'other')->{state} // '') eq 'foreign'
	  && (member($d, 'named')->{state} // '') eq 'unresolved';
}, 15);
ok(defined $t, 'hostile members on a: each reported');
($st, $d) = cluster('a');
like(member($d, 'garbage')->{error}, qr/^not an identity document/, '... garbage: not an identity document');
like(member($d, 'huge')->{error}, qr/more than 4096 bytes/, '... an endless answer: cut at 4096 bytes');
like(member($d, 'silent')->{error}, qr/no answer within pg_health\.cluster_timeout \(300 ms\)/,
	'... one that never answers: timed out');
like(member($d, 'other')->{error}, qr/^another cluster: system identifier \d+, not ours$/,
	'... one of another cluster: foreign, its system identifier named');
like(member($d, 'named')->{error}, qr/not an IP address/, '... a name: not resolved, and said so');
is($st, 200, '... and /cluster still 200: one primary');
for my $n (qw(a b c))
{
	my $m = member($d, $n);
	ok($m->{state} eq 'up' && $m->{poll_ms} < 300, "... $n still polled on time ($m->{poll_ms} ms)");
}
# the poller's memory through many rounds of it
my $rss0 = rss_anon_kb($poller);
usleep(6_000_000);	# 30 rounds
my $rss1 = rss_anon_kb($poller);
diag("poller RssAnon with hostile members: $rss0 kB -> $rss1 kB over 30 rounds");
ok(defined $rss0 && defined $rss1 && $rss1 - $rss0 < 256, '... its memory flat (< 256 kB more)');
is((worker_pids($na, 'pg_health poller'))[0], $poller, '... and it never restarted');
$na->safe_psql('postgres', q{ALTER SYSTEM RESET pg_health.cluster_members; SELECT pg_reload_conf()});
kill 'KILL', @kids;
$d_node->stop;

# --- A poller that stops: its view goes stale, nothing is judged from it --------
my $apoller = (worker_pids($na, 'pg_health poller'))[0];
kill 'STOP', $apoller;
END { kill 'CONT', $apoller if $apoller; }
$t = all_agree(['a'], sub {
	my ($st, $d) = @_;
	return $st == 503 && $d->{stale} && ($d->{detail} // '') =~ /^the cluster view is \d+ s old: the pg_health poller is not keeping up/;
}, 10);
ok(defined $t, 'the poller stopped (SIGSTOP): a\'s view is stale, said so, and /cluster 503');
is((http_get($hport{a}, '/primary'))[0], 200, '... a stale view fences nothing: /primary 200');
kill 'CONT', $apoller;
$t = all_agree(['a'], sub { my ($st, $d) = @_; return $st == 200 && !$d->{stale} }, 10);
ok(defined $t, '... and it is current again once the poller runs');

# --- The primary stopped: no primary, the most advanced standby named -----------
$na->stop('fast');
$t = all_agree([qw(b c)], sub {
	my ($st, $d) = @_;
	return $st == 503 && ($d->{detail} // '') =~ /^no primary: writes fail; the most advanced standby is [bc] /;
}, 10);
ok(defined $t, 'a stopped: b and c say "no primary", naming the most advanced standby; /cluster 503');
($st, $d) = cluster('b');
like($d->{detail}, qr/a unreachable/, '... and a unreachable');
$na->start;
$t = all_agree([qw(a b c)], sub { my ($st, $d) = @_; return $st == 200 && ($d->{primary} // '') eq 'a' }, 15);
ok(defined $t, 'a started again: one primary everywhere');

# --- Split brain: b promoted while a runs; fencing on ----------------------------
for my $n ($na, $nb)
{
	$n->safe_psql('postgres', q{ALTER SYSTEM SET pg_health.cluster_fence = on; SELECT pg_reload_conf()});
}
$t0 = time;
$nb->safe_psql('postgres', 'SELECT pg_promote()');
$t = all_agree([qw(a b c)], sub {
	my ($st, $d) = @_;
	return $st == 503 && ($d->{detail} // '') =~ /^split brain: a \(timeline 1\) and b \(timeline 2\) are all primary/;
}, 10);
ok(defined $t, 'b promoted while a runs: split brain on all three, /cluster 503');
diag(sprintf('split brain seen on a, b and c %.2f s after the promotion', time - $t0));
cmp_ok(time - $t0, '<', 3, '... within 2 s of the promotion taking effect (3 s with the promotion)');
my ($pa) = poll_http($hport{a}, '/primary', 503, 5);
is($pa, 503, 'with fencing, the old primary a answers /primary 503');
like($na->safe_psql('postgres', q{SELECT detail FROM health.checks WHERE name = 'cluster'}),
	qr/fenced \(pg_health\.cluster_fence\): this primary may be stale/, '... saying why');
is($na->safe_psql('postgres', q{SELECT health.ready('primary')}), 'f', '... health.ready(\'primary\') false');
is((http_get($hport{a}, '/ready'))[0], 200, '... but a still serves reads: /ready 200');
is((http_get($hport{b}, '/primary'))[0], 200, 'the new primary b: /primary 200');

$_->stop for ($nc, $nb, $na);
done_testing();
