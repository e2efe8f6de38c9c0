# Who holds the connections: 30 real connections under three
# application_names, some idle in transaction past a 1 s threshold, one
# blocked behind another's row lock.  health.pools and health.sessions must
# show exactly that; connection limits are named; an ordinary role sees other
# roles' query text and client address as NULL; and more groups than the
# pool table holds are folded into one row that keeps the totals.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('pools');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_health'
pg_health.sample_interval = 100ms
pg_health.idle_in_transaction_warning = 1s
max_connections = 320
listen_addresses = '127.0.0.1'
});
# the application connects over TCP, so its sessions have a client address
$node->append_conf('pg_hba.conf', "host all all 127.0.0.1/32 trust\n");
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION pg_health;
	CREATE EXTENSION dblink;
	CREATE ROLE app LOGIN CONNECTION LIMIT 40;
	CREATE ROLE viewer LOGIN;
	CREATE ROLE bulk LOGIN;
	GRANT SELECT ON health.sessions TO viewer;
	GRANT EXECUTE ON FUNCTION health.session_rows() TO viewer;
	CREATE ROLE monitor LOGIN IN ROLE pg_monitor;
	CREATE DATABASE shop CONNECTION LIMIT 100;
});
$node->safe_psql('shop', q{
	CREATE TABLE item (id int PRIMARY KEY, v int);
	INSERT INTO item VALUES (1, 0);
	GRANT SELECT, UPDATE ON item TO app;
});

# One superuser session opens the application's connections through dblink.
my $ctl = $node->background_psql('postgres');
my $tcp = 'host=127.0.0.1 port=' . $node->port . ' dbname=shop user=app';
my %count = (web => 12, worker => 10, report => 8);
for my $app (sort keys %count)
{
	$ctl->query_safe(qq{
		SELECT dblink_connect('$app' || i, '$tcp application_name=$app')
		  FROM generate_series(1, $count{$app}) AS i});
}
sub remote_pid
{
	my ($conn) = @_;
	return $ctl->query_safe("SELECT pid FROM dblink('$conn', 'SELECT pg_backend_pid()') AS t(pid int)");
}
my ($blocker, $idle2, $idle3, $blocked) = map { remote_pid($_) } qw(web1 web2 web3 worker1);

# web1 takes a row lock and stays idle in transaction; web2 and web3 open
# transactions and stay idle; worker1 waits for web1's row.
$ctl->query_safe(q{SELECT dblink_exec('web1', 'BEGIN'),
                          dblink_exec('web1', 'UPDATE item SET v = 1 WHERE id = 1'),
                          dblink_exec('web2', 'BEGIN'),
                          dblink_exec('web3', 'BEGIN')});
$ctl->query_safe(q{SELECT dblink_send_query('worker1', 'UPDATE item SET v = 2 WHERE id = 1')});
ok($node->poll_query_until('postgres',
		"SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = $blocked"),
	'worker1 waits for the row lock');
$ctl->query_safe('SELECT pg_sleep(1.2)');

# Names come from the names worker within a sample or two of a new oid.
ok($node->poll_query_until('postgres', q{SELECT health.refresh() AND count(*) = 3 FROM health.pools
                                          WHERE datname = 'shop' AND usename = 'app'}),
	'the three pools are named');
$ctl->query_safe('SELECT health.refresh()');

is($ctl->query_safe(q{
	SELECT string_agg(concat_ws(' ', application_name, sessions, active, idle, idle_in_transaction,
	                            waiting_on_locks), ', ' ORDER BY application_name)
	  FROM health.pools WHERE datname = 'shop' AND usename = 'app'}),
	'report 8 0 8 0 0, web 12 0 9 3 0, worker 10 1 9 0 1',
	'pools: sessions, active, idle, idle in transaction and lock waits per application_name');
is($ctl->query_safe(qq{
	SELECT concat_ws(' ', oldest_transaction_pid = $blocker,
	                 longest_idle_in_transaction >= '1s', longest_idle_in_transaction_pid = $blocker,
	                 oldest_query_age IS NULL)
	  FROM health.pools WHERE datname = 'shop' AND usename = 'app' AND application_name = 'web'}),
	't t t t', 'web: its oldest transaction and longest idle in transaction are the blocker\'s');
