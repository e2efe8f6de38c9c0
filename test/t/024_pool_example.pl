# examples/pool_service.py against a real server: a service with its own
# psycopg_pool, which it reports with health.report_pool().  Under a load
# its pool of 2 cannot serve, requests wait; once the longest wait passes the
# component's pool_max_wait (1 s) its check is critical and the service's
# own /health/ready answers 503 naming it; when the load is gone, 200.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use HTTP::Tiny;
use JSON::PP;
use IPC::Run qw(start);
use Time::HiRes qw(time usleep);
use File::Basename qw(dirname);

my $service_py = dirname(__FILE__) . '/../../examples/pool_service.py';
my $python = '/usr/bin/python3';
# not a skip: scripts/test installs them, and a test that silently skips cannot fail
die "Debian's python3 with psycopg 3 and psycopg_pool is needed (python3-psycopg, python3-psycopg-pool; scripts/test installs them)\n"
  unless system($python, '-c', 'import psycopg, psycopg_pool') == 0;

my $node = PostgreSQL::Test::Cluster->new('pool_example');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_health'
pg_health.sample_interval = 100ms
});
$node->start;
# the database side exactly as the docs give it: examples/pool_service.sql
my $setup = dirname(__FILE__) . '/../../examples/pool_service.sql';
my ($sout, $serr) = ('', '');
IPC::Run::run([ 'psql', '-X', '-q', '-d', $node->connstr('postgres'), '-v', 'max_wait=1s', '-f', $setup ],
	'>', \$sout, '2>', \$serr)
  or die "examples/pool_service.sql failed: $serr";

my $port = PostgreSQL::Test::Cluster::get_free_port();
my ($out, $err) = ('', '');
my $svc = start(
	[
		$python, $service_py,
		'--dsn', 'host=' . $node->host . ' port=' . $node->port . ' dbname=postgres user=shop_svc',
		'--component', 'shop', '--port', $port, '--max-size', '2', '--report-interval', '0.2'
	],
	'>', \$out, '2>', \$err);

my $http = HTTP::Tiny->new(timeout => 30);
sub ready_route
{
	# /health: the whole report (with its checks and components), with the
	# status /health/ready answers
	my $r = $http->get("http://127.0.0.1:$port/health");
	my $body = eval { decode_json($r->{content}) } // {};
	return ($r->{status}, $body);
}
sub shop_check
{
	my ($body) = @_;
	my ($c) = grep { $_->{name} eq 'component:shop' } @{ $body->{checks} // [] };
	return $c // {};
}
sub wait_route
{
	my ($want, $seconds) = @_;
	my ($status, $body);
	my $t0 = time;
	while (time - $t0 < $seconds)
	{
		($status, $body) = ready_route();
		return ($status, $body) if $status == $want;
		usleep(100_000);
	}
	return ($status, $body);
}

my ($status, $body) = wait_route(200, 20);
is($status, 200, 'the service is up and ready');
my ($comp) = grep { $_->{name} eq 'shop' } @{ $body->{components} // [] };
is($comp->{pool_max_size}, 2, 'its pool is reported: max_size 2');
is($comp->{pool_waiting}, 0, '... no one waiting');

# 8 requests holding a connection for 1.5 s each, on a pool of 2
my @load;
for (1 .. 8)
{
	push @load, start([ 'curl', '-s', '-o', '/dev/null', "http://127.0.0.1:$port/work?seconds=1.5" ]);
}
($status, $body) = wait_route(503, 15);
is($status, 503, 'under load: /health/ready 503');
like(shop_check($body)->{detail},
	qr/its own pool: 2 in use, 0 idle, \d+ waiting, max 2, the longest wait \d+\.\d s, longer than its pool_max_wait \(1\.0 s\)/,
	'... the component critical: requests wait longer than its pool_max_wait');
is(shop_check($body)->{status}, 'critical', '... critical');
my $metrics_like = $node->safe_psql('postgres',
	q{SELECT pool_in_use || ' ' || (pool_waiting > 0) FROM health.components WHERE name = 'shop'});
like($metrics_like, qr/^2 (true|false)$/, 'health.components shows its pool');

$_->finish for @load;
($status, $body) = wait_route(200, 15);
is($status, 200, 'the load gone: 200 again');
is(shop_check($body)->{status}, 'ok', '... the component ok');
is($http->get("http://127.0.0.1:$port/health/ready")->{status}, 200, '... and /health/ready 200');

$svc->signal('TERM');
$svc->finish;
like($err, qr/pool_service: shop ready, pool max_size 2/, 'the service logged its start');
$node->stop;
done_testing();
