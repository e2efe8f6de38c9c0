# The per-tenant verdict (issue 16, item 2): "would a new connection for this
# role to this database be admitted now?", from SQL (health.ready and
# health.report with for_user, for_database) and over HTTP (/ready and
# /health with ?user=&database=).  Every answer is checked against what the
# server really does with a connection of that role to that database.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);
use IPC::Run;
use PgHealthTest;

my $hport = PostgreSQL::Test::Cluster::get_free_port();
my $node = PostgreSQL::Test::Cluster->new('admission');
$node->init(allows_streaming => 1);
my $v16 = $node->pg_version >= 16;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_health'
pg_health.sample_interval = 100ms
pg_health.http_port = $hport
max_connections = 20
superuser_reserved_connections = 3
});
$node->append_conf('postgresql.conf', 'reserved_connections = 2') if $v16;
$node->start;
sub q1 { return $node->safe_psql('postgres', $_[0]); }

q1(q{CREATE EXTENSION pg_health; CREATE EXTENSION dblink;
	CREATE ROLE app LOGIN;
	CREATE ROLE "Mixed Case" LOGIN;
	CREATE ROLE nologin NOLOGIN;
	CREATE ROLE expired LOGIN PASSWORD 'secret' VALID UNTIL '2001-01-01';
	CREATE ROLE capped LOGIN CONNECTION LIMIT 1;
	CREATE DATABASE appdb;
	CREATE DATABASE closed ALLOW_CONNECTIONS false;
	CREATE DATABASE limited CONNECTION LIMIT 1;
	CREATE DATABASE private;
	REVOKE CONNECT ON DATABASE private FROM PUBLIC;});
ok($node->poll_query_until('postgres', q{SELECT health.started()}), 'started');
my $su = q1('SELECT current_user');	# the bootstrap superuser

# The answer for (user, database) as report() gives it: "answer reasons".
sub admission
{
	my ($user, $db) = @_;
	my @args;
	push @args, 'for_user => ' . $node->safe_psql('postgres', "SELECT quote_literal(\$x\$$user\$x\$)") if defined $user;
	push @args, "for_database => '$db'" if defined $db;
	my $a = join ', ', @args;
	return q1(qq{SELECT (r->'admission'->>'answer') || ' ' ||
		coalesce((SELECT string_agg(x->>'reason', ',') FROM jsonb_array_elements(r->'admission'->'reasons') x), '')
		FROM health.report($a) r});
}

# Does the server really admit a connection of $user to $db?
sub connects
{
	my ($user, $db) = @_;
	my ($ret, $out, $err) = $node->psql($db, 'SELECT 1', extra_params => [ '-U', $user ]);
	return $ret == 0 ? 1 : 0;
}

# --- Yes, and each "no" with its fix, against the server's own answer -------
is(admission('app', 'appdb'), 'yes ', 'app to appdb: admitted');
is(q1(q{SELECT health.ready(for_user => 'app', for_database => 'appdb')}), 't', 'ready(for_user, for_database) true');
is(connects('app', 'appdb'), 1, '... and app does connect to appdb');
is(q1(q{SELECT health.ready('primary', NULL, NULL, 'app', 'appdb')}), 't', 'positional arguments after the 1.0 ones');
is(admission('Mixed Case', 'appdb'), 'yes ', 'names are exact: "Mixed Case" is found as written');
is(admission('mixed case', 'appdb'), 'no no_such_role', '... and "mixed case" is not');

