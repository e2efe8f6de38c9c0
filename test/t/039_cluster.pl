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
$na->append_conf('postgresql.conf', conf('a') . "listen_addresses = '127.0.0.1'\n");
$na->start;
$na->safe_psql('postgres', 'CREATE EXTENSION pg_health');
my $nb = streaming_standby($na, 'b', conf('b'));
# b and c stream over TCP, so that a primary's walsenders have their
# standbys' addresses and a standby's WAL receiver its upstream's (discovery)
$nb->append_conf('postgresql.conf', "listen_addresses = '127.0.0.1'\n"
	  . "primary_conninfo = 'host=127.0.0.1 port=" . $na->port . " application_name=b'");
$nb->restart;
# c streams from b: a cascading standby
$nb->backup('c.backup');
my $nc = PostgreSQL::Test::Cluster->new('c');
$nc->init_from_backup($nb, 'c.backup', has_streaming => 1);
$nc->append_conf('postgresql.conf', conf('c'));
$nc->append_conf('postgresql.conf',
	"primary_conninfo = 'host=127.0.0.1 port=" . $nb->port . " application_name=c'");
$nc->start;
my %node = (a => $na, b => $nb, c => $nc);
# on failure, what the servers said of their workers (the logs go with the
# temporary directory)
END
{
	if (!Test::More->builder->is_passing)
	{
		for my $n (sort keys %node)
		{
			my $log = eval { slurp_file($node{$n}->logfile) } // next;
			my @all = split /\n/, $log;
			diag("$n: $_") for grep { /exited with exit code|terminated by signal|ERROR|FATAL|PANIC|TRAP/ } @all;
			my @lines = grep { /pg_health/ } @all;
			diag("$n: $_") for @lines[ ($#lines > 20 ? $#lines - 20 : 0) .. $#lines ];
		}
	}
}

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
ok($na->poll_query_until('postgres', q{SELECT status = 'ok' FROM health.checks WHERE name = 'cluster'}),
	'the cluster check on a: ok (once b and c are ready too)');

# --- The same view in SQL, the report, /metrics and the status page -----------
$na->safe_psql('postgres', 'CREATE ROLE mon LOGIN IN ROLE pg_monitor');
is($na->safe_psql('postgres', q{SELECT string_agg(name || ':' || state || ':' || role || ':' || ready, ' ' ORDER BY name)
	FROM health.cluster}, extra_params => [ '-U', 'mon' ]),
	'a:up:primary:true b:up:standby:true c:up:standby:true',
	'health.cluster (pg_monitor): a primary, b and c standbys, all up and ready');
is($na->safe_psql('postgres', q{SELECT count(*) FROM health.cluster
	WHERE role = 'standby' AND lag_bytes IS NOT NULL AND lag IS NOT NULL AND poll IS NOT NULL}), 2,
	'... each standby with its lag in bytes and time, and the poll\'s round trip');
is($na->safe_psql('postgres', q{SELECT self FROM health.cluster WHERE name = 'a'}), 't', '... a is itself');
my $err_view = '';
$na->safe_psql('postgres', 'CREATE ROLE nobody LOGIN');
$na->psql('postgres', 'SELECT * FROM health.cluster', extra_params => [ '-U', 'nobody' ], stderr => \$err_view);
like($err_view, qr/permission denied/, '... and not for a role outside pg_monitor');
is($na->safe_psql('postgres', q{SELECT health.report()->'cluster'->>'primary' || ' ' ||
	jsonb_array_length(health.report()->'cluster'->'members')}), 'a 3',
	'health.report()\'s "cluster": primary a, 3 members');
my (undef, undef, $metrics) = http_get($hport{a}, '/metrics');
like($metrics, qr/^pg_health_cluster_primaries 1$/m, '/metrics: pg_health_cluster_primaries 1');
like($metrics, qr/^pg_health_cluster_members\{state="up"\} 3$/m, '... cluster_members{state="up"} 3');
like($metrics, qr/^pg_health_cluster_member_lag_bytes\{member="b"\} \d+$/m, '... b\'s lag in bytes');
like($metrics, qr/^pg_health_cluster_member_lag_seconds\{member="c"\} [\d.e+-]+$/m, '... c\'s in seconds');
like($metrics, qr/^pg_health_cluster_member_primary\{member="a"\} 1$/m, '... a the primary');
my (undef, undef, $page) = http_get($hport{b}, '/');
like($page, qr/<section id="cluster">.*<table id="cluster-table">.*<td>a<\/td>.*<td>b \(this node\)<\/td>/s,
	'the status page on b: a cluster section, every member, b as this node');

# --- Patroni's /sync and /async: what the primary's document says -------------
is((http_get($hport{b}, '/sync'))[0], 503, '/sync on b while a has no synchronous standby: 503');
is((http_get($hport{b}, '/async'))[0], 200, '/async on b: 200, an asynchronous standby');
$na->safe_psql('postgres', q{ALTER SYSTEM SET synchronous_standby_names = 'b'; SELECT pg_reload_conf()});
my ($sync_b) = poll_http($hport{b}, '/sync', 200, 10);
is($sync_b, 200, 'a names b its synchronous standby: /sync on b 200');
my (undef, undef, $sync_body) = http_get($hport{b}, '/sync');
my $sd = eval { decode_json($sync_body) } // {};
is(join(' ', map { $sd->{$_} // 'null' } qw(sync application_name primary primary_sync_standbys)), '1 b a b',
	'... saying so, by b\'s application_name, as a\'s document names it');
is((http_get($hport{b}, '/async'))[0], 503, '... /async on b 503');
is((http_get($hport{c}, '/async'))[0], 200, '/async on c (cascading from b, not named by a): 200');
is((http_get($hport{c}, '/synchronous'))[0], 503, '... /synchronous on c 503');
is((http_get($hport{a}, '/sync'))[0], 503, '/sync on the primary: 503');
$na->safe_psql('postgres', q{ALTER SYSTEM RESET synchronous_standby_names; SELECT pg_reload_conf()});
my ($async_b) = poll_http($hport{b}, '/async', 200, 10);
is($async_b, 200, 'synchronous_standby_names reset: b is asynchronous again');
# A name the primary's lists cannot carry: b's WAL receiver named "b,x", and
# a asks for it as its synchronous standby.  b cannot find itself (503, said
# why, neither sync nor async), and c, in neither list, cannot tell either:
# the list a name was left out of says nothing about who is not in it.
sub reason_of
{
	my ($name, $path, $re) = @_;
	my $deadline = time + 10;
	my ($st, $d);
	while (1)
	{
		(my $code, undef, my $body) = http_get($hport{$name}, $path);
		($st, $d) = ($code, eval { decode_json($body) } // {});
		last if ($d->{reason} // '') =~ $re || time > $deadline;
		usleep(50_000);
	}
	return ($st, $d->{reason} // '');
}
$nb->safe_psql('postgres', qq{ALTER SYSTEM SET primary_conninfo = 'host=127.0.0.1 port=@{[ $na->port ]} application_name=''b,x'''; SELECT pg_reload_conf()});
$na->safe_psql('postgres', q{ALTER SYSTEM SET synchronous_standby_names = '"b,x"'; SELECT pg_reload_conf()});
$na->poll_query_until('postgres', q{SELECT sync_state = 'sync' FROM pg_stat_replication WHERE application_name = 'b,x'})
  or diag('b did not stream as "b,x"');
my ($st_b, $why_b) = reason_of('b', '/sync', qr/comma/);
is("$st_b $why_b", "503 this standby's application_name has a comma: the primary's lists cannot name it",
	'b streaming as "b,x", synchronous: /sync on b 503, saying why');
is((reason_of('b', '/async', qr/comma/))[0], 503, '... and /async 503 (not misread as asynchronous)');
my ($st_c, $why_c) = reason_of('c', '/async', qr/cannot tell/);
is($st_c, 503, '... /async on c, in neither of a\'s lists, one of which left a name out: 503');
like($why_c, qr/^cannot tell: this standby is not in the primary's lists, which leave a name out/, '... cannot tell');
my (undef, undef, $node_a) = http_get($hport{a}, '/node');
like($node_a, qr/"sync_standbys":"","async_standbys":"","standbys_cut":true/, "... a's /node: b left out, and said so");
$na->safe_psql('postgres', q{ALTER SYSTEM RESET synchronous_standby_names; SELECT pg_reload_conf()});
$nb->safe_psql('postgres', q{ALTER SYSTEM RESET primary_conninfo; SELECT pg_reload_conf()});
is((poll_http($hport{c}, '/async', 200, 10))[0], 200, 'b named "b" again: /async on c 200');
is((poll_http($hport{b}, '/async', 200, 10))[0], 200, '... and on b');

# --- Lag in time; a member not ready; fewer ready standbys than asked ----------
# b's replay paused while a writes: b (and c, which streams from b) fall
# behind in bytes and seconds; b's own replay check turns critical (not
# ready), which a's cluster check reports; with two ready standbys asked for
# at the level "critical", the cluster check is critical, and a still ready.
$nb->safe_psql('postgres', q{ALTER SYSTEM SET pg_health.replay_stall_warning = '1s';
	ALTER SYSTEM SET pg_health.replay_stall_critical = '2s'; SELECT pg_reload_conf()});
$na->safe_psql('postgres', q{ALTER SYSTEM SET pg_health.cluster_min_standbys = 2;
	ALTER SYSTEM SET pg_health.cluster_min_standbys_level = 'critical'; SELECT pg_reload_conf()});
$na->safe_psql('postgres', 'CREATE TABLE lagging (i int)');
$na->wait_for_catchup('b');
$nb->safe_psql('postgres', 'SELECT pg_wal_replay_pause()');
for (1 .. 30)
{
	$na->safe_psql('postgres', 'INSERT INTO lagging VALUES (1)');
	usleep(100_000);
}
$t = all_agree(['a'], sub {
	my ($st, $d) = @_;
	my $b = member($d, 'b');
	return ($b->{lag_bytes} // 0) > 0 && ($b->{lag_ms} // 0) >= 1000 && ($b->{ready} // 1) == 0;
}, 15);
ok(defined $t, 'b paused while a writes: a sees b behind in bytes and by a second or more, and not ready');
($st, $d) = cluster('a');
diag(sprintf('b paused 3 s: lag %d bytes, %d ms; c %d bytes, %d ms', member($d, 'b')->{lag_bytes},
	member($d, 'b')->{lag_ms}, member($d, 'c')->{lag_bytes} // -1, member($d, 'c')->{lag_ms} // -1));
cmp_ok(member($d, 'b')->{lag_ms}, '<', 10_000, '... its lag in time no more than it has been paused, and some');
like($d->{detail}, qr/; b not ready for \d+ s/, '... the detail: b not ready, since when');
like($d->{detail}, qr/fewer ready standbys than pg_health\.cluster_min_standbys \(2\)/, '... and fewer ready standbys than 2');
is($d->{status}, 'critical', '... critical, as pg_health.cluster_min_standbys_level says');
is($st, 200, '... /cluster 200 all the same: it answers for the primary');
is((http_get($hport{a}, '/ready'))[0], 200, '... and a stays ready (pg_health.cluster_in_ready is off)');
$nb->safe_psql('postgres', 'SELECT pg_wal_replay_resume()');
$nb->safe_psql('postgres', q{ALTER SYSTEM RESET pg_health.replay_stall_warning;
	ALTER SYSTEM RESET pg_health.replay_stall_critical; SELECT pg_reload_conf()});
$na->safe_psql('postgres', q{ALTER SYSTEM RESET pg_health.cluster_min_standbys;
	ALTER SYSTEM RESET pg_health.cluster_min_standbys_level; SELECT pg_reload_conf()});
$t = all_agree(['a'], sub {
	my ($st, $d) = @_;
	return ($d->{status} // '') eq 'ok' && (member($d, 'b')->{lag_bytes} // 1) == 0 && member($d, 'b')->{lag_ms} == 0;
}, 15);
ok(defined $t, 'b resumed: caught up (0 bytes, 0 ms) and the cluster check ok again');

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

# --- Discovery: a finds b from its walsender, c finds b as its upstream -------
# (every node here listens on 127.0.0.1, each on a port of its own: the
# discovered port is set to b's, where in production every node has the
# same pg_health port; each also finds itself)
for my $n ($na, $nc)
{
	$n->safe_psql('postgres', qq{ALTER SYSTEM SET pg_health.cluster_members = '';
		ALTER SYSTEM SET pg_health.cluster_discover = on;
		ALTER SYSTEM SET pg_health.cluster_discover_port = $hport{b}; SELECT pg_reload_conf()});
}
$t = all_agree(['a'], sub {
	my ($st, $d) = @_;
	my $b = member($d, 'b');
	my $a = member($d, 'a');
	return $st == 200 && ($b->{state} // '') eq 'up' && $b->{discovered} && ($b->{role} // '') eq 'standby'
	  && $a->{self} && ($a->{role} // '') eq 'primary' && @{ $d->{members} } == 2;
}, 10);
ok(defined $t, 'discovery on a (no members listed): itself, and b from its walsender (application_name b), a standby; /cluster 200');
$t = all_agree(['c'], sub {
	my ($st, $d) = @_;
	my $m = member($d, 'upstream');
	return $st == 503 && ($m->{state} // '') eq 'up' && $m->{discovered} && ($m->{node_name} // '') eq 'b'
	  && member($d, 'c')->{self};
}, 10);
ok(defined $t, 'discovery on c: itself and its upstream (named upstream), b, a standby; no primary seen from there: 503');
is($na->safe_psql('postgres', q{SELECT string_agg(name || ':' || discovered, ' ' ORDER BY name) FROM health.cluster}),
	'a:true b:true', '... health.cluster says discovered');
$_->safe_psql('postgres', q{ALTER SYSTEM RESET pg_health.cluster_members; ALTER SYSTEM RESET pg_health.cluster_discover;
	ALTER SYSTEM RESET pg_health.cluster_discover_port; SELECT pg_reload_conf()}) for ($na, $nc);
$t = all_agree([qw(a c)], sub {
	my ($st, $d) = @_;
	return $st == 200 && @{ $d->{members} } == 3 && !grep { $_->{discovered} } @{ $d->{members} };
}, 10);
ok(defined $t, 'discovery off again: the configured three only');

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
# Host names: scripts/test runs the suite where pg-health-b.test is
# 127.0.0.1 (/etc/hosts) and every other name goes to a resolver that never
# answers (PH_TEST_NAMES; see names_up there).
ok($ENV{PH_TEST_NAMES}, 'the harness gives host names and a resolver that does not answer (scripts/test, as root)');
my @named = $ENV{PH_TEST_NAMES}
  ? ("bee=pg-health-b.test:$hport{b}", 'mute=no-answer.pg-health.test:8008') : ();
my $with_hostile = join(',', $members, (map { "$_=127.0.0.1:$hostile{$_}" } sort keys %hostile),
	"other=127.0.0.1:$hport{d}", 'bad=not a host:8008', "alias=localhost:$hport{a}", @named);
my $poller = (worker_pids($na, 'pg_health poller'))[0];
ok(defined $poller, "a's poller found by its title") or diag(join("\n", map {
	my $st = eval { slurp_file("$_/status") } // '';
	my ($pp) = $st =~ /^PPid:\s+(\d+)/m;
	"$_ ppid " . ($pp // '?') . ': ' . ((eval { slurp_file("$_/cmdline") } // '') =~ s/\0/ /gr)
} grep { (eval { slurp_file("$_/cmdline") } // '') =~ /pg_health/ } glob '/proc/[0-9]*'));
$na->safe_psql('postgres', qq{ALTER SYSTEM SET pg_health.cluster_members = '$with_hostile'; SELECT pg_reload_conf()});
$t = all_agree(['a'], sub {
	my ($st, $d) = @_;
	return (member($d, 'garbage')->{state} // '') eq 'unreachable'
	  && (member($d, 'huge')->{state} // '') eq 'unreachable'
	  && (member($d, 'silent')->{state} // '') eq 'unreachable'
	  && (member($d, 'other')->{state} // '') eq 'foreign'
	  && (member($d, 'bad')->{state} // '') eq 'unresolved'
	  && (!@named || ((member($d, 'bee')->{state} // '') eq 'up'
		  && (member($d, 'mute')->{error} // '') =~ /has not answered for [1-9]/));
}, 15);
ok(defined $t, 'hostile members on a: each reported');
($st, $d) = cluster('a');
like(member($d, 'garbage')->{error}, qr/^not an identity document/, '... garbage: not an identity document');
like(member($d, 'huge')->{error}, qr/more than 4096 bytes/, '... an endless answer: cut at 4096 bytes');
like(member($d, 'silent')->{error}, qr/no answer within pg_health\.cluster_timeout \(300 ms\)/,
	'... one that never answers: timed out');
like(member($d, 'other')->{error}, qr/^another cluster: system identifier \d+, not ours$/,
	'... one of another cluster: foreign, its system identifier named');
like(member($d, 'bad')->{error}, qr/^not host:port/, '... an address that is not one: unresolved, and said so');
is(member($d, 'alias')->{same_as}, 'a', '... a second name for a (localhost): the same server, said so (same_as a), not a second primary');
# eleven members listed (nine without host names), alias and bee two names
# of servers already listed: counted once
my $servers = @named ? 9 : 8;
like($d->{detail}, qr/; 3 of $servers member\(s\) reachable/,
	"... the detail counts each server once: 3 of $servers reachable");
SKIP:
{
	skip 'no host names from the harness (failed above)', 4 unless @named;
	my $bee = member($d, 'bee');
	is("$bee->{state} $bee->{resolved_address} $bee->{node_name} $bee->{role} $bee->{same_as}",
		'up 127.0.0.1 b standby b',
		'... a host name (pg-health-b.test): resolved to 127.0.0.1 and polled: b, a standby, the same server as b');
	my $mute = member($d, 'mute');
	is($mute->{state}, 'unresolved', '... a name the resolver never answers for: unresolved');
	like($mute->{error}, qr/^resolving no-answer\.pg-health\.test: the resolver has not answered for \d+ s$/,
		'... saying for how long the resolver has not answered');
	is($na->safe_psql('postgres', q{SELECT state || ' ' || (error ~ '^resolving .*: the resolver has not answered')
		FROM health.cluster WHERE name = 'mute'}), 'unresolved true', '... in health.cluster too');
}
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
# (a's poller still has mute's resolution in flight, the resolver silent: it
# must not hold up the shutdown)
my $t_stop = time;
$na->stop('fast');
cmp_ok(time - $t_stop, '<', 10, sprintf('a stops at once (%.1f s), a resolution still in flight', time - $t_stop));
$t = all_agree([qw(b c)], sub {
	my ($st, $d) = @_;
	return $st == 503 && ($d->{detail} // '') =~ /^no primary: writes fail; the most advanced standby is [bc] /;
}, 10);
ok(defined $t, 'a stopped: b and c say "no primary", naming the most advanced standby; /cluster 503');
($st, $d) = cluster('b');
like($d->{detail}, qr/a unreachable/, '... and a unreachable');
is($nb->safe_psql('postgres', q{SELECT count(*) > 0 FROM health.events
	WHERE changes @> '[{"check": "cluster", "new": "critical"}]' AND reasons ~ 'no primary'}), 't',
	'... an event on b: the cluster check critical, "no primary" in its reasons (and so a LOG line and a NOTIFY)');
$na->start;
$t = all_agree([qw(a b c)], sub { my ($st, $d) = @_; return $st == 200 && ($d->{primary} // '') eq 'a' }, 15);
ok(defined $t, 'a started again: one primary everywhere');
# a's poller starts beside its HTTP worker: its first round waits for its
# own endpoint, or a, a member of its own list, would read itself
# unreachable and its cluster as without a primary, once on every start
is($na->safe_psql('postgres', q{SELECT count(*) FROM health.events
	WHERE occurred_at >= pg_postmaster_start_time() AND (reasons ~ '\ma unreachable' OR reasons ~ 'no primary')}), '0',
	'... and a never said, since its start, that it was itself unreachable, nor that there was no primary');

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

# --- This node's own endpoint cannot listen: the wait for it ends -------------
# e's HTTP port is held by another program that never answers: e's HTTP
# worker cannot bind it on its one address, and e's first round, after
# waiting for its own endpoint for at most 5 s, reports e unreachable as it
# is.  (Listening on another address, ::1 of localhost, it would not wait.)
my $eport = PostgreSQL::Test::Cluster::get_free_port();
my $squatter = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $eport, Listen => 1, ReuseAddr => 1)
  or die "listen on $eport: $!";
my $ne = PostgreSQL::Test::Cluster->new('e');
$ne->init;
$ne->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_health'
pg_health.sample_interval = 100ms
pg_health.http_port = $eport
pg_health.http_listen_addresses = '127.0.0.1'
pg_health.cluster_name = 'e'
pg_health.cluster_members = 'e=127.0.0.1:$eport'
pg_health.cluster_interval = 200ms
pg_health.cluster_timeout = 300ms
});
$ne->start;
my $t_e = time;
$ne->safe_psql('postgres', 'CREATE EXTENSION pg_health');
my ($e_detail, $e_first);
while (time - $t_e < 30)
{
	$e_detail = $ne->safe_psql('postgres', q{SELECT detail FROM health.checks WHERE name = 'cluster'});
	$e_first //= $e_detail;
	last if $e_detail =~ /e unreachable/;
	usleep(100_000);
}
is($e_first, '1 member(s), not polled yet', 'e\'s own endpoint not listening: its poller waits for it (not polled yet)');
like($e_detail, qr/^no primary: writes fail; 0 of 1 member\(s\) reachable.*; e unreachable for \d+ s \(/,
	'e\'s own port held by another program: e reports itself unreachable, after the wait for its endpoint');
note(sprintf('e: unreachable reported %.1f s after its start (the wait ends at 5 s)', time - $t_e));
like(slurp_file($ne->logfile), qr/pg_health: could not listen for HTTP on /, '... and its HTTP worker logged the bind failure');
$ne->stop;
close $squatter;
done_testing();