is($ctl->query_safe(qq{
	SELECT concat_ws(' ', oldest_query_pid = $blocked, oldest_transaction_pid = $blocked)
	  FROM health.pools WHERE datname = 'shop' AND usename = 'app' AND application_name = 'worker'}),
	't t', 'worker: its oldest query is the blocked UPDATE');
is($ctl->query_safe(q{
	SELECT string_agg(DISTINCT concat_ws(' ', database_connections, datconnlimit, role_connections,
	                                     rolconnlimit, superuser, headroom, limited_by), '; ')
	  FROM health.pools WHERE datname = 'shop' AND usename = 'app'}),
	'30 100 30 40 f 10 role',
	'limits: 30 of the database\'s 100 and of the role\'s 40; 10 more before the role\'s limit refuses');
is($ctl->query_safe(q{
	SELECT round(slot_share_pct::numeric, 2) = round(100.0 * 12 / usable_slots, 2)
	  FROM health.pools, health.connections
	 WHERE datname = 'shop' AND application_name = 'web'}),
	't', 'web\'s share of the usable slots');

# Sessions: the blocker, the blocked, two idle in transaction, the rest ok.
is($ctl->query_safe(q{SELECT string_agg(classification || ' ' || n, ', ' ORDER BY classification)
                        FROM (SELECT classification, count(*) AS n FROM health.sessions
                               WHERE usename = 'app' GROUP BY 1) s}),
	'blocked 1, blocking 1, idle_in_transaction 2, ok 26', 'classification of the 30 sessions');
is($ctl->query_safe(qq{SELECT concat_ws(' ', classification, state, blocked_by IS NULL)
                         FROM health.sessions WHERE pid = $blocker}),
	'blocking idle in transaction t', 'web1 is classified blocking');
is($ctl->query_safe(qq{SELECT concat_ws(' ', classification, blocked_by = ARRAY[$blocker],
                                        wait_event_type, wait_event, application_name)
                         FROM health.sessions WHERE pid = $blocked}),
	'blocked t Lock transactionid worker', 'worker1 is blocked, and blocked_by names web1\'s pid');
is($ctl->query_safe(qq{SELECT string_agg(classification || ' ' || (state_age >= '1s'), ',')
                         FROM health.sessions WHERE pid IN ($idle2, $idle3)}),
	'idle_in_transaction true,idle_in_transaction true', 'web2 and web3 are idle in transaction past 1 s');
is($ctl->query_safe(q{SELECT count(*) FILTER (WHERE client_addr = '127.0.0.1'),
                             count(*) FILTER (WHERE query IS NOT NULL), count(DISTINCT datname)
                        FROM health.sessions WHERE usename = 'app'}),
	'30|30|1', 'a superuser sees every client address and query');

# The checks agree with the views.
like($ctl->query_safe(q{SELECT status || ': ' || detail FROM health.checks WHERE name = 'idle_in_transaction'}),
	qr/^warning: longest idle in transaction: pid $blocker, for \d+ s/, 'idle_in_transaction warns and names the blocker');
is($ctl->query_safe(q{SELECT status || ': ' || detail FROM health.checks WHERE name = 'connection_limits'}),
	'ok: 2 role(s) or database(s) with sessions have a CONNECTION LIMIT; the closest is role "app" with 30 of 40',
	'connection_limits: 30 of 40 is below the 80% warning');

# Two more connections take role app to 80% of its limit: a warning, by name.
$ctl->query_safe(qq{SELECT dblink_connect('report' || i, '$tcp application_name=report')
                      FROM generate_series(9, 10) AS i});
ok($node->poll_query_until('postgres', q{SELECT status = 'warning' AND value = 80 FROM health.checks
                                          WHERE name = 'connection_limits'}),
	'connection_limits warns at 32 of 40');
