# Verdict semantics a load balancer can trust (issue 16): refusals inform,
# saturation decides; a role's or a database's own CONNECTION LIMIT never
# takes the server out; a first start records no role change.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);
use IPC::Run;
use PgHealthTest;

my $hport = PostgreSQL::Test::Cluster::get_free_port();
my $node = PostgreSQL::Test::Cluster->new('verdict');
$node->init(allows_streaming => 1);
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_health'
pg_health.sample_interval = 100ms
pg_health.hold_samples = 2
pg_health.http_port = $hport
max_connections = 20
superuser_reserved_connections = 3
});
$node->start;
sub q1 { return $node->safe_psql('postgres', $_[0]); }

# --- A first start after initdb: events, but no role change ----------------
q1('CREATE EXTENSION pg_health; CREATE EXTENSION dblink; CREATE ROLE app LOGIN');
ok($node->poll_query_until('postgres', q{SELECT health.started()}), 'started');
is(q1(q{SELECT count(*) FROM health.events WHERE changes @> '[{"check": "role"}]'}), '0',
	'a first start after initdb records no role change');
cmp_ok(q1('SELECT count(*) FROM health.events'), '>=', 1, '... though it records its events');

# --- A spike fills every slot; then slots are free again ---------------------
my $holder = $node->background_psql('postgres');
my ($opened) = fill_slots($node, $holder, 'app');
my ($ret, $out, $err) = $node->psql('postgres', 'SELECT 1', extra_params => [ '-U', 'app' ]);
like($err, qr/remaining connection slots are reserved|too many clients/, 'full: an ordinary role is refused (53300)');
ok($node->poll_query_until('postgres', q{SELECT NOT health.ready() AND
	(SELECT status FROM health.checks WHERE name = 'connection_refusals') = 'critical'}),
	'while still full: not ready, connection_refusals critical');
is((http_get($hport, '/ready'))[0], 503, '... /ready 503');

$holder->query_safe('SELECT dblink_disconnect(c) FROM unnest(dblink_get_connections()) AS c');
my $freed = time;
my ($status) = poll_http($hport, '/ready', 200, 10);
my $back = time - $freed;
is($status, 200, 'slots free again: /ready 200');
# 2 samples of 100 ms must hold (hold_samples), plus scheduling: far from the 60 s window
cmp_ok($back, '<', 5, sprintf('... within seconds (%.1f s), not after the 60 s refusal window', $back));
note(sprintf('ready again %.2f s after the slots were freed', $back));
like(q1(q{SELECT status || ': ' || detail FROM health.checks WHERE name = 'connection_refusals'}),
	qr/^warning: \d+ connection\(s\) refused for lack of slots \(SQLSTATE 53300\) in the last 60 s, the last \d+ s ago for role "app" on database "postgres"; slots are free again \(\d+ for ordinary roles\)/,
	'the refusal still counts, as a warning naming role and database');
is(q1(q{SELECT status FROM health.status}), 'degraded', 'degraded (ready) while the refusal is in its window');
is(q1(q{SELECT (health.report() -> 'connections' ->> 'slot_refusals_in_window')::int >= 1}), 't',
	'the report counts it among the refusals for lack of slots');
# Samples asked for in a burst: the refusal still counts for its whole
# window.  (1.1 took a sample per refresh, and this burst was 4,200, more
# than the window ring holds; since 1.2 refreshes take at most one extra
# sample per interval, so a burst cannot outrun the ring.)
q1(q{DO $$ BEGIN FOR i IN 1..40 LOOP PERFORM health.refresh(); END LOOP; END $$});
is(q1(q{SELECT status || ' ' || ((health.report() -> 'connections' ->> 'slot_refusals_in_window')::int >= 1)::text
        FROM health.checks WHERE name = 'connection_refusals'}),
	'warning true', 'after a burst of 40 refreshes the refusal is still counted in its window');

# --- A role at its own CONNECTION LIMIT --------------------------------------
q1('CREATE ROLE capped LOGIN CONNECTION LIMIT 1');
my $c1 = $node->background_psql('postgres', extra_params => [ '-U', 'capped' ]);
($ret, $out, $err) = $node->psql('postgres', 'SELECT 1', extra_params => [ '-U', 'capped' ]);
like($err, qr/too many connections for role "capped"/, 'a second connection for role capped is refused');
ok($node->poll_query_until('postgres', q{SELECT health.refresh() AND
	(health.report() -> 'connections' ->> 'last_limit_refused_role') = 'capped'}),
	'the report names the role refused by its limit');
