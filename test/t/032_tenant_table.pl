# No role can take another tenant's probe down (issue 26, item 1).  The
# per-tenant question (/ready?user=&database=, health.ready(for_user,
# for_database)) remembers the pairs it is asked about in a bounded table in
# shared memory.  In 1.1 any login role could fill it from SQL and a victim
# pair's HTTP probe then answered 503 "asked_table_full".  Here the attacks
# that did it are run for real against a preloaded server, with the victim
# probed over HTTP all along:
#
#  - quiet: one session of a role with no grants re-asks every (role,
#    database) pair that exists (more pairs than the table has room for),
#    round after round;
#  - flood: 20 sessions with statement_timeout = 1 ms ask about made-up names
#    as fast as they can, from that role and then from a pg_monitor role.
#
# The victim's probe must answer 200 in at least 99% of the requests during
# each attack; a pair first asked during an attack (over HTTP, from SQL) is
# answered within a pass; a component's admission stays known; the
# attacker holds no more than its share (health.asked_pairs); the workers'
# memory stays flat.  The attacks are test/helpers/ask_flood.py (psycopg2).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);
use IPC::Run;
use FindBin;
use PgHealthTest;

my $python = '/usr/bin/python3';
my $flood = "$FindBin::RealBin/../helpers/ask_flood.py";
my $hport = PostgreSQL::Test::Cluster::get_free_port();
my $node = PostgreSQL::Test::Cluster->new('tenant_table');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_health'
pg_health.sample_interval = 100ms
pg_health.http_port = $hport
max_connections = 60
});
$node->start;
sub q1 { return $node->safe_psql('postgres', $_[0]); }

# 22 roles and 5 databases of our own: with the built-in roles, many more
# (role, database) pairs exist than the table has entries
q1(join "\n", 'CREATE EXTENSION pg_health;',
	(map { "CREATE ROLE tenant$_ LOGIN;" } 1 .. 22),
	'CREATE ROLE mallory LOGIN;',
	'CREATE ROLE watcher LOGIN IN ROLE pg_monitor;',
	'CREATE ROLE victim_http LOGIN; CREATE ROLE victim_new LOGIN; CREATE ROLE victim_sql LOGIN; CREATE ROLE victim_comp LOGIN;');
$node->safe_psql('postgres', "CREATE DATABASE $_") for qw(db1 db2 db3 db4 victimdb);
ok($node->poll_query_until('postgres', 'SELECT health.started()'), 'started');
my $pairs = q1(q{SELECT (SELECT count(*) + 1 FROM pg_roles) * (SELECT count(*) + 1 FROM pg_database) - 1});
cmp_ok($pairs, '>', 320, "$pairs (role, database) pairs can be asked about: more than the table holds (320)");

# a component that names the role and database it connects with: the
# sampler asks about its pair every sample
q1(q{SELECT health.configure_component('comp', for_user => 'victim_comp', for_database => 'victimdb');
	 SELECT health.set_component_state('comp', 'ready')});
ok($node->poll_query_until('postgres', q{SELECT admission = 'yes' FROM health.components WHERE name = 'comp'}),
	"the component's admission is known: yes");

# the victim's pair, probed over HTTP as a readiness probe would
my $victim = '/ready?user=victim_http&database=victimdb';
my ($code) = poll_http($hport, $victim, 200, 10);
is($code, 200, 'the victim pair answers 200 before any attack');

my ($http_pid) = worker_pids($node, 'pg_health http');
my ($names_pid) = worker_pids($node, 'pg_health names');
my %rss0 = (http => rss_anon_kb($http_pid), names => rss_anon_kb($names_pid));

