# The endpoint with the real programs users point at it:
#  - exactly what the kubelet sends (GET with Host, User-Agent: kube-probe/1.30,
#    Accept: */*, Connection: close) to every path of the probe configuration
#    the README documents: 200, and the connection closed;
#  - the default pg_health.http_listen_addresses = 'localhost' answers on
#    127.0.0.1 and on ::1, whatever /etc/hosts says of the name;
#  - /metrics and /health gzip-encoded for a client that accepts it;
#  - a real Prometheus server (Debian's), with the scrape configuration of
#    docs/http.md (its interval shortened), scrapes the endpoint (asking for
#    gzip, as it does): the target is up and pg_health's series are stored.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use IO::Socket::IP;
use JSON::PP;
use HTTP::Tiny;
use Time::HiRes qw(time usleep);
use File::Basename qw(dirname);
use PgHealthTest;

my $root = dirname(__FILE__) . '/../..';
my ($prometheus) = grep { -x $_ } ('/usr/bin/prometheus');
die 'prometheus is not installed (scripts/lib.sh installs it: apt-get install prometheus)'
  unless $prometheus;

my $port = PostgreSQL::Test::Cluster::get_free_port();
my $node = PostgreSQL::Test::Cluster->new('ecosystem');
$node->init(allows_streaming => 1);	# wal_level replica: slots
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_health'
pg_health.sample_interval = 100ms
pg_health.http_port = $port
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION pg_health');
$node->poll_query_until('postgres', 'SELECT health.ready()') or die 'not ready';

# One request as the kubelet sends it, to $addr; returns (status line, all
# the bytes, whether the server closed the connection after the answer).
sub kubelet
{
	my ($addr, $path) = @_;
	my $s = IO::Socket::IP->new(PeerHost => $addr, PeerPort => $port, Timeout => 5)
	  or return ('', '', 0);
	my $host = $addr =~ /:/ ? "[$addr]:$port" : "$addr:$port";
	print $s "GET $path HTTP/1.1\r\nHost: $host\r\nUser-Agent: kube-probe/1.30\r\n"
	  . "Accept: */*\r\nConnection: close\r\n\r\n";
	my $all = '';
	my $t0 = time;
	$s->blocking(0);
	my $closed = 0;
	while (time - $t0 < 5)
	{
		my $n = sysread($s, my $buf, 65536);
		if (defined $n && $n == 0) { $closed = 1; last; }
		$all .= $buf if $n;
		usleep(10_000) unless $n;
	}
	my ($status) = $all =~ /^(HTTP\/1\.1 \d+[^\r]*)\r\n/;
	return ($status // '', $all, $closed);
}

# The probe configuration the README documents: its httpGet paths
my $readme = slurp_file("$root/README.md");
my @paths = $readme =~ /httpGet: \{ path: (\/\w+), port: 8008 \}/g;
is(join(' ', @paths), '/startup /live /ready', "the README's probes: startup, liveness, readiness");
for my $path (@paths)
{
	my ($status, $all, $closed) = kubelet('127.0.0.1', $path);
	is($status, 'HTTP/1.1 200 OK', "kubelet's request to $path: 200");
	like($all, qr/\r\nConnection: close\r\n/i, '... answered with Connection: close');
	ok($closed, '... and the connection closed after the answer');
}

# the metrics users expect: the build, each check's figure under its unit
my (undef, undef, $metrics) = http_get($port, '/metrics');
my ($control_version) = slurp_file("$root/pg_health.control") =~ /^default_version\s*=\s*'([^']+)'/m;
my $pg_version = $node->safe_psql('postgres', 'SHOW server_version');
like($metrics, qr/^pg_health_build_info\{version="\Q$control_version\E",pg_version="\Q$pg_version\E"\} 1$/m,
	'pg_health_build_info names the library and the running server');
like($metrics, qr/^pg_health_check_value_seconds\{check="sampler"\} 0\.\d+$/m,
	"the sampler check's age in seconds");
like($metrics, qr/^pg_health_check_value_ratio\{check="connections"\} 0(\.\d+)?$/m,
	"the connections check's share as a ratio");