like($ctl->query_safe(q{SELECT detail FROM health.checks WHERE name = 'connection_limits'}),
	qr/^role "app" uses 32 of its 40 connections: .*ALTER ROLE app CONNECTION LIMIT/,
	'... naming the role and how to raise its limit');
is($ctl->query_safe('SELECT health.ready()'), 't', 'a warning leaves the server ready');

# Privacy: an ordinary role granted the view sees its own sessions in full,
# other roles' sessions without query text or client address.
my $viewer = $node->background_psql('postgres', extra_params => [ '-U', 'viewer' ]);
is($viewer->query_safe(q{SELECT count(*), count(query), count(client_addr), count(state), count(classification)
                           FROM health.sessions WHERE usename = 'app'}),
	'32|0|0|32|32', 'viewer: app\'s sessions with state and classification, without query or address');
is($viewer->query_safe(q{SELECT query LIKE '%FROM health.sessions%' FROM health.sessions
                          WHERE pid = pg_backend_pid()}),
	't', 'viewer: its own query in full');
is($node->safe_psql('postgres', qq{SELECT query FROM health.sessions WHERE pid = $blocker},
		extra_params => [ '-U', 'monitor' ]),
	'UPDATE item SET v = 1 WHERE id = 1', 'a pg_monitor member sees every query (pg_read_all_stats)');
$viewer->quit;

# Release the lock: the blocked UPDATE finishes, classifications clear.
$ctl->query_safe(q{SELECT dblink_exec('web1', 'COMMIT'), dblink_exec('web2', 'COMMIT'),
                          dblink_exec('web3', 'COMMIT')});
$ctl->query_safe(q{SELECT * FROM dblink_get_result('worker1') AS t(r text)});
is($ctl->query_safe(q{SELECT string_agg(DISTINCT classification, ',') FROM health.sessions WHERE usename = 'app'}),
	'ok', 'every app session is ok once the lock is released');

# More groups than the pool table holds (256): the smallest are folded into
# one row without a key, and the pools still add up to every client session.
my $bulk = 'host=' . $node->host . ' port=' . $node->port . ' dbname=postgres user=bulk';
$ctl->query_safe(qq{SELECT dblink_connect('g' || i, '$bulk application_name=g' || i)
                      FROM generate_series(1, 260) AS i});
$ctl->query_safe('SELECT health.refresh()');
is($ctl->query_safe(q{
	SELECT concat_ws(' ', count(*), count(*) FILTER (WHERE folded_groups > 0),
	                 sum(folded_groups) = (SELECT count(*) FROM (SELECT DISTINCT datid, usesysid, application_name
	                                                              FROM pg_stat_activity
	                                                             WHERE backend_type = 'client backend') g) - 255,
	                 sum(sessions) = (SELECT client_backends FROM health.connections),
	                 bool_and(datname IS NULL AND usename IS NULL AND application_name IS NULL)
	                   FILTER (WHERE folded_groups > 0))
	  FROM health.pools}),
	'256 1 t t t', '255 groups and one folded row that sums the rest');
# the groups kept are exactly the 255 first in the sampler's order (most
# sessions first, then database, role and application_name in byte order),
# each with its count
is($ctl->query_safe(q{
	WITH g AS (SELECT datid, usesysid, application_name, count(*) AS n
	             FROM pg_stat_activity WHERE backend_type = 'client backend'
	            GROUP BY 1, 2, 3),
	     top AS (SELECT * FROM g ORDER BY n DESC, datid, usesysid, application_name COLLATE "C" LIMIT 255)
	SELECT concat_ws(' ', count(top.n), count(p.sessions), count(*) FILTER (WHERE top.n IS DISTINCT FROM p.sessions),
	                 (SELECT count(*) FROM g WHERE n > 1) >= 3)
	  FROM top FULL JOIN (SELECT * FROM health.pools WHERE folded_groups = 0) p
	       USING (datid, usesysid, application_name)}),
	'255 255 0 t', 'the groups kept are the largest 255, with their counts');

$ctl->quit;
$node->stop;
done_testing();
