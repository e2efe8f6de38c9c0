# The Python package (clients/python, docs/python.md) against a real
# preloaded server, with the frameworks as Debian packages them, no mocks:
# a virtualenv from Debian's python3 with the package pip-installed offline,
# then
#  - the library's own checks (clients/python/tests/check_library.py): the
#    component's life cycle, errors that say what to do (extension missing,
#    not preloaded, not the reporter, no right to the report, no server), a
#    hostile search_path, the pool reporters of psycopg_pool, SQLAlchemy and
#    asyncpg, Starlette's routes through its ASGI interface, every thread,
#    task and connection closed;
#  - (a) FastAPI + SQLAlchemy's asyncio engine (asyncpg) under uvicorn: its
#    /health/ready 503 while its component is starting (its start-up held by
#    a file this test writes), 200 once ready, the per-tenant route, 503
#    while its pool is exhausted and 200 after, 503 within its timeout while
#    its readiness connection's backend is stopped (SIGSTOP);
#  - (b) the same through Flask (psycopg 3, psycopg_pool, werkzeug's server)
#    and Django (runserver); (c) a required component's failed start-up
#    (Django's) is 503 with the exception's message;
#  - the database stopped: every route 503 within its timeout, 200 again
#    after the start (the components report themselves again); SIGTERM: each
#    application reports its component stopped.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use HTTP::Tiny;
use JSON::PP;
use IPC::Run;
use Time::HiRes qw(time usleep);
use File::Basename qw(dirname);
use Cwd qw(abs_path);

my $t_begin = time;
my $root = abs_path(dirname(__FILE__) . '/../..');
my $tests = "$root/clients/python/tests";
# Debian's python3 (the python3 first on PATH may be another interpreter),
# with the frameworks scripts/lib.sh installs.  Not a skip: a test that
# silently skips cannot fail.
my $python = '/usr/bin/python3';
die "Debian's $python is needed\n" unless -x $python;
my %package_of = (
	fastapi => 'python3-fastapi', uvicorn => 'python3-uvicorn', sqlalchemy => 'python3-sqlalchemy',
	asyncpg => 'python3-asyncpg', psycopg => 'python3-psycopg', psycopg_pool => 'python3-psycopg-pool',
	psycopg2 => 'python3-psycopg2', flask => 'python3-flask', django => 'python3-django',
	setuptools => 'python3-setuptools', wheel => 'python3-wheel', ensurepip => 'python3-venv');
my @missing = grep { system($python, '-c', "import $_") != 0 } sort keys %package_of;
die "missing for $python: @missing (Debian: @package_of{@missing}; scripts/test installs them)\n" if @missing;

my $versions = `$python -c 'import importlib.metadata as m, sys; print(sys.version.split()[0], *("%s %s" % (d, m.version(d)) for d in ("fastapi", "starlette", "uvicorn", "SQLAlchemy", "asyncpg", "psycopg", "psycopg-pool", "psycopg2", "Flask", "Werkzeug", "Django", "setuptools")), sep=", ")'`;
chomp $versions;
note("Python $versions");