like(q1(q{SELECT status || ': ' || detail FROM health.checks WHERE name = 'connection_refusals'}),
	qr/^warning: .*1 connection\(s\) refused by a CONNECTION LIMIT in the last 60 s, the last \d+ s ago: role "capped" is at its limit; raise it with ALTER ROLE capped CONNECTION LIMIT n/,
	'connection_refusals warns, naming the role and the ALTER ROLE');
# the names worker looks the limit up: poll
ok($node->poll_query_until('postgres', q{SELECT status = 'warning' AND value = 100
	FROM health.checks WHERE name = 'connection_limits'}),
	'connection_limits warns at 100 % (its critical threshold is off by default)');
is(q1(q{SELECT health.ready()}), 't', 'the server is still ready for everyone else');
is((http_get($hport, '/ready'))[0], 200, '... /ready 200');
is(q1(q{SELECT concat_ws(',', health.report() -> 'connections' ->> 'refused_role_limit',
                             health.report() -> 'connections' ->> 'last_limit_refused')}),
	'1,role', 'counted as refused by a role limit');
$c1->quit;

# --- A database at its own CONNECTION LIMIT ----------------------------------
q1('CREATE DATABASE capdb CONNECTION LIMIT 1');
my $d1 = $node->background_psql('capdb', extra_params => [ '-U', 'app' ]);
($ret, $out, $err) = $node->psql('capdb', 'SELECT 1', extra_params => [ '-U', 'app' ]);
like($err, qr/too many connections for database "capdb"/, 'a second connection to capdb is refused');
ok($node->poll_query_until('postgres', q{SELECT health.refresh() AND
	(health.report() -> 'connections' ->> 'last_limit_refused') = 'database'}),
	'the report says a database limit refused it');
like(q1(q{SELECT status || ': ' || detail FROM health.checks WHERE name = 'connection_refusals'}),
	qr/database "capdb" is at its limit; raise it with ALTER DATABASE capdb CONNECTION LIMIT n/,
	'connection_refusals names the database and the ALTER DATABASE');
is(q1(q{SELECT health.ready()}), 't', 'still ready');
my $metrics = (http_get($hport, '/metrics'))[2];
like($metrics, qr/^pg_health_connections_refused_by_limit_total\{limit="database"\} 1$/m,
	'/metrics counts refusals by limit');
$d1->quit;

# --- A standby's first start: no role change; its promotion: one -------------
my $standby = streaming_standby($node, 'verdict_standby', qq{pg_health.http_port = 0\n});
ok($standby->poll_query_until('postgres', q{SELECT health.started()}), 'the standby started');
is($standby->safe_psql('postgres', q{SELECT count(*) FROM health.events WHERE changes @> '[{"check": "role"}]'}),
	'0', "a standby's first start records no role change");
$standby->promote;
ok($standby->poll_query_until('postgres',
	q{SELECT count(*) = 1 FROM health.events WHERE changes @> '[{"check": "role", "old": "standby", "new": "primary"}]'}),
	'its promotion records one role change, standby to primary');

$standby->stop;

# --- A replication connection refused takes no client slot -------------------
# Anyone who can reach the port may ask for one, before authentication: with
# no walsender free it is refused with 53300 too, but it must not make the
# server look full.
$node->append_conf('postgresql.conf', "max_wal_senders = 0\n");
$node->restart;
ok($node->poll_query_until('postgres', q{SELECT health.ready()}), 'restarted with max_wal_senders = 0: ready');
my ($rout, $rerr) = ('', '');
IPC::Run::run([ 'psql', '-X', '-d', $node->connstr('postgres') . ' replication=true user=nobody_at_all',
		'-c', 'IDENTIFY_SYSTEM' ], '>', \$rout, '2>', \$rerr);
like($rerr, qr/number of requested standby connections exceeds "?max_wal_senders"?/,
	'a replication connection is refused (53300), before authentication');
ok($node->poll_query_until('postgres', q{SELECT health.refresh() AND
	(health.report() -> 'connections' ->> 'refused_walsenders')::int = 1}),
	'counted as a refused walsender');
is(q1(q{SELECT status || ' ' || (SELECT status FROM health.checks WHERE name = 'connection_refusals') FROM health.status}),
	'ready ok', 'the server stays ready, connection_refusals ok');

$node->stop;
done_testing();
