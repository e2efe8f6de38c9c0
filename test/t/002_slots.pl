# Fill every connection slot ordinary roles may use with real idle
# connections: the connections check goes critical and ready() false, while
# a superuser, in a reserved slot, still gets the answer.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);
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

# (the refused connection's backend holds its slot until it has exited)
is(refreshed_until($holder, q{
	SELECT concat_ws(',', max_connections, superuser_reserved_connections, usable_slots,
	                 slots_used, slots_free, available_to_ordinary_roles,
	                 client_backends, idle >= 16, utilization_pct >= 100)
	  FROM health.connections}, '20,3,17,17,3,0,17,t,t'),
	'20,3,17,17,3,0,17,t,t', 'slot arithmetic: 17 usable, 17 used, 3 free, none for ordinary roles');
like($holder->query_safe("SELECT status || ': ' || detail FROM health.checks WHERE name = 'connections'"),
	qr/^critical: no connection slot left for ordinary roles: 17 of 17 usable slots in use/,
	'connections check is critical and says why');
is($holder->query_safe('SELECT health.ready()'), 'f', 'ready() is false');

# A new superuser session takes a reserved slot and reads the same verdict.
is($node->safe_psql('postgres', "SELECT status, ready, health.ready() FROM health.status"),
	'not_ready|f|f', 'a superuser session in a reserved slot gets the answer');

# Five more attempts from an ordinary role: each refused, each counted once.
$holder->query_safe('SELECT health.refresh()');
my $before = $holder->query_safe('SELECT refused_no_slots FROM health.connections');
for my $i (1 .. 5)
{
	my ($ret, $out, $err) = $node->psql('postgres', 'SELECT 1', extra_params => [ '-U', 'app' ]);
	isnt($ret, 0, "attempt $i: an ordinary role cannot connect");
	like($err, qr/remaining connection slots are reserved/, "attempt $i: refused for the reserved slots");
}
$holder->query_safe('SELECT health.refresh()');
is($holder->query_safe('SELECT refused_no_slots FROM health.connections') - $before, 5,
	'the refusal counter rose by exactly 5');
is($holder->query_safe(q{SELECT concat_ws(',', last_refused_role, last_refused_database,
                                          last_refusal_at > now() - interval '1 min')
                           FROM health.connections}),
	'app,postgres,t', 'the last refusal is named');
like($holder->query_safe("SELECT status || ': ' || detail FROM health.checks WHERE name = 'connection_refusals'"),
	qr/^critical: \d+ connection\(s\) refused for lack of slots \(SQLSTATE 53300\) in the last 60 s, the last \d+ s ago for role "app" on database "postgres", and no slot is free for ordinary roles yet/,
	'connection_refusals is critical while the server is still full, and names role and database');
cmp_ok($holder->query_safe(q{SELECT value FROM health.checks WHERE name = 'connection_refusals'}), '>=', 5,
	'... counting the refusals in the window');

# Let them go, with a short window (5 s: the refusal below, the refresh and
# the read must fit in it on a slow machine): ready again once it has passed.
$node->safe_psql('postgres', "ALTER SYSTEM SET pg_health.refusal_window = '5s'");
$node->reload;
$holder->query_safe('SELECT dblink_disconnect(c) FROM unnest(dblink_get_connections()) AS c');
ok($node->poll_query_until('postgres', "SELECT health.ready() AND status = 'ready' FROM health.status"),
	'ready again once the connections are closed and the window has passed');
is($holder->query_safe("SELECT string_agg(name || ' ' || status, ', ' ORDER BY name) FROM health.checks WHERE name LIKE 'connection%'"),
	'connection_limits ok, connection_refusals ok, connections ok',
	'connections, connection_refusals and connection_limits ok');
is($holder->query_safe(q{SELECT refusals_per_s IS NOT NULL AND connections_per_s >= 0 FROM health.history
                          ORDER BY generation DESC LIMIT 1}),
	't', 'history carries per-second rates');

# A role at its CONNECTION LIMIT is refused, and named; it only warns: that
# role is full, not the server (test 021 has more of it).
$node->safe_psql('postgres', 'CREATE ROLE lim LOGIN CONNECTION LIMIT 2');
my @lim = map { $node->background_psql('postgres', extra_params => [ '-U', 'lim' ]) } 1 .. 2;
my ($ret, $out, $err) = $node->psql('postgres', 'SELECT 1', extra_params => [ '-U', 'lim' ]);
like($err, qr/too many connections for role "lim"/, 'a third connection for role lim is refused');
$holder->query_safe('SELECT health.refresh()');
like($holder->query_safe("SELECT status || ': ' || detail FROM health.checks WHERE name = 'connection_refusals'"),
	qr/^warning: 1 connection\(s\) refused by a CONNECTION LIMIT in the last 5 s, the last \d+ s ago: role "lim" is at its limit; raise it with ALTER ROLE lim CONNECTION LIMIT n/,
	'the refusal is a warning that names role lim and the ALTER ROLE that raises its limit');