# ------------------------------------------------------------ the servers
my $node = PostgreSQL::Test::Cluster->new('python');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_health'
pg_health.sample_interval = 100ms
});
$node->start;
my ($host, $port) = ($node->host, $node->port);
my $su = $node->safe_psql('postgres', 'SELECT current_user');
$node->safe_psql('postgres', q{
	CREATE EXTENSION pg_health;
	CREATE DATABASE noext;
	CREATE ROLE other LOGIN;
});
for my $role (qw(api_svc web_svc dj_svc lib_svc sp_svc))
{
	# each service's role: it logs in and reads the report
	$node->safe_psql('postgres', "CREATE ROLE $role LOGIN; GRANT pg_monitor TO $role;");
}
$node->safe_psql('postgres', q{
	SELECT health.configure_component('api', reporter => 'api_svc', ttl => '5s', pool_max_wait => '1s');
	SELECT health.configure_component('web', reporter => 'web_svc', ttl => '5s', pool_max_wait => '1s');
	SELECT health.configure_component('dj', reporter => 'dj_svc', ttl => '5s');
	SELECT health.configure_component('lib', reporter => 'lib_svc', ttl => '30s');
	SELECT health.configure_component('sp', reporter => 'sp_svc', ttl => '30s');
	-- sp_svc's search_path puts hostile objects before pg_catalog
	CREATE SCHEMA evil AUTHORIZATION sp_svc;
	CREATE DOMAIN evil.text AS pg_catalog.int4;
	CREATE FUNCTION evil.make_interval(secs double precision) RETURNS interval LANGUAGE plpgsql
	  AS $$BEGIN RAISE EXCEPTION 'hijacked make_interval'; END$$;
	ALTER ROLE sp_svc SET search_path = evil, pg_catalog;
});
# the extension without its library preloaded
my $unloaded = PostgreSQL::Test::Cluster->new('python_unloaded');
$unloaded->init;
$unloaded->start;
$unloaded->safe_psql('postgres', 'CREATE EXTENSION pg_health');

# ------------------------------------- the package, installed offline
my $tmp = PostgreSQL::Test::Utils::tempdir();
my $venv = "$tmp/venv";
# Python puts the current directory first on sys.path for "-c" and "-m":
# in the tree it would import the extension's own pg_health.so as the module
chdir $tmp or die "chdir $tmp: $!";
sub run_ok
{
	my ($cmd, $what) = @_;
	my $out = '';
	my $ok = IPC::Run::run($cmd, '<', \undef, '>&', \$out, IPC::Run::timeout(180));
	ok($ok, $what) or diag("@$cmd:\n$out");
	return $out;
}
# a copy: pip builds in the tree it is given
system('cp', '-r', "$root/clients/python", "$tmp/pkg") == 0 or die "cp: $?";
my $t0 = time;
run_ok([ $python, '-m', 'venv', '--system-site-packages', $venv ],
	'a virtualenv from Debian\'s python3, seeing its packages');
{
	local $ENV{PIP_NO_INDEX} = '1';
	local $ENV{PIP_DISABLE_PIP_VERSION_CHECK} = '1';
	run_ok([ "$venv/bin/pip", 'install', '--no-index', '--no-build-isolation', '--no-cache-dir', '-q', "$tmp/pkg" ],
		'pip install --no-index --no-build-isolation clients/python');
}
note(sprintf('virtualenv and install: %.1f s', time - $t0));
my $vpython = "$venv/bin/python";
like(`$vpython -c 'import pg_health; print(pg_health.__file__)'`, qr{^\Q$venv\E/lib/python3[.\d]*/site-packages/pg_health/__init__\.py$},
	'pg_health is imported from the virtualenv (installed, not from the checkout)');
ok(scalar(glob("$venv/lib/python3*/site-packages/pg_health/py.typed")), '... with py.typed (typed package)');
is(`$vpython -c 'import sys, pg_health; print(sorted(m for m in ("psycopg", "psycopg2", "asyncpg", "sqlalchemy", "fastapi", "flask", "django") if m in sys.modules))'`,
	"[]\n", 'importing pg_health imports no driver and no framework');

# ----------------------------------------------------- the library's checks
{
	my $out = '';
	IPC::Run::run([ $vpython, "$tests/check_library.py", '--host', $host, '--port', $port,
			'--unloaded-port', $unloaded->port, '--superuser', $su ],
		'<', \undef, '>&', \$out, IPC::Run::timeout(120));
	my $rc = $? >> 8;
	my $n = 0;
	for my $line (split /\n/, $out)
	{
		if ($line =~ /^ok - (.*)$/) { pass("library: $1"); $n++; }
		elsif ($line =~ /^not ok - (.*)$/) { fail("library: $1"); $n++; }
	}
	cmp_ok($n, '>=', 45, 'the library\'s checks ran (each group at least once)');
	is($rc, 0, 'check_library.py passed') or diag($out);
}