unlike($metrics, qr/^pg_health_check_value\{check="(sampler|connections)"\}/m,
	'... and no longer in the unitless family');
{
	my $bg = $node->background_psql('postgres');
	$bg->query_safe('SELECT 1');
	# the names worker names the database within a pass of its own: a
	# server started moments ago may not have had it yet
	my $deadline = time + 10;
	do
	{
		$node->safe_psql('postgres', 'SELECT health.refresh()');
		(undef, undef, $metrics) = http_get($port, '/metrics');
	} while ($metrics !~ /^pg_health_database_sessions\{database="postgres",state="idle"\} [1-9]/m
		&& time < $deadline);
	like($metrics, qr/^pg_health_database_sessions\{database="postgres",state="idle"\} [1-9]\d*$/m,
		'sessions per database and state');
	like($metrics, qr/^pg_health_database_sessions\{database="postgres",state="active"\} \d+$/m,
		'... every state of it');
	$bg->quit;
}
# waits for heavyweight locks, by the mode asked for: a reader behind an
# ACCESS EXCLUSIVE lock waits for AccessShareLock, a second writer of a row
# for ShareLock on the first's transaction
{
	$node->safe_psql('postgres', 'CREATE TABLE locked (id int PRIMARY KEY, v int); INSERT INTO locked VALUES (1, 0); CREATE TABLE other (i int)');
	my $holder = $node->background_psql('postgres');
	$holder->query_safe('BEGIN; UPDATE locked SET v = 1 WHERE id = 1');
	my $writer = $node->background_psql('postgres');
	$writer->query_until(qr/started/, "\\echo started\nUPDATE locked SET v = 2 WHERE id = 1;\n");
	my $holder2 = $node->background_psql('postgres');
	$holder2->query_safe('BEGIN; LOCK TABLE other IN ACCESS EXCLUSIVE MODE');
	my $reader = $node->background_psql('postgres');
	$reader->query_until(qr/started/, "\\echo started\nSELECT count(*) FROM other;\n");
	my $t0 = time;
	while (time - $t0 < 30)
	{
		(undef, undef, $metrics) = http_get($port, '/metrics');
		last if $metrics =~ /^pg_health_lock_waits\{mode="ShareLock"\} 1$/m
		  && $metrics =~ /^pg_health_lock_waits\{mode="AccessShareLock"\} 1$/m;
		usleep(100_000);
	}
	like($metrics, qr/^pg_health_lock_waits\{mode="ShareLock"\} 1$/m,
		'a writer behind another: 1 lock wait in ShareLock (its transaction)');
	like($metrics, qr/^pg_health_lock_waits\{mode="AccessShareLock"\} 1$/m,
		'a reader behind LOCK TABLE: 1 in AccessShareLock');
	like($metrics, qr/^pg_health_lock_waits\{mode="AccessExclusiveLock"\} 0$/m,
		'... every mode a series, 0 when none waits');
	my @modes = $metrics =~ /^pg_health_lock_waits\{mode="(\w+)"\} \d+$/mg;
	is(scalar @modes, 8, '... the 8 modes of pg_locks');
	my $health = decode_json((http_get($port, '/health'))[2]);
	is($health->{connections}{lock_waits_share}, 1, "... the report's lock_waits_share");
	$holder->query_safe('COMMIT');
	$holder2->query_safe('COMMIT');
	$_->quit for ($writer, $reader, $holder, $holder2);
}

# the slots that retain the most WAL, bounded
$node->safe_psql('postgres', q{
	SELECT pg_create_physical_replication_slot('s' || i, true) FROM generate_series(1, 7) AS i;
	SELECT pg_switch_wal(); CHECKPOINT; SELECT health.refresh();
});
(undef, undef, $metrics) = http_get($port, '/metrics');
my @slots = $metrics =~ /^pg_health_slot_retained_bytes\{slot="(s\d)"\} \d+$/mg;
is(scalar @slots, 5, 'the 5 slots that retain the most WAL, no more (of 7)');
my @idle_slots = $metrics =~ /^pg_health_slot_active\{slot="(s\d)"\} 0$/mg;
is(join(',', sort @idle_slots), join(',', sort @slots), '... each with whether a consumer uses it');
$node->safe_psql('postgres', q{SELECT pg_drop_replication_slot('s' || i) FROM generate_series(1, 7) AS i});

