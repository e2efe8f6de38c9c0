# Application components in the verdict: required components that have not
# reported keep the server "starting"; reported ready, it is ready; silent
# past its TTL, a component is lost; a component's pool below its minimum is
# critical; the requirement survives a restart (the state does not) and works
# on a standby.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use PgHealthTest;

my $node = PostgreSQL::Test::Cluster->new('primary');
$node->init(allows_streaming => 1);
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_health'
pg_health.sample_interval = 100ms
pg_health.required_components = 'backend, auth'
});
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION pg_health;
	CREATE ROLE svc_backend LOGIN;
	CREATE ROLE svc_auth LOGIN;
	SELECT health.configure_component('backend', reporter => 'svc_backend');
	SELECT health.configure_component('auth', reporter => 'svc_auth');
});

sub q1 { my ($n, $sql, @opt) = @_; return $n->safe_psql('postgres', $sql, @opt); }
sub refresh { my ($n) = @_; q1($n, 'SELECT health.refresh()'); }
sub as_role
{
	my ($n, $role, $sql) = @_;
	return $n->safe_psql('postgres', $sql, extra_params => [ '-U', $role ]);
}

# Nobody has reported: the server is consistent but not started.
refresh($node);
is(q1($node, 'SELECT health.ready(), health.started(), status FROM health.status'),
	'f|f|starting', 'required components not reported: starting, not ready, not started');
is(q1($node, q{SELECT string_agg(name || ' ' || status, ', ' ORDER BY name) FROM health.checks
                WHERE name LIKE 'component:%'}),
	'component:auth critical, component:backend critical', 'one critical check per required component');
like(q1($node, q{SELECT detail FROM health.checks WHERE name = 'component:backend'}),
	qr/^required component "backend" has not reported since the server started/,
	'the detail says it has not reported');
like(q1($node, q{SELECT reasons FROM health.events ORDER BY generation DESC LIMIT 1}),
	qr/component:backend critical: required component "backend" has not reported/,
	'the transition names the missing component');

# backend reports; auth has not: still starting.
as_role($node, 'svc_backend', q{SELECT health.set_component_state('backend', 'starting', 'running migrations')});
refresh($node);
like(q1($node, q{SELECT status || ': ' || detail FROM health.checks WHERE name = 'component:backend'}),
	qr/^critical: component "backend" is starting, for \d+ s: running migrations$/,
	'a starting component is critical with its own detail');
as_role($node, 'svc_backend', q{SELECT health.set_component_state('backend', 'ready')});
refresh($node);
is(q1($node, 'SELECT health.ready(), health.started()'), 'f|f', 'one of two ready: not yet started');

# auth reports ready: started and ready.
as_role($node, 'svc_auth', q{SELECT health.set_component_state('auth', 'ready', 'keys loaded')});
refresh($node);
is(q1($node, 'SELECT health.ready(), health.started(), status FROM health.status'),
	't|t|ready', 'both ready: started and ready');
is(q1($node, q{SELECT string_agg(c->>'name' || ' ' || (c->>'state') || ' ' || (c->>'ready_once'), ', ')
                 FROM jsonb_array_elements(health.report()->'components') c}),
	'backend ready true, auth ready true', 'the report lists both, in the order they are required');

# A component that goes silent past its TTL is lost: not ready, still started.
q1($node, q{SELECT health.configure_component('backend', reporter => 'svc_backend', ttl => '3s')});
as_role($node, 'svc_backend', q{SELECT health.heartbeat('backend')});
ok($node->poll_query_until('postgres', q{SELECT state = 'lost' FROM health.components WHERE name = 'backend'}),
	'backend is lost once 3 s pass without a heartbeat');
refresh($node);
is(q1($node, 'SELECT health.ready(), health.started()'), 'f|t', 'lost: not ready, but still started');
like(q1($node, q{SELECT detail FROM health.checks WHERE name = 'component:backend'}),
	qr/^component "backend" is lost: no report or heartbeat for \d+ s \(TTL 3 s\); its last state was ready/,
	'the detail says how long it has been silent and what it last said');