# ... and while it holds both, connection_limits says so by name
ok($node->poll_query_until('postgres', q{SELECT status = 'warning' AND value = 100 AND detail LIKE
	'role "lim" is at its CONNECTION LIMIT with 2 of its 2 connections, so its next connection is refused with SQLSTATE 53300%'
	FROM health.checks WHERE name = 'connection_limits'}),
	'connection_limits warns and names role lim (pg_health.connection_limit_critical is off by default)');
is($holder->query_safe(q{SELECT sum(sessions), max(role_connections), max(rolconnlimit), min(headroom),
                               string_agg(DISTINCT limited_by, ',')
                          FROM health.pools WHERE usename = 'lim'}),
	'2|2|2|0|role', 'its pool: 2 of 2, no headroom, limited by the role');
ok($node->poll_query_until('postgres', q{SELECT status = 'ok' FROM health.checks WHERE name = 'connection_refusals'}),
	'the refusal leaves the 5 s window');
is($holder->query_safe(q{SELECT health.ready(), (SELECT coalesce(string_agg(name, ','), 'none') FROM health.checks WHERE status = 'critical')}),
	't|none', 'the role at its limit does not make the server not ready');
$_->quit for @lim;
ok($node->poll_query_until('postgres', q{SELECT status = 'ok' FROM health.checks WHERE name = 'connection_limits'}),
	'connection_limits ok again once role lim has let its sessions go');

# Authentication failures, with password authentication for one role.
$node->safe_psql('postgres', "SET password_encryption = 'scram-sha-256'; CREATE ROLE pw LOGIN PASSWORD 'right'");
my $hba = slurp_file($node->data_dir . '/pg_hba.conf');
open(my $fh, '>', $node->data_dir . '/pg_hba.conf') or die;
print $fh "local all pw scram-sha-256\n$hba";
close($fh);
$node->reload;
$holder->query_safe('SELECT health.refresh()');
my ($fail0, $ok0) = split /\|/, $holder->query_safe(
	'SELECT authentication_failures, connections_authenticated FROM health.connections');
{
	local $ENV{PGPASSWORD} = 'wrong';
	($ret, $out, $err) = $node->psql('postgres', 'SELECT 1', extra_params => [ '-U', 'pw' ]);
	like($err, qr/password authentication failed for user "pw"/, 'a wrong password is refused');
	local $ENV{PGPASSWORD} = 'right';
	is($node->safe_psql('postgres', 'SELECT current_user', extra_params => [ '-U', 'pw' ]), 'pw',
		'the right one is accepted');
}
$holder->query_safe('SELECT health.refresh()');
my ($fail1, $ok1) = split /\|/, $holder->query_safe(
	'SELECT authentication_failures, connections_authenticated FROM health.connections');
is($fail1 - $fail0, 1, 'one authentication failure counted');
cmp_ok($ok1 - $ok0, '>=', 1, 'successful authentications counted');

# Smart shutdown: the holder's session carries on, new connections are
# refused with SQLSTATE 57P03 and counted.
$holder->query_safe('SELECT health.refresh()');
my $starting0 = $holder->query_safe('SELECT refused_starting FROM health.connections');
system_or_bail('pg_ctl', '-D', $node->data_dir, '-W', '-m', 'smart', 'stop');
my $shutting_down = 0;
for (1 .. 100)
{
	($ret, $out, $err) = $node->psql('postgres', 'SELECT 1');
	if ($err =~ /the database system is shutting down/) { $shutting_down = 1; last; }
	usleep(100_000);
}
ok($shutting_down, 'during a smart shutdown new connections are refused');
is($holder->query_safe('SELECT health.refresh()'), 't', 'the sampler still samples');
cmp_ok($holder->query_safe('SELECT refused_starting FROM health.connections') - $starting0, '>=', 1,
	'the refusal is counted as 57P03 (starting up or shutting down)');
$holder->quit;
my $stopped = 0;
for (1 .. 300)
{
	if (!-f $node->data_dir . '/postmaster.pid') { $stopped = 1; last; }
	usleep(100_000);
}
ok($stopped, 'the smart shutdown completes once the last session ends');
$node->_update_pid(0);
done_testing();