# gzip for clients that accept it (Prometheus does)
{
	require IO::Uncompress::Gunzip;
	my ($code, $head, $zbody) = http_raw($port,
		"GET /metrics HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip, deflate\r\n\r\n");
	is($code, 200, '/metrics with Accept-Encoding: gzip');
	like($head, qr/\r\nContent-Encoding: gzip\r\n/, '... answers gzip-encoded');
	like($head, qr/\r\nVary: Accept-Encoding\r\n/, '... saying it varies with Accept-Encoding');
	my ($length) = $head =~ /\r\nContent-Length: (\d+)\r\n/;
	is($length, length($zbody), '... with the encoded length');
	my $plain;
	IO::Uncompress::Gunzip::gunzip(\$zbody => \$plain) or diag($IO::Uncompress::Gunzip::GunzipError);
	like($plain // '', qr/^# HELP pg_health_build_info .*\n# TYPE pg_health_build_info gauge\n/s,
		'... and decodes to the metrics');
	note(sprintf('/metrics: %d bytes, %d gzipped', length($plain // ''), length($zbody)));
	cmp_ok(length($zbody), '<', length($plain // '') / 3, '... at less than a third of the size');
	($code, $head) = http_raw($port,
		"GET /metrics HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip;q=0, identity\r\n\r\n");
	unlike($head, qr/Content-Encoding/, 'gzip;q=0 refuses it: plain');
	($code, $head) = http_raw($port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
	unlike($head, qr/Content-Encoding/, 'no Accept-Encoding: plain');
	($code, $head) = http_raw($port, "GET /ready HTTP/1.1\r\nHost: x\r\nAccept-Encoding: x-gzip\r\n\r\n");
	unlike($head, qr/Content-Encoding/, "a probe's short answer goes as it is");
	($code, $head) = http_raw($port, "GET /health HTTP/1.1\r\nHost: x\r\nAccept-Encoding: x-gzip\r\n\r\n");
	like($head, qr/\r\nContent-Encoding: gzip\r\n/, 'x-gzip counts as gzip (the report)');
	my $curl = `curl -s --compressed http://127.0.0.1:$port/health`;
	like($curl, qr/"checks": \[\{"name": "sampler"/, 'curl --compressed reads /health');
}

# localhost is both loopback addresses
my ($status) = kubelet('::1', '/live');
is($status, 'HTTP/1.1 200 OK', "the default listen address 'localhost' answers on ::1");
($status) = kubelet('127.0.0.1', '/live');
is($status, 'HTTP/1.1 200 OK', '... and on 127.0.0.1');
unlike(slurp_file($node->logfile), qr/pg_health: could not listen/, '... with no failure logged');

# A real Prometheus with docs/http.md's scrape configuration
my $http_md = slurp_file("$root/docs/http.md");
my ($scrape) = $http_md =~ /## Prometheus\n\n(?:<!--.*?-->\n)?```yaml\n(.*?)```/s;
ok($scrape, "docs/http.md has a scrape configuration");
$scrape =~ s/scrape_interval: 15s/scrape_interval: 1s/;
$scrape =~ s/targets: \[[^\]]*\]/targets: ['127.0.0.1:$port']/;
my $dir = PostgreSQL::Test::Utils::tempdir();
open my $fh, '>', "$dir/prometheus.yml" or die $!;
print $fh $scrape;
close $fh;
my $pport = PostgreSQL::Test::Cluster::get_free_port();
my $prom = IPC::Run::start(
	[ $prometheus, "--config.file=$dir/prometheus.yml", "--storage.tsdb.path=$dir/data",
	  "--web.listen-address=127.0.0.1:$pport" ],
	'>', "$dir/prometheus.out", '2>', "$dir/prometheus.err");

my $ua = HTTP::Tiny->new(timeout => 5);
my $api = sub {
	my ($path) = @_;
	my $r = $ua->get("http://127.0.0.1:$pport$path");
	return $r->{status} == 200 ? eval { decode_json($r->{content}) } : undef;
};
my ($target, $ready);
my $t0 = time;
while (time - $t0 < 60)
{
	my $t = $api->('/api/v1/targets');
	($target) = grep { $_->{labels}{job} eq 'pg_health' } @{ $t->{data}{activeTargets} // [] } if $t;
	my $q = $api->('/api/v1/query?query=pg_health_samples_total');
	my $n = $q ? scalar @{ $q->{data}{result} // [] } : 0;
	last if $target && $target->{health} eq 'up' && $n > 0
	  && ($ready = $api->('/api/v1/query?query=count_over_time(pg_health_ready%7Brole%3D%22any%22%7D%5B1m%5D)'))
	  && @{ $ready->{data}{result} } && $ready->{data}{result}[0]{value}[1] >= 2;
	usleep(250_000);
}
is($target && $target->{health}, 'up', 'Prometheus scrapes the endpoint: the target is up')
  or diag(slurp_file("$dir/prometheus.err"));
cmp_ok($ready ? $ready->{data}{result}[0]{value}[1] : 0, '>=', 2,
	'... two scrapes of pg_health_ready stored');
my $q = $api->('/api/v1/query?query=pg_health_ready%7Brole%3D%22any%22%7D');
is($q && $q->{data}{result}[0]{value}[1], '1', '... and the stored verdict is ready');
is($target && $target->{lastError}, '', '... with no scrape error');

$prom->kill_kill;
$node->stop;
done_testing();