my @cases = (
	[ 'ghost', 'appdb', 'no no_such_role', 'a role that does not exist' ],
	[ 'app', 'nowhere', 'no no_such_database', 'a database that does not exist' ],
	[ 'nologin', 'appdb', 'no role_cannot_login', 'a role without LOGIN' ],
	[ 'app', 'closed', 'no database_not_allowing', 'a database that does not allow connections' ],
	[ 'app', 'private', 'no no_connect_privilege', 'a role without CONNECT on the database' ],
	[ $su, 'private', 'yes ', 'a superuser needs no CONNECT grant' ],
	[ $su, 'closed', 'no database_not_allowing', 'not even a superuser enters a database closed to connections' ],
);
for my $c (@cases)
{
	my ($user, $db, $want, $what) = @$c;
	is(admission($user, $db), $want, "$what: $want");
	is(connects($user, $db), $want =~ /^yes/ ? 1 : 0, "... as the server agrees ($user to $db)");
}
is(q1(q{SELECT health.ready(for_user => 'ghost')}), 'f', 'an unknown role: ready() false, not an error');
like(q1(q{SELECT r->'admission'->'reasons'->0->>'fix' FROM health.report(for_user => 'nologin') r}),
	qr/^ALTER ROLE nologin LOGIN;$/, 'a reason carries the command that fixes it');
like(q1(q{SELECT r->'admission'->'reasons'->0->>'fix' FROM health.report(for_user => 'app', for_database => 'private') r}),
	qr/^GRANT CONNECT ON DATABASE private TO app;$/, '... GRANT CONNECT for a missing privilege');

# an expired password: refused by password authentication
like(admission('expired', 'appdb'), qr/^no role_expired$/, 'a role whose VALID UNTIL has passed');
like(q1(q{SELECT r->'admission'->'reasons'->0->>'fix' FROM health.report(for_user => 'expired') r}),
	qr/^ALTER ROLE expired VALID UNTIL 'infinity';/, '... with its fix');
{
	# the server agrees when the role logs in with its password
	$node->append_conf('pg_hba.conf', '');
	my $hba = $node->data_dir . '/pg_hba.conf';
	open my $fh, '<', $hba or die;
	my $old = do { local $/; <$fh> };
	close $fh;
	open $fh, '>', $hba or die;
	print $fh "local all expired scram-sha-256\nhost all expired 127.0.0.1/32 scram-sha-256\n" . $old;
	close $fh;
	$node->reload;
	local $ENV{PGPASSWORD} = 'secret';
	my ($ret, $out, $err) = $node->psql('appdb', 'SELECT 1', extra_params => [ '-U', 'expired' ]);
	like($err, qr/password authentication failed for user "expired"/, '... as password authentication agrees');
}

# a grant is seen at the names worker's next pass
q1('GRANT CONNECT ON DATABASE private TO app');
ok($node->poll_query_until('postgres', q{SELECT health.ready(for_user => 'app', for_database => 'private')}),
	'after GRANT CONNECT: admitted');
is(connects('app', 'private'), 1, '... and app connects to private');

# --- CONNECTION LIMITs: a role's, a database's --------------------------------
my $held = $node->background_psql('postgres', extra_params => [ '-U', 'capped' ]);
ok($node->poll_query_until('postgres', q{SELECT NOT health.ready(for_user => 'capped')}),
	'capped holds its one session: not admitted');
like(admission('capped', 'appdb'), qr/^no role_limit$/, '... for its role CONNECTION LIMIT');
like(q1(q{SELECT r->'admission'->'reasons'->0->>'detail' || ' | ' || (r->'admission'->'reasons'->0->>'fix') FROM health.report(for_user => 'capped') r}),
	qr/^role "capped" has 1 sessions: its CONNECTION LIMIT is 1 \| ALTER ROLE capped CONNECTION LIMIT 2;/,
	'... naming its sessions, its limit and the ALTER ROLE');
is(connects('capped', 'appdb'), 0, '... as the server agrees');
is(q1(q{SELECT health.ready()}), 't', 'the server-wide verdict is unmoved');
$held->quit;
ok($node->poll_query_until('postgres', q{SELECT health.ready(for_user => 'capped')}),
	'its session ended: admitted again');

$held = $node->background_psql('limited', extra_params => [ '-U', 'app' ]);
ok($node->poll_query_until('postgres', q{SELECT NOT health.ready(for_user => 'app', for_database => 'limited')}),
	'limited holds its one session: app is not admitted there');
