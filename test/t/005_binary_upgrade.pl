# Under binary upgrade (pg_upgrade starts servers with -b) pg_health
# registers nothing: no sampler runs, and the SQL answers as without preload.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

# command lines of the postmaster's children
sub children_of
{
	my ($node) = @_;
	my ($postmaster) = slurp_file($node->data_dir . '/postmaster.pid') =~ /^(\d+)/;
	return scalar `ps -o args= --ppid $postmaster`;
}

my $node = PostgreSQL::Test::Cluster->new('upgrade');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'pg_health'");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION pg_health');
ok($node->poll_query_until('postgres', 'SELECT health.live()'), 'sampler runs normally');
like(children_of($node), qr/pg_health sampler/, '... as a child of the postmaster');
$node->stop('fast');

# PostgreSQL::Test::Cluster::start() takes no server options on every
# version, so start it as pg_upgrade does, with pg_ctl -o -b.
system_or_bail('pg_ctl', '-w', '-D', $node->data_dir, '-l', $node->logfile,
	'-o', '-b', 'start');
is($node->safe_psql('postgres', 'SHOW shared_preload_libraries'), 'pg_health', 'library preloaded');
unlike(children_of($node), qr/pg_health/, 'no pg_health process under binary upgrade');
is($node->safe_psql('postgres', 'SELECT health.live(), health.ready()'), 'f|f',
	'live() and ready() answer false');
my ($ret, $out, $err) = $node->psql('postgres', 'SELECT * FROM health.status');
like($err, qr/pg_health must be loaded via "shared_preload_libraries"/, 'other entry points say why');
system_or_bail('pg_ctl', '-w', '-D', $node->data_dir, '-m', 'fast', 'stop');

done_testing();