as_role($node, 'svc_backend', q{SELECT health.heartbeat('backend')});
refresh($node);
is(q1($node, q{SELECT state, health.ready() FROM health.components WHERE name = 'backend'}),
	'ready|t', 'a heartbeat brings it back');
q1($node, q{SELECT health.configure_component('backend', reporter => 'svc_backend')});

# auth declares a pool of at least 2 connections named "auth".
q1($node, q{SELECT health.configure_component('auth', reporter => 'svc_auth',
                                              pool_application_name => 'auth', pool_min_connections => 2)});
refresh($node);
is(q1($node, q{SELECT status, pool_connections, pool_min_connections FROM health.components WHERE name = 'auth'}),
	'critical|0|2', 'auth\'s pool holds 0 of 2: critical');
like(q1($node, q{SELECT detail FROM health.checks WHERE name = 'component:auth'}),
	qr/its pool \(application_name "auth"\) holds 0 of the 2 connections it needs/, 'the detail says so');
is(q1($node, 'SELECT health.ready()'), 'f', 'not ready while the pool is short');
my @pool;
for my $k (1 .. 2)
{
	{
		local $ENV{PGAPPNAME} = 'auth';
		push @pool, $node->background_psql('postgres', extra_params => [ '-U', 'svc_auth' ]);
	}
	refresh($node);
	is(q1($node, q{SELECT pool_connections FROM health.components WHERE name = 'auth'}), $k,
		"the pool counts $k connection(s)");
}
is(q1($node, q{SELECT status, health.ready() FROM health.components WHERE name = 'auth'}),
	'ok|t', 'pool at its minimum: ok and ready');
is(q1($node, q{SELECT sessions, component, component_min_connections FROM health.pools
                WHERE application_name = 'auth'}),
	'2|auth|2', 'health.pools names the component the pool belongs to, and its minimum');
$_->quit for @pool;

# Not required any more (reload): its failure only warns.
as_role($node, 'svc_auth', q{SELECT health.set_component_state('auth', 'failed', 'key server unreachable')});
refresh($node);
is(q1($node, 'SELECT health.ready()'), 'f', 'a required component failed: not ready');
q1($node, q{ALTER SYSTEM SET pg_health.required_components = 'backend'; SELECT pg_reload_conf()});
ok($node->poll_query_until('postgres', q{SELECT health.refresh() AND NOT required FROM health.components
                                         WHERE name = 'auth'}),
	'after a reload auth is no longer required');
is(q1($node, q{SELECT c.status, health.ready(), s.status FROM health.checks c, health.status s
                WHERE c.name = 'component:auth'}),
	'warning|t|degraded', 'its failure now only warns: degraded, still ready');

# A standby: the requirement is a setting, reporting writes only shared
# memory, so components work there too.
my $standby = streaming_standby($node, 'standby', "pg_health.required_components = 'backend'\n");
ok($standby->poll_query_until('postgres', q{SELECT health.refresh() AND status = 'starting' FROM health.status}),
	'standby: starting until backend reports');
as_role($standby, 'svc_backend', q{SELECT health.set_component_state('backend', 'ready')});
refresh($standby);
is(q1($standby, q{SELECT health.ready('replica'), health.started(), health.ready('primary')}),
	't|t|f', 'standby: ready as a replica once backend reported there');
$standby->stop;

# A restart keeps the requirement and the configuration, not the state.
$node->restart;
refresh($node);
is(q1($node, 'SELECT health.ready(), health.started(), status FROM health.status'),
	'f|f|starting', 'after a restart: starting again until the components report');
is(q1($node, q{SELECT count(*) FROM health.component_config}), '2', 'the configuration survived');
like(q1($node, q{SELECT detail FROM health.checks WHERE name = 'component:backend'}),
	qr/has not reported since the server started/, 'and the detail says why');
as_role($node, 'svc_backend', q{SELECT health.set_component_state('backend', 'ready')});
refresh($node);
is(q1($node, 'SELECT health.ready(), health.started()'), 't|t', 'ready again once backend reports');

$node->stop;
done_testing();