# ---------------------------------------------------------- the docs' code
{
	# every ```python block of docs/python.md compiles, and every name of
	# the package it uses exists in the installed package
	my $out = '';
	IPC::Run::run([ $vpython, '-c', q{
import importlib, re, sys
text = open(sys.argv[1]).read()
blocks = re.findall(r"^```python\n(.*?)^```$", text, re.S | re.M)
for i, b in enumerate(blocks):
    compile(b, "docs/python.md block %d" % (i + 1), "exec")
# the package's names: in its python blocks, and called in the prose
# (pg_health.<setting> names a server setting, not the package)
names = set()
for b in blocks:
    names.update(re.findall(r"\bpg_health(?:\.[A-Za-z_]\w*)+", b))
names.update(re.findall(r"\b(pg_health(?:\.[A-Za-z_]\w*)+)\(", text))
names = sorted(names)
bad = []
for n in names:
    parts = n.split(".")
    obj = importlib.import_module("pg_health")
    path = "pg_health"
    for p in parts[1:]:
        path += "." + p
        if hasattr(obj, p):
            obj = getattr(obj, p)
            continue
        try:
            obj = importlib.import_module(path)
        except ImportError:
            bad.append(n)
            break
print(len(blocks), len(names), " ".join(bad))
}, "$root/docs/python.md" ], '<', \undef, '>&', \$out, IPC::Run::timeout(60));
	my ($blocks, $names, $bad) = $out =~ /^(\d+) (\d+) ?(.*)$/m;
	cmp_ok($blocks // 0, '>=', 5, "docs/python.md: its python blocks compile") or diag($out);
	is($bad, '', "docs/python.md: the $names pg_health names it mentions exist") or diag($out);
}

# ------------------------------------------------------------ HTTP helpers
my $http = HTTP::Tiny->new(timeout => 10);
sub get
{
	my ($app_port, $path) = @_;
	my $t = time;
	my $r = $http->get("http://127.0.0.1:$app_port$path");
	my $body = eval { decode_json($r->{content}) } // {};
	return ($r->{status}, $body, time - $t);
}
# GET until the status is $want and $cond (if any) holds for the body
sub wait_for
{
	my ($app_port, $path, $want, $secs, $cond) = @_;
	my $deadline = time + $secs;
	my ($status, $body, $took);
	while (1)
	{
		($status, $body, $took) = get($app_port, $path);
		return ($status, $body, $took) if $status == $want && (!$cond || $cond->($body));
		last if time > $deadline;
		usleep(50_000);
	}
	return ($status, $body, $took);
}
sub reason
{
	my ($body, $check) = @_;
	my ($r) = grep { ($_->{check} // '') eq $check } @{ $body->{reasons} // [] };
	return $r // {};
}
sub require_components
{
	my ($list) = @_;
	$node->safe_psql('postgres', "ALTER SYSTEM SET pg_health.required_components = '$list'");
	$node->safe_psql('postgres', 'SELECT pg_reload_conf()');
	$node->poll_query_until('postgres', "SELECT current_setting('pg_health.required_components') = '$list'")
	  or die "the setting did not take";
}
my %logs;
sub start_app
{
	my ($name, $cmd, $env) = @_;
	local %ENV = (%ENV, %$env);
	$logs{$name} = "$tmp/$name.log";
	# output to a file: a pipe nobody reads would fill and stop the server
	return IPC::Run::start($cmd, '<', \undef, '>&', $logs{$name});
}
sub hold_pool
{
	my ($app_port, $n, $seconds) = @_;
	return map {
		IPC::Run::start([ 'curl', '-s', '-o', '/dev/null', '-m', '30', "http://127.0.0.1:$app_port/work?seconds=$seconds" ])
	} 1 .. $n;
}
# the backend serving an application's readiness route
sub backend_of
{
	my ($application_name) = @_;
	my $pid = $node->safe_psql('postgres', "SELECT pid FROM pg_stat_activity WHERE application_name = '$application_name'");
	return $pid =~ /^\d+$/ ? $pid : undef;
}
# SIGSTOP the backend of the route's connection: the route answers 503
# "did not answer within" within its timeout (2 s); SIGCONT: 200 again
sub frozen_backend
{
	my ($label, $app_port, $application_name) = @_;
	my $pid = backend_of($application_name);
	ok($pid, "$label: its readiness connection is its own ($application_name)");
	return unless $pid;
	kill 'STOP', $pid;
	my ($status, $body, $took) = get($app_port, '/health/ready');
	kill 'CONT', $pid;
	is($status, 503, "$label: its connection's backend stopped (SIGSTOP): /health/ready 503, not a hang or a 500");
	is(($body->{error} // {})->{error}, 'TimedOut', "$label: ... TimedOut: " . (($body->{error} // {})->{message} // ''));
	cmp_ok($took, '<', 3.0, sprintf("$label: ... within its 2 s timeout (%.2f s)", $took));
	cmp_ok($took, '>=', 1.9, "$label: ... after waiting for it");
	($status) = wait_for($app_port, '/health/ready', 200, 15);
	is($status, 200, "$label: the backend resumed (SIGCONT): 200 again");
}
my ($api_port, $web_port, $dj_port) = map { PostgreSQL::Test::Cluster::get_free_port() } 1 .. 3;

# ------------------------------- (a) FastAPI + SQLAlchemy asyncio + asyncpg
require_components('api');
my $api = start_app('api',
	[ $vpython, '-m', 'uvicorn', 'fastapi_app:app', '--app-dir', $tests, '--host', '127.0.0.1',
	  '--port', $api_port, '--log-level', 'warning' ],
	{ PGH_URL => "postgresql+asyncpg://api_svc@/postgres?host=$host&port=$port",
	  PGH_GO_FILE => "$tmp/go-api", PGH_TENANT_USER => 'ghost' });
my ($status, $body, $took) = wait_for($api_port, '/health/live', 200, 30);
is($status, 200, 'fastapi: uvicorn serves /health/live') or diag(slurp_file($logs{api}));
is($body->{component}{state}, 'starting', 'fastapi: /health/live shows the component starting, without asking the database');
($status, $body) = wait_for($api_port, '/health/ready', 503, 15,
	sub { (reason($_[0], 'component:api')->{detail} // '') =~ /is starting, .*: waiting for the go file/ });
is($status, 503, 'fastapi: while its start-up waits: /health/ready 503');
like(reason($body, 'component:api')->{detail}, qr/^component "api" is starting, for \d+ s: waiting for the go file(;|$)/,
	'fastapi: ... the reason is its component, starting, with its detail');
is($body->{status}, 'starting', 'fastapi: ... the server is starting (a required component has not been ready)');
$t0 = time;
append_to_file("$tmp/go-api", 'go');
($status, $body) = wait_for($api_port, '/health/ready', 200, 15);
is($status, 200, 'fastapi: once its start-up is done: 200');
note(sprintf('fastapi: 200 %.2f s after the go file', time - $t0));
is($body->{ok}, JSON::PP::true, 'fastapi: ... ok true');
($status, $body) = get($api_port, '/health');
is($status, 200, 'fastapi: /health 200');
my ($api_comp) = grep { $_->{name} eq 'api' } @{ $body->{components} // [] };
is($api_comp->{state}, 'ready', 'fastapi: /health is the whole report: its component ready');
($status, $body) = wait_for($api_port, '/tenant/ready', 503, 10,
	sub { (($_[0]{admission} // {})->{answer} // '') eq 'no' });
is($status, 503, 'fastapi: per tenant (for_user ghost): 503 while the server is ready');
is(($body->{admission}{reasons}[0] // {})->{reason}, 'no_such_role', 'fastapi: ... no_such_role, in the admission');

# its pool of 2 (SQLAlchemy's AsyncAdaptedQueuePool), 4 requests of 2.5 s
my @load = hold_pool($api_port, 4, 2.5);
($status, $body) = wait_for($api_port, '/health/ready', 503, 10,
	sub { (reason($_[0], 'component:api')->{status} // '') eq 'critical' });
is($status, 503, 'fastapi: its pool exhausted, requests waiting longer than pool_max_wait: 503');
like(reason($body, 'component:api')->{detail},
	qr/its own pool: 2 in use, 0 idle, \d+ waiting, max 2, the longest wait \d+\.\d s, longer than its pool_max_wait \(1\.0 s\)/,
	'fastapi: ... the reason: its own pool, the waits the package measured');
$_->finish for @load;
($status) = wait_for($api_port, '/health/ready', 200, 15);
is($status, 200, 'fastapi: the load gone: 200 again');
frozen_backend('fastapi', $api_port, 'api readiness');

# ---------------------------------------- (b) Flask + psycopg 3 + psycopg_pool
require_components('api, web');
my $web = start_app('web', [ $vpython, "$tests/flask_app.py", $web_port ],
	{ PGH_DSN => "host=$host port=$port dbname=postgres user=web_svc", PGH_GO_FILE => "$tmp/go-web" });
($status) = wait_for($web_port, '/health/live', 200, 30);
is($status, 200, 'flask: werkzeug serves /health/live') or diag(slurp_file($logs{web}));
($status, $body) = wait_for($web_port, '/health/ready', 503, 15,
	sub { (reason($_[0], 'component:web')->{detail} // '') =~ /is starting, .*: waiting for the go file/ });
is($status, 503, 'flask: while its start-up waits: 503');
like(reason($body, 'component:web')->{detail}, qr/^component "web" is starting, for \d+ s: waiting for the go file(;|$)/,
	'flask: ... its component starting, with its detail');
append_to_file("$tmp/go-web", 'go');
($status) = wait_for($web_port, '/health/ready', 200, 15);
is($status, 200, 'flask: once its start-up is done: 200');
($status, $body) = wait_for($web_port, '/tenant/ready', 200, 10);
is($status, 200, 'flask: per tenant (for_user web_svc, for_database postgres): 200');
is(($body->{admission} // {})->{answer}, 'yes', 'flask: ... admitted, in the admission');
@load = hold_pool($web_port, 4, 2.5);
($status, $body) = wait_for($web_port, '/health/ready', 503, 10,
	sub { (reason($_[0], 'component:web')->{status} // '') eq 'critical' });
is($status, 503, 'flask: its psycopg_pool pool exhausted: 503');
like(reason($body, 'component:web')->{detail},
	qr/its own pool: 2 in use, 0 idle, \d+ waiting, max 2, the longest wait \d+\.\d s, longer than its pool_max_wait \(1\.0 s\)/,
	'flask: ... the reason: its own pool');
$_->finish for @load;
($status) = wait_for($web_port, '/health/ready', 200, 15);
is($status, 200, 'flask: the load gone: 200 again');
frozen_backend('flask', $web_port, 'web readiness');

# ------------------------- (b) Django, runserver; (c) a failed start-up
require_components('api, web, dj');
my $dj = start_app('dj', [ $vpython, "$tests/django_app.py", $dj_port ],
	{ PGH_HOST => $host, PGH_PORT => $port, PGH_USER => 'dj_svc', PGH_GO_FILE => "$tmp/go-dj" });
($status) = wait_for($dj_port, '/health/live', 200, 30);
is($status, 200, 'django: runserver serves /health/live') or diag(slurp_file($logs{dj}));
is($http->post("http://127.0.0.1:$dj_port/health/ready")->{status}, 405, 'django: POST is 405 (GET and HEAD only)');
is($http->head("http://127.0.0.1:$dj_port/health/live")->{status}, 200, 'django: HEAD 200');
($status, $body) = wait_for($dj_port, '/health/ready', 503, 15,
	sub { (reason($_[0], 'component:dj')->{detail} // '') =~ /is starting, .*: waiting for the go file/ });
is($status, 503, 'django: while its start-up waits: 503');
like(reason($body, 'component:dj')->{detail}, qr/^component "dj" is starting, for \d+ s: waiting for the go file(;|$)/,
	'django: ... its component starting, with its detail');
append_to_file("$tmp/go-dj", 'fail: schema version 41, expected 42');
($status, $body) = wait_for($dj_port, '/health/ready', 503, 15,
	sub { (reason($_[0], 'component:dj')->{detail} // '') =~ /is failed/ });
is($status, 503, 'django: its start-up step raised: 503');
like(reason($body, 'component:dj')->{detail},
	qr/^component "dj" is failed, for \d+ s: checking the schema: RuntimeError: schema version 41, expected 42$/,
	'django: ... the required component failed, with the exception\'s message');
is(reason($body, 'component:dj')->{status}, 'critical', 'django: ... critical');
($status) = get($api_port, '/health/ready');
is($status, 503, 'the one verdict: FastAPI\'s route says 503 too');
# the file changes: it tries again
open my $fh, '>', "$tmp/go-dj" or die $!;
print $fh "go\n";
close $fh;
($status) = wait_for($dj_port, '/health/ready', 200, 15);
is($status, 200, 'django: the step passes on the next try: 200');
($status) = get($web_port, '/health/ready');
is($status, 200, '... and every application\'s route agrees');

# ------------------------------------------------- the database stopped
$node->stop;
for my $app ([ 'fastapi', $api_port ], [ 'flask', $web_port ], [ 'django', $dj_port ])
{
	my ($label, $app_port) = @$app;
	($status, $body, $took) = get($app_port, '/health/ready');
	is($status, 503, "$label: the database stopped: /health/ready 503 (not a 500)");
	is($body->{status}, 'unknown', "$label: ... status unknown");
	is(($body->{error} // {})->{error}, 'DatabaseUnavailable', "$label: ... DatabaseUnavailable: "
		  . (($body->{error} // {})->{message} // ''));
	cmp_ok($took, '<', 2.5, sprintf("$label: ... within its 2 s timeout (%.2f s)", $took));
	($status, $body, $took) = get($app_port, '/health');
	is($status, 503, sprintf("$label: ... /health 503 too (%.2f s)", $took));
	($status) = get($app_port, '/health/live');
	is($status, 200, "$label: ... /health/live still 200: the process is alive");
}
$node->start;
$t0 = time;
for my $app ([ 'fastapi', $api_port ], [ 'flask', $web_port ], [ 'django', $dj_port ])
{
	my ($label, $app_port) = @$app;
	($status) = wait_for($app_port, '/health/ready', 200, 30);
	is($status, 200, "$label: the database started again: 200 (its component reported itself again)");
}
note(sprintf('after the start, every route 200 within %.1f s', time - $t0));
is($node->safe_psql('postgres', q{SELECT string_agg(name || ' ' || state, ', ' ORDER BY name)
                                   FROM health.components WHERE name IN ('api', 'web', 'dj')}),
	'api ready, dj ready, web ready', 'the restarted server knows the three components again, ready');

# ------------------------------------------------------------- shutdown
$api->signal('TERM');
$web->signal('TERM');
$dj->signal('TERM');
$_->finish for $api, $web, $dj;
ok($node->poll_query_until('postgres', q{SELECT health.refresh() AND count(*) = 3 FROM health.components
                                         WHERE name IN ('api', 'web', 'dj') AND state = 'stopped'}),
	'SIGTERM: each application reported its component stopped (uvicorn\'s lifespan, the signal handler)');
is($node->safe_psql('postgres', q{SELECT detail FROM health.components WHERE name = 'web'}),
	'signal SIGTERM', 'flask: ... with the detail "signal SIGTERM"');
# (a backend leaves pg_stat_activity once it has read its client's goodbye)
ok($node->poll_query_until('postgres', q{SELECT count(*) = 0 FROM pg_stat_activity WHERE application_name ~ '(pg_health|readiness|tenant)$'}),
	'no connection of the applications is left');
like(slurp_file($logs{api}), qr/api stopped/, 'fastapi: its lifespan ended (readiness, engine closed)');

note(sprintf('043 took %.0f s', time - $t_begin));
$unloaded->stop;
$node->stop;
done_testing();
