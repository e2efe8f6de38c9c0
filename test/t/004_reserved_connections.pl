# reserved_connections (PostgreSQL 16+): slots kept for members of
# pg_use_reserved_connections, on top of superuser_reserved_connections.
# pg_health counts them on 16+ and reports them as absent (NULL) before.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use PgHealthTest;

my $node = PostgreSQL::Test::Cluster->new('reserved');
$node->init;
my $has_reserved = $node->pg_version >= 16;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_health'
pg_health.sample_interval = 100ms
max_connections = 20
superuser_reserved_connections = 2
});
$node->append_conf('postgresql.conf', 'reserved_connections = 3') if $has_reserved;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION pg_health; CREATE EXTENSION dblink; CREATE ROLE app LOGIN;');

if (!$has_reserved)
{
	$node->safe_psql('postgres', 'SELECT health.refresh()');
	is($node->safe_psql('postgres',
			'SELECT reserved_connections IS NULL, available_to_reserved_roles IS NULL, usable_slots FROM health.connections'),
		't|t|18', 'before 16: reserved_connections reported as absent, usable = 20 - 2');
	is($node->safe_psql('postgres', q{SELECT health.report()->'connections'->'reserved_connections'}),
		'null', '... and null in the report');
	$node->stop('fast');
	done_testing();
	exit;
}

$node->safe_psql('postgres', 'CREATE ROLE ops LOGIN; GRANT pg_use_reserved_connections TO ops;');
my $holder = $node->background_psql('postgres');
my ($opened, $refused) = fill_slots($node, $holder, 'app');
# 20 slots - 2 superuser - 3 reserved - the holder's session = 14
is($opened, '14', 'role app got max_connections - superuser_reserved - reserved - 1 connections');
like($refused,
	qr/reserved for roles with privileges of the "pg_use_reserved_connections" role/,
	'the next one was refused for the reserved_connections slots');

# (the refused connection's backend holds its slot until it has exited)
is(refreshed_until($holder, q{
	SELECT concat_ws(',', superuser_reserved_connections, reserved_connections, usable_slots,
	                 slots_used, slots_free, available_to_ordinary_roles, available_to_reserved_roles)
	  FROM health.connections}, '2,3,15,15,5,0,3'),
	'2,3,15,15,5,0,3', 'slot arithmetic counts reserved_connections');
like($holder->query_safe("SELECT status || ': ' || detail FROM health.checks WHERE name = 'connections'"),
	qr/^critical: no connection slot left for ordinary roles: 15 of 15 usable slots in use \(5 more reserved/,
	'connections critical for ordinary roles');

# A pg_use_reserved_connections member still gets in, and is counted.
my $ops = $node->background_psql('postgres', extra_params => [ '-U', 'ops' ]);
is($ops->query_safe('SELECT current_user'), 'ops', 'a pg_use_reserved_connections member connects');
$holder->query_safe('SELECT health.refresh()');
is($holder->query_safe('SELECT concat_ws(\',\', slots_free, available_to_reserved_roles) FROM health.connections'),
	'4,2', 'its slot comes out of the reserved ones');
$ops->quit;
$holder->quit;

$node->stop('fast');
done_testing();
