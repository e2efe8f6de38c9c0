# Without shared_preload_libraries: CREATE EXTENSION works, live() and
# ready() answer false, everything else fails with SQLSTATE 55000 and a hint.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('plain');
$node->init;
$node->start;

$node->safe_psql('postgres', 'CREATE EXTENSION pg_health');
is($node->safe_psql('postgres', "SELECT health.live(), health.ready(), health.ready('primary'), health.ready('replica')"),
	'f|f|f|f', 'live() and ready() answer false');

my ($ret, $out, $err) = $node->psql('postgres', "SELECT health.ready('master')");
like($err, qr/invalid role "master"/, 'a bad role is still an error');

for my $query ('SELECT health.started()', 'SELECT * FROM health.checks', 'SELECT health.report()',
	'SELECT health.refresh()', 'SELECT * FROM health.status', 'SELECT * FROM health.connections',
	'SELECT * FROM health.history', 'SELECT * FROM health.events')
{
	($ret, $out, $err) = $node->psql('postgres', "\\set VERBOSITY verbose\n$query");
	isnt($ret, 0, "$query fails");
	like($err, qr/ERROR:  55000: pg_health must be loaded via "shared_preload_libraries"/,
		"$query: SQLSTATE 55000 and the reason");
	like($err, qr/HINT:  Add pg_health to shared_preload_libraries in postgresql.conf and restart the server\./,
		"$query: the hint says how");
}

$node->stop('fast');
done_testing();