like(admission('app', 'limited'), qr/^no database_limit$/, '... for the database CONNECTION LIMIT');
is(connects('app', 'limited'), 0, '... as the server agrees');
is(admission($su, 'limited'), 'yes ', 'a superuser is exempt from the limit');
is(connects($su, 'limited'), 1, '... as the server agrees');
$held->quit;

# A walsender does not count against its role's limit (15.11, 16.7, 17.3 on):
# pg_health counts as the running server does.
q1('CREATE ROLE repl LOGIN REPLICATION CONNECTION LIMIT 1');
my ($win, $wout) = ('IDENTIFY_SYSTEM;\n', '');
my $walsender = IPC::Run::start(
	[ 'psql', '-XAtq', '-d', 'host=' . $node->host . ' port=' . $node->port . ' dbname=postgres user=repl replication=database' ],
	'<', \$win, '>', \$wout, '2>', \my $werr);
my $until = time + 10;
$walsender->pump_nb, usleep(50_000) while $walsender->pumpable && $wout !~ /\|/ && time < $until;
ok($node->poll_query_until('postgres', q{SELECT count(*) = 1 FROM pg_stat_activity WHERE usename = 'repl' AND backend_type = 'walsender'}),
	'a walsender of role repl (CONNECTION LIMIT 1) is connected');
q1('SELECT health.refresh()');
is(admission('repl', 'appdb'), 'yes ', '... and repl is still admitted');
is(connects('repl', 'appdb'), 1, '... as the server agrees: walsenders do not count against the limit');
$walsender->kill_kill;

# --- Slots: ordinary roles, reserved ones -------------------------------------
q1('CREATE ROLE ops LOGIN');
q1('GRANT pg_use_reserved_connections TO ops') if $v16;
my $filler = $node->background_psql('postgres');
fill_slots($node, $filler, 'app');
ok($node->poll_query_until('postgres', q{SELECT (health.report(for_user => 'app') -> 'admission' ->> 'answer') = 'no'}),
	'every ordinary slot taken: app is not admitted');
like(admission('app', 'appdb'), qr/^no no_slot$/, '... for want of a slot');
is(connects('app', 'appdb'), 0, '... as the server agrees');
is(admission($su, 'appdb'), 'yes ', 'a superuser still is admitted (its reserve)');
# over HTTP nobody learns which roles are superusers (issue 26, item 3):
# every role is judged as an ordinary one, so both answer the same
for my $who ($su, 'app')
{
	my $b = poll_body("/ready?user=$who&database=appdb", qr/"reason":"no_slot"/);
	like($b, qr/"answer":"no".*"reason":"no_slot","refuses":true,"detail":"no slot is free for ordinary roles/,
		"over HTTP, role $who with only reserved slots left: no_slot, as for any ordinary role");
}
if ($v16)
{
	is(admission('ops', 'appdb'), 'yes ', 'a member of pg_use_reserved_connections still is (16+)');
	is(q1(q{SELECT r->'admission'->'facts'->>'use_reserved_connections' FROM health.report(for_user => 'ops') r}),
		'true', '... as its facts say');
}
else
{
	is(admission('ops', 'appdb'), 'no no_slot', 'before 16 there is no reserve but the superusers\'');
}
is(q1(qq{SELECT health.ready(for_user => '$su')}), 'f',
	'the per-tenant ready() is false while the server-wide verdict is');
$filler->query_safe('SELECT dblink_disconnect(c) FROM unnest(dblink_get_connections()) AS c');
ok($node->poll_query_until('postgres', q{SELECT health.ready(for_user => 'app', for_database => 'appdb')}),
	'slots free again: app is admitted');

