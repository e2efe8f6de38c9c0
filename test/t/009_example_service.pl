# examples/service.py against a real server: its /health/ready route is the
# database's verdict.  Before the service has reported ready: 503, naming the
# component; after: 200; once its heartbeat stops for longer than the TTL:
# 503 again, the component "lost".
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use HTTP::Tiny;
use JSON::PP;
use IPC::Run qw(start);
use Time::HiRes qw(usleep);
use File::Basename qw(dirname);

my $service_py = dirname(__FILE__) . '/../../examples/service.py';
# Debian's python3, which python3-psycopg2 (installed by scripts/lib.sh) serves
my $python = -x '/usr/bin/python3' ? '/usr/bin/python3' : 'python3';
# not a skip: scripts/test installs it, and a test that silently skips cannot fail
die "python3 with psycopg2 is needed (Debian: python3-psycopg2; scripts/test installs it)\n"
  unless system($python, '-c', 'import psycopg2') == 0;

my $node = PostgreSQL::Test::Cluster->new('service');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_health'
pg_health.sample_interval = 100ms
});
$node->start;
# the database side exactly as the docs give it: examples/service.sql (the
# role, configure_component, the grant, the requirement), with this test's names
my $setup = dirname(__FILE__) . '/../../examples/service.sql';
my ($sout, $serr) = ('', '');
IPC::Run::run([ 'psql', '-X', '-q', '-d', $node->connstr('postgres'), '-v', 'component=example',
		'-v', 'role=example_svc', '-v', 'ttl=2s', '-f', $setup ], '>', \$sout, '2>', \$serr)
  or die "examples/service.sql failed: $serr";
is($node->safe_psql('postgres', q{SELECT current_setting('pg_health.required_components')}),
	'example', 'examples/service.sql made the component required');

my $port = PostgreSQL::Test::Cluster::get_free_port();
my ($out, $err) = ('', '');
my $svc = start(
	[
		$python, $service_py,
		'--dsn', 'host=' . $node->host . ' port=' . $node->port . ' dbname=postgres user=example_svc',
		'--component', 'example', '--port', $port,
		'--startup-delay', '3', '--heartbeat-interval', '0.3'
	],
	'>', \$out, '2>', \$err);

my $http = HTTP::Tiny->new(timeout => 5);
sub ready_route
{
	# /health: the whole report (with its checks and components), with the
	# status /health/ready answers
	my $r = $http->get("http://127.0.0.1:$port/health");
	my $body = eval { decode_json($r->{content}) } // {};
	return ($r->{status}, $body);
}
sub wait_for
{
	my ($want) = @_;
	for (1 .. 150)
	{
		my ($status, $body) = ready_route();
		return ($status, $body) if $status == $want;
		usleep(100_000);
	}
	return ready_route();
}
sub component_check
{
	my ($body) = @_;
	my ($c) = grep { $_->{name} eq 'component:example' } @{ $body->{checks} // [] };
	return $c // {};
}

# Starting: the service answers, the database says not ready, and why.
my ($status, $body);
for (1 .. 100)
{
	($status, $body) = ready_route();
	last if $status == 503 && component_check($body)->{detail};
	usleep(100_000);
}
is($status, 503, 'before the service reports ready: 503');
like(component_check($body)->{detail},
	qr/^(required component "example" has not reported since the server started|component "example" is starting)/,
	'... and the body names the component as the reason');
is($body->{ready}, JSON::PP::false, '... with ready false in the report');

# Ready: 200, the same document as health.report().
($status, $body) = wait_for(200);
is($status, 200, 'once it reported ready: 200');
is($body->{status}, 'ready', '... status ready');
my ($comp) = grep { $_->{name} eq 'example' } @{ $body->{components} };
is($comp->{state}, 'ready', '... and the component is ready in the body');
is($http->get("http://127.0.0.1:$port/health/live")->{status}, 200, '/health/live answers');
is($http->get("http://127.0.0.1:$port/health/ready")->{status}, 200, '/health/ready answers 200 too');

# The heartbeat stops: after the 2 s TTL the component is lost, 503.
$svc->signal('USR1');
($status, $body) = wait_for(503);
is($status, 503, 'heartbeat stopped: 503 again');
like(component_check($body)->{detail}, qr/^component "example" is lost: no report or heartbeat for \d+ s \(TTL 2 s\)/,
	'... the component is lost');

$svc->signal('TERM');
$svc->finish;
like($err, qr/reported ready/, 'the service logged its report');
ok($node->poll_query_until('postgres', q{SELECT health.refresh() AND state = 'stopped'
                                         FROM health.components WHERE name = 'example'}),
	'on SIGTERM the service reports itself stopped');

$node->stop;
done_testing();