# Probe $path every $gap seconds while the harness runs (at most $max
# seconds); returns (answers, 200s, p50 ms, p99 ms, statuses seen).
sub probe_while
{
	my ($h, $path, $gap, $max) = @_;
	my (@ms, %seen);
	my $ok = 0;
	my $end = time + $max;
	while ($h->pumpable && time < $end)
	{
		my ($status, undef, $body, $secs) = http_get($hport, $path);
		push @ms, $secs * 1000;
		if ($status == 200) { $ok++ }
		else
		{
			my ($reason) = $body =~ /"reason":"([a-z_]+)"/;
			$seen{"$status " . ($reason // '')}++;
		}
		usleep($gap * 1e6);
		$h->pump_nb;
	}
	@ms = sort { $a <=> $b } @ms;
	my $pct = sub { @ms ? sprintf('%.1f', $ms[ int($_[0] * $#ms) ]) : 'n/a' };
	return (scalar(@ms), $ok, $pct->(0.5), $pct->(0.99), join(', ', map { "$_ x$seen{$_}" } sort keys %seen));
}

sub start_attack
{
	my ($mode, $user, $seconds, $arg) = @_;
	my $conninfo = 'host=' . $node->host . ' port=' . $node->port . " dbname=postgres user=$user";
	my ($out, $err) = ('', '');
	my $h = IPC::Run::start([ $python, $flood, $mode, $conninfo, $seconds, $arg ],
		'<', \undef, '>', \$out, '2>', \$err);
	return ($h, \$out, \$err);
}

sub owned_by
{
	my ($who) = @_;
	return q1(qq{SELECT count(*) FROM health.asked_pairs WHERE asked_by = '$who'});
}

# --- The quiet attack: hold as many pairs that exist as possible ------------
{
	my ($h, $out, $err) = start_attack('quiet', 'mallory', 24, 2);
	# let it go round once: every pair asked
	usleep(6e6);
	cmp_ok(owned_by('mallory'), '<=', 16, 'the attacker holds at most its own share (16 pairs) of the table');
	cmp_ok(owned_by('mallory'), '>=', 10, '... and it did fill it (' . owned_by('mallory') . ' pairs)');

	# a pair first asked during the attack, over HTTP and from SQL
	my $t0 = time;
	($code) = poll_http($hport, '/ready?user=victim_new&database=victimdb', 200, 5);
	my $took = time - $t0;
	is($code, 200, sprintf('during the quiet attack a new HTTP pair is answered 200 (after %.2f s)', $took));
	cmp_ok($took, '<', 2, '... within a pass or two of the names worker');
	is($node->safe_psql('postgres', q{SELECT health.ready(for_user => 'victim_sql', for_database => 'victimdb')},
			extra_params => [ '-U', 'watcher' ]),
		't', '... and a pg_monitor caller asking about a new pair gets true');

	my ($n, $ok, $p50, $p99, $seen) = probe_while($h, $victim, 0.1, 30);
	$h->finish;
	diag("quiet attack: $$out; victim probes $ok/$n 200, p50 $p50 ms, p99 $p99 ms; others: $seen");
	like($$out, qr/^calls=\d+ /, 'the quiet attack ran') or diag($$err);
	cmp_ok($n, '>=', 50, "the victim was probed $n times during the quiet attack");
	cmp_ok($ok / $n, '>=', 0.99, "quiet attack: the victim pair answered 200 in $ok of $n probes (>= 99%)");
	is(q1(q{SELECT admission FROM health.components WHERE name = 'comp'}), 'yes',
		"... and the component's admission stayed known");
}

# --- The floods: made-up names as fast as 20 sessions can ask ---------------
for my $who ('mallory', 'watcher')
{
	my ($h, $out, $err) = start_attack('flood', $who, 12, 20);
	usleep(1e6);
	my ($n, $ok, $p50, $p99, $seen) = probe_while($h, $victim, 0.05, 30);
	my ($plain_n, $plain_ok, $plain_p50) = (0, 0, 'n/a');
	$h->finish;
	my ($calls) = $$out =~ /calls=(\d+)/;
	diag("flood from $who: $$out; victim probes $ok/$n 200, p50 $p50 ms, p99 $p99 ms; others: $seen");
	ok(defined $calls && $calls > 1000, "the flood from $who asked " . ($calls // 0) . ' questions') or diag($$err);
	cmp_ok($n, '>=', 50, "the victim was probed $n times during the flood from $who");
	cmp_ok($ok / $n, '>=', 0.99, "flood from $who: the victim pair answered 200 in $ok of $n probes (>= 99%)");
	cmp_ok(owned_by($who), '<=', 16, "... and $who holds at most 16 pairs of the table");
	is(q1(q{SELECT admission FROM health.components WHERE name = 'comp'}), 'yes',
		"... and the component's admission stayed known");
	is($node->safe_psql('postgres', q{SELECT health.ready(for_user => 'victim_sql', for_database => 'victimdb')},
			extra_params => [ '-U', 'watcher' ]),
		't', '... and the pg_monitor caller\'s pair stayed true');
}

# --- Nobody pins another's share by asking about its pairs (the review) ----
# The HTTP share full of made-up names that a SQL role keeps asking about:
# its interest does not keep them in HTTP's share, so a new HTTP pair still
# finds room (a name that does not exist is the first to go).
my @made_up = map { "/ready?user=nobody$_&database=nowhere" } 1 .. 128;
http_get($hport, $_) for @made_up;
usleep(300_000);	# a names pass: they are known missing
my $keeper = $node->background_psql('postgres', extra_params => [ '-U', 'mallory' ]);
$keeper->query_safe(q{SELECT count(health.ready(for_user => 'nobody' || i, for_database => 'nowhere'))
	FROM generate_series(1, 128) i});
($code) = poll_http($hport, '/ready?user=tenant7&database=db2', 200, 5);
is($code, 200, 'made-up HTTP pairs a SQL role keeps asking about do not keep a new HTTP pair out');
# A role's own 16 pairs asked about over HTTP too: the role still makes room
# among its own for a 17th.
$keeper->query_safe(q{SELECT count(health.ready(for_user => 'tenant' || i, for_database => 'db3'))
	FROM generate_series(1, 16) i});
http_get($hport, "/ready?user=tenant$_&database=db3") for 1 .. 16;
is($keeper->query_safe(q{SELECT health.ready(for_user => 'tenant17', for_database => 'db3')}), 't',
	'a role whose 16 pairs others also ask about still gets a 17th answered');
cmp_ok(owned_by('mallory'), '<=', 16, '... and still holds at most 16');
$keeper->quit;

# who holds what: the victims' pairs are in the HTTP and component shares
# (victim_new was asked once, over a minute ago: its entry may have gone to
# a newer HTTP question since)
is(q1(q{SELECT string_agg(role || '@' || database || ' ' || asked_by || ' ' || lookup, ', ' ORDER BY role)
	FROM health.asked_pairs WHERE role IN ('victim_comp', 'victim_http', 'victim_sql')}),
	'victim_comp@victimdb component found, victim_http@victimdb http found, victim_sql@victimdb watcher found',
	'health.asked_pairs: each victim pair in its asker\'s share, found');

# memory: the table is fixed shared memory; the workers do not grow
my %grown = map { $_ => rss_anon_kb($_ eq 'http' ? $http_pid : $names_pid) - $rss0{$_} } qw(http names);
cmp_ok($grown{http}, '<', 512, "the HTTP worker grew $grown{http} kB through the attacks");
cmp_ok($grown{names}, '<', 1024, "the names worker grew $grown{names} kB through the attacks");
is(join(',', worker_pids($node, 'pg_health http'), worker_pids($node, 'pg_health names')), "$http_pid,$names_pid",
	'no worker restarted');

$node->stop;
done_testing();