# --- SQL: bad arguments -------------------------------------------------------
my ($ret, $out, $err) = $node->psql('postgres', q{SELECT health.ready(for_user => '')}, extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($err, qr/22023: for_user must not be empty/, "for_user => '': 22023");
($ret, $out, $err) = $node->psql('postgres', q{SELECT health.report(for_database => repeat('x', 64))}, extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($err, qr/42622: for_database is too long: 64 bytes/, 'a 64-byte name: 42622');
like($err, qr/HINT:  Role and database names are at most 63 bytes/, '... with a hint');

# --- HTTP ----------------------------------------------------------------------
sub curl
{
	my ($path) = @_;
	my ($body, $cerr) = ('', '');
	IPC::Run::run([ 'curl', '-s', '-g', '-o', '-', '-w', '\n%{http_code}', "http://127.0.0.1:$hport$path" ],
		'<', \undef, '>', \$body, '2>', \$cerr);
	my ($b, $code) = $body =~ /^(.*)\n(\d{3})$/s;
	return ($code // 0, $b // '');
}
my ($code, $body) = poll_http($hport, '/ready?user=app&database=appdb', 200, 10);
is($code, 200, 'GET /ready?user=app&database=appdb: 200');
($code, $body) = curl('/ready?user=app&database=appdb');
is($code, 200, '... and with curl');
like($body, qr/"admission":\{"user":"app","database":"appdb","answer":"yes","admitted":true,"ready":true/,
	'... its answer carries the admission');
# (the SQL questions above were the superuser's: its own share of the table
# holds 16 pairs, so these may be asked afresh and looked up first)
$body = poll_body('/ready?user=nologin&database=appdb', qr/role_cannot_login/);
like($body, qr/"reason":"role_cannot_login".*"fix":"ALTER ROLE nologin LOGIN;"/, '/ready for a role without LOGIN: 503 with the reason and its fix');
($code, $body) = curl('/ready?user=Mixed%20Case&database=appdb');
($code, $body) = poll_http($hport, '/ready?user=Mixed+Case&database=appdb', 200, 10);
is($code, 200, '%20 and + decode to a space: "Mixed Case" is admitted');
($code, $body) = curl('/health?user=capped');
like($body, qr/"admission": \{"user": "capped"/, '/health?user= has an admission section');
($code, $body) = curl('/health');
unlike($body, qr/"admission"/, '... /health without names has none');
$body = poll_body('/ready?user=ghost', qr/no_such_role/);
like($body, qr/"answer":"no".*"reason":"no_such_role"/, 'an unknown role over HTTP: 503 "no such role", never an error');

# GET $path until its body matches $re (at most 10 s); the last body.
sub poll_body
{
	my ($path, $re) = @_;
	my $deadline = time + 10;
	my $b;
	while (1)
	{
		$b = (http_get($hport, $path))[2];
		last if $b =~ $re || time > $deadline;
		usleep(100_000);
	}
	return $b;
}

my $long = 'x' x 64;
for my $bad (
	[ '/ready?user=', qr/user must not be empty/, 'empty user' ],
	[ '/ready?database=', qr/database must not be empty/, 'empty database' ],
	[ "/ready?user=$long", qr/user is too long: names are at most 63 bytes/, '64-byte user' ],
	[ '/ready?user=' . ('%C3%A9' x 32), qr/user is too long/, '64 bytes once decoded' ],
	[ '/health?database=%ff', qr/database must be UTF-8/, 'invalid UTF-8' ],
	[ '/ready?user=%C0%80', qr/user must be UTF-8/, 'an overlong encoding' ],
	[ '/ready?user=%ED%A0%80', qr/user must be UTF-8/, 'a surrogate' ],
	[ '/ready?user=a%00b', qr/user must be UTF-8.*without %00/, 'a NUL byte' ],
	[ '/ready?user=%zz', qr/user must be UTF-8/, 'a bad escape' ],
	[ '/ready?user=a&user=b', qr/user is given twice/, 'a repeated name' ],
	[ '/live?user=app', qr/bad query/, 'a path that takes no names' ])
{
	my ($p, $re, $what) = @$bad;
	($code, $body) = curl($p);
	is($code, 400, "$what: 400");
	like($body, $re, "... saying why");
}
($code, $body) = curl('/ready?user=' . ('y' x 63));
isnt($code, 400, 'a 63-byte name is taken');

# A flood of made-up names cannot push out a pair that is being asked about.
for my $i (1 .. 300) { http_get($hport, "/ready?user=flood$i"); }
($code) = http_get($hport, '/ready?user=app&database=appdb');
is($code, 200, 'after 300 made-up names, app to appdb still answers 200 at once');
($code, $body) = poll_http($hport, '/ready?user=newcomer', 503, 5);
like($body, qr/"reason":"(no_such_role|asked_table_full|looking_up)"/, 'a new question during the flood is answered, if only "ask again"');
like(poll_body('/ready?user=newcomer', qr/"no_such_role"/), qr/"reason":"no_such_role"/,
	'... and gets its answer within a pass or two');

# --- A component that names the role and database it connects with ---------
q1(q{ALTER SYSTEM SET pg_health.required_components = 'api'; SELECT pg_reload_conf()});
q1(q{SELECT health.configure_component('api', for_user => 'nologin', for_database => 'appdb')});
q1(q{SELECT health.set_component_state('api', 'ready')});
ok($node->poll_query_until('postgres', q{SELECT status = 'critical' AND detail LIKE '%would be refused%'
	FROM health.checks WHERE name = 'component:api'}),
	'a required component whose role cannot log in: critical');
like(q1(q{SELECT detail FROM health.checks WHERE name = 'component:api'}),
	qr/^component "api" is ready, for \d+ s; a new connection as role "nologin" to database "appdb" would be refused: role "nologin" is not permitted to log in \(ALTER ROLE nologin LOGIN;\)$/,
	'... its detail says why and how to fix it');
is(q1(q{SELECT health.ready()}), 'f', '... and the server is not ready, as for any required component that cannot work');
is(q1(q{SELECT c->>'for_user' || ' ' || (c->>'for_database') || ' ' || (c->>'admission')
	FROM jsonb_array_elements(health.report()->'components') c WHERE c->>'name' = 'api'}),
	'nologin appdb no', 'the report shows its role, database and admission');
is(q1(q{SELECT for_user || ' ' || for_database || ' ' || admission FROM health.components WHERE name = 'api'}),
	'nologin appdb no', '... and so does health.components');
q1('ALTER ROLE nologin LOGIN');
ok($node->poll_query_until('postgres', q{SELECT health.ready()}), 'ALTER ROLE nologin LOGIN: ready again');

q1(q{SELECT health.configure_component('api', for_user => 'capped', for_database => 'appdb')});
$held = $node->background_psql('appdb', extra_params => [ '-U', 'capped' ]);
ok($node->poll_query_until('postgres', q{SELECT status = 'warning' FROM health.checks WHERE name = 'component:api'}),
	'its role at its CONNECTION LIMIT: only a warning');
like(q1(q{SELECT detail FROM health.checks WHERE name = 'component:api'}),
	qr/would be refused \(its pool cannot grow\): role "capped" has 1 sessions: its CONNECTION LIMIT is 1/,
	'... that says its pool cannot grow');
is(q1(q{SELECT health.ready()}), 't', '... and the server stays ready');
$held->quit;
ok($node->poll_query_until('postgres', q{SELECT status = 'ok' FROM health.checks WHERE name = 'component:api'}),
	'its session ended: ok');

($ret, $out, $err) = $node->psql('postgres', q{SELECT health.configure_component('api', for_user => '')}, extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($err, qr/22023: for_user must not be empty/, "configure_component(for_user => ''): 22023");
($ret, $out, $err) = $node->psql('postgres', q{SELECT health.configure_component('api', for_database => 'not_yet')});
like($err, qr/WARNING:  database "not_yet" does not exist/, 'a database that does not exist yet: taken, with a warning');
ok($node->poll_query_until('postgres', q{SELECT status = 'critical' AND detail LIKE '%database "not_yet" does not exist%' FROM health.checks WHERE name = 'component:api'}),
	'... and the check says so until it does');
q1(q{SELECT health.drop_component('api'); ALTER SYSTEM RESET pg_health.required_components; SELECT pg_reload_conf()});
ok($node->poll_query_until('postgres', q{SELECT health.ready()}), 'component dropped: ready');

# Made-up names leave nothing behind in the names worker (it looks roles up
# without the system cache, whose negative entries would pile up).
my ($names_pid) = worker_pids($node, 'pg_health names');
my $rss0 = rss_anon_kb($names_pid);
for my $i (1 .. 3000) { http_get($hport, "/ready?user=made_up_$i&database=nowhere_$i"); }
my $grown = rss_anon_kb($names_pid) - $rss0;
cmp_ok($grown, '<', 300, "3,000 made-up names: the names worker grew $grown kB");

# Over HTTP the CONNECT privilege is judged as for an ordinary role: a
# superuser's answer does not differ from anyone's without the grant (on a
# database someone else owns, without CONNECT for PUBLIC).
q1(q{CREATE ROLE dbowner; CREATE ROLE stranger LOGIN});
$node->safe_psql('postgres', 'CREATE DATABASE elsewhere OWNER dbowner');
q1('REVOKE CONNECT ON DATABASE elsewhere FROM PUBLIC');
is(admission($su, 'elsewhere'), 'yes ', 'from SQL a superuser is admitted to it, as the server would');
for my $who ($su, 'stranger')
{
	my $b = poll_body("/ready?user=$who&database=elsewhere", qr/"reason":"no_connect_privilege"/);
	like($b, qr/"reason":"no_connect_privilege"/,
		"over HTTP, role $who on a database without CONNECT for PUBLIC: no_connect_privilege, as for any role without the grant");
}

# Over HTTP the answer carries its reasons, not the facts.
q1('CREATE ROLE locked NOLOGIN');
$body = poll_body('/ready?user=locked&database=appdb', qr/role_cannot_login/);
like($body, qr/"facts":null,"reasons":\[\{"reason":"role_cannot_login"/, 'over HTTP: reasons, no facts');

# Someone who keeps asking about many pairs that exist holds the HTTP part of
# the table; SQL callers keep their reserve.
q1(join '; ', map { "CREATE ROLE filler$_ LOGIN" } 1 .. 20);
my @dbs = ('appdb', 'closed', 'limited', 'private', 'postgres', 'template1');
my @roles = ((map { "filler$_" } 1 .. 20), 'app', 'ops');
my @pairs = map { my $r = $_; map { "user=$r&database=$_" } @dbs } @roles;
for my $round (1 .. 3)
{
	http_get($hport, "/ready?$_") for @pairs;
	usleep(300_000);
}
my $full = grep { (http_get($hport, "/ready?$_"))[2] =~ /asked_table_full/ } @pairs;
cmp_ok($full, '>', 0, "with " . scalar(@pairs) . " pairs that exist asked over HTTP, $full find the HTTP part of the table full");
is(admission('Mixed Case', 'limited'), 'yes ', '... a new question from SQL is still answered');
is((http_get($hport, '/ready?user=app&database=appdb'))[0], 200, '... and app to appdb still answers 200');

# the names worker stays alive and the server up through all of it
is(q1(q{SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pg_health names'}), '1', 'the names worker runs');

# pg_health.http_admission = off: the question is refused, the rest answers
q1(q{ALTER SYSTEM SET pg_health.http_admission = off; SELECT pg_reload_conf()});
($code, $body) = poll_http($hport, '/ready?user=app', 403, 10);
is($code, 403, 'pg_health.http_admission = off: 403');
like($body, qr/pg_health.http_admission/, '... naming the setting');
is((http_get($hport, '/ready'))[0], 200, '... /ready without names still answers');

$node->stop;
done_testing();
