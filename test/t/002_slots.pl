# Fill every connection slot ordinary roles may use with real idle
# connections: the connections check goes critical and ready() false, while
# a superuser, in a reserved slot, still gets the answer.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use PgHealthTest;

my $node = PostgreSQL::Test::Cluster->new('slots');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_health'
pg_health.sample_interval = 100ms
max_connections = 20
superuser_reserved_connections = 3
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION pg_health; CREATE EXTENSION dblink; CREATE ROLE app LOGIN;');

# One superuser session holds the connections (through dblink), as role app.
my $holder = $node->background_psql('postgres');
my ($opened, $refused) = fill_slots($node, $holder, 'app');
# 20 slots - 3 reserved - the holder's own session = 16 for role app
is($opened, '16', 'role app got exactly max_connections - superuser_reserved - 1 connections');
like($refused,
	qr/remaining connection slots are reserved/, 'the 17th was refused for the reserved slots');

$holder->query_safe('SELECT health.refresh()');
is($holder->query_safe(q{
	SELECT concat_ws(',', max_connections, superuser_reserved_connections, usable_slots,
	                 slots_used, slots_free, available_to_ordinary_roles,
	                 client_backends, idle >= 16, utilization_pct >= 100)
	  FROM health.connections}),
	'20,3,17,17,3,0,17,t,t', 'slot arithmetic: 17 usable, 17 used, 3 free, none for ordinary roles');
like($holder->query_safe("SELECT status || ': ' || detail FROM health.checks WHERE name = 'connections'"),
	qr/^critical: no connection slot left for ordinary roles: 17 of 17 usable slots in use/,
	'connections check is critical and says why');
is($holder->query_safe('SELECT health.ready()'), 'f', 'ready() is false');

# A new superuser session takes a reserved slot and reads the same verdict.
is($node->safe_psql('postgres', "SELECT status, ready, health.ready() FROM health.status"),
	'not_ready|f|f', 'a superuser session in a reserved slot gets the answer');
my ($ret, $out, $err) = $node->psql('postgres', 'SELECT 1', extra_params => [ '-U', 'app' ]);
isnt($ret, 0, 'an ordinary role cannot connect');
like($err, qr/remaining connection slots are reserved/, '... refused by the server for the reserved slots');

# Let them go: ready again.
$holder->query_safe('SELECT dblink_disconnect(c) FROM unnest(dblink_get_connections()) AS c');
$holder->query_safe('SELECT health.refresh()');
ok($node->poll_query_until('postgres', "SELECT health.ready() AND status = 'ready' FROM health.status"),
	'ready again once the connections are closed');
is($holder->query_safe("SELECT status FROM health.checks WHERE name = 'connections'"), 'ok',
	'connections check ok');
$holder->quit;

$node->stop('fast');
done_testing();
