# Role endpoints that follow the truth at once (issue 29, in part): a
# standby promoted while its sampler samples only every 5 s answers
# /primary 200 and /replica 503 within moments of the promotion, not at the
# next sample; health.ready('primary') agrees in the very session that
# promoted it; the check rows say the role was read now; and the next sample
# (which the readers asked for) comes well before the regular one.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use JSON::PP;
use Time::HiRes qw(time usleep);
use PgHealthTest;

my $pport = PostgreSQL::Test::Cluster::get_free_port();
my $sport = PostgreSQL::Test::Cluster::get_free_port();
my $conf = qq{
shared_preload_libraries = 'pg_health'
pg_health.sample_interval = 5s
pg_health.stale_after = 30s
};

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', "$conf\npg_health.http_port = $pport\npg_health.cluster_name = 'east'\n");
$primary->start;
$primary->safe_psql('postgres', 'CREATE EXTENSION pg_health');
my $standby = streaming_standby($primary, 'standby',
	"pg_health.http_port = $sport\npg_health.cluster_name = 'west'\n");

# GET /node: the identity document, read at request time
sub node_doc
{
	my ($port) = @_;
	my ($st, undef, $body) = http_get($port, '/node');
	my $d = eval { decode_json($body) };
	return ($st, $d, $body);
}
my ($nst, $pnode, $pbody) = node_doc($pport);
is($nst, 200, 'GET /node: 200');
is(join(',', sort keys %$pnode),
	'async_standbys,instance,lsn,name,now,pg_health_version,pg_version,ready,received_lsn,role,sampled_at,'
	  . 'standbys_cut,started,status,sync_standbys,system_identifier,timeline',
	'... with exactly its keys');
is($pnode->{name}, 'east', '... its name from pg_health.cluster_name');
is($pnode->{role}, 'primary', '... the primary says primary');
like($pnode->{system_identifier}, qr/^\d{15,20}$/, '... its system identifier, as a string');
is($pnode->{system_identifier}, $primary->safe_psql('postgres',
		'SELECT system_identifier::text FROM pg_control_system()'), '... the one pg_control_system() gives');
like($pnode->{lsn}, qr/^[0-9A-F]+\/[0-9A-F]+$/, '... its insert position as an LSN');

my ($st) = poll_http($sport, '/replica', 200, 30);
is($st, 200, 'the standby: /replica 200');
($st) = http_get($sport, '/primary');
is($st, 503, '... /primary 503');

# Patroni's paths (docs/http.md): the same meaning, and OPTIONS as Patroni
# answers it (HAProxy's "option httpchk OPTIONS /primary")
my %want = (
	'/read-write' => [ 200, 503 ], '/leader' => [ 200, 503 ], '/read-only' => [ 200, 200 ],
	'/read-only?lag=16MB' => [ 200, 200 ], '/liveness' => [ 200, 200 ], '/readiness' => [ 200, 200 ],
	'/primary' => [ 200, 503 ], '/replica' => [ 503, 200 ]);
for my $path (sort keys %want)
{
	is((http_get($pport, $path))[0], $want{$path}[0], "the primary: GET $path $want{$path}[0]");
	is((http_get($sport, $path))[0], $want{$path}[1], "the standby: GET $path $want{$path}[1]");
}
for my $case ([ $pport, '/primary', 200 ], [ $sport, '/primary', 503 ], [ $sport, '/replica', 200 ])
{
	my ($port, $path, $code) = @$case;
	my ($st, $head, $rest) = http_raw($port, "OPTIONS $path HTTP/1.1\r\nHost: x\r\n\r\n");
	is($st, $code, "OPTIONS $path on the " . ($port == $pport ? 'primary' : 'standby') . ": $code, as GET");
	is($rest // '', '', '... with no body');
	like($head, qr/^Content-Length: 0\r?$/m, '... and says so (Content-Length: 0)');
}
is((http_raw($pport, "OPTIONS /metrics HTTP/1.1\r\nHost: x\r\n\r\n"))[0], 405,
	'OPTIONS on a path that is no probe: 405');

my ($sst, $snode) = node_doc($sport);
is($snode->{role}, 'standby', 'the standby\'s /node: standby');
is($snode->{name}, 'west', '... its own name');
is($snode->{system_identifier}, $pnode->{system_identifier}, '... the same system identifier as its primary');
is($snode->{timeline}, $pnode->{timeline}, '... on the same timeline');
like($snode->{received_lsn}, qr/^[0-9A-F]+\/[0-9A-F]+$/, '... with the WAL it received');

# Promote, and wait for the promotion to complete in this very session:
# the role is read at request time, so the next question is answered by it.
my $generation = $standby->safe_psql('postgres', 'SELECT generation FROM health.status');
my $t0 = time;
is($standby->safe_psql('postgres',
		q{SELECT pg_promote(wait => true) AND health.ready('primary') AND NOT health.ready('replica')}),
	't', 'promoted: in the same statement, health.ready(\'primary\') true and health.ready(\'replica\') false');
my $t_promoted = time;
my ($st_primary) = http_get($sport, '/primary');
my $t_first = time;
my ($st_replica) = http_get($sport, '/replica');
my (undef, undef, $body) = http_get($sport, '/health?role=primary');
is($st_primary, 200, '/primary 200 at the first request after the promotion');
is($st_replica, 503, '/replica 503 at once');
my $since = $t_first - $t_promoted;
diag(sprintf('promotion done after %.3f s; /primary 200 %.3f s after it (sample interval 5 s)',
		$t_promoted - $t0, $since));
cmp_ok($since, '<', 0.5, '... within moments of the promotion, not at the next sample (5 s)');
my (undef, $promoted) = node_doc($sport);
is($promoted->{role}, 'primary', 'the promoted standby\'s /node says primary at once');
is($promoted->{timeline}, $snode->{timeline} + 1, '... on the next timeline');
# the rows say why: the role read now (the report for the role)
my $doc = eval { decode_json($body) } // {};
my ($role) = grep { $_->{name} eq 'role' } @{ $doc->{checks} // [] };
if (defined $role && $role->{detail} =~ /read now/)
{
	like($role->{detail}, qr/^server is a primary \(promoted since the last sample: read now\)$/,
		'the role check on /primary: a primary, promoted since the sample');
}
else
{
	# the nudged sample may already be in: then it is simply a primary
	like($role->{detail} // '', qr/^server is a primary/, 'the role check on /primary: a primary');
}

# The readers asked for a sample: it comes long before the regular one.
my $deadline = time + 4;
my $g = $generation;
while (time < $deadline)
{
	$g = $standby->safe_psql('postgres', q{SELECT generation FROM health.status WHERE NOT in_recovery});
	last if $g ne '' && $g > $generation;
	usleep(20_000);
}
ok($g ne '' && $g > $generation, 'a sample taken as a primary followed within 4 s (the interval is 5 s)');
is($standby->safe_psql('postgres', q{SELECT status FROM health.checks('primary') WHERE name = 'role'}),
	'ok', 'health.checks(\'primary\'): the role check ok');

$standby->stop;
$primary->stop;
done_testing();
