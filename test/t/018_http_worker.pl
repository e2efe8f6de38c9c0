# The HTTP endpoint in a worker of its own ("pg_health http"), a reader of
# the published snapshot like any SQL backend: it never waits for the
# sampler, and the sampler never waits for it.  The sampler frozen (SIGSTOP):
# /live says 503 "unknown" once the snapshot is older than stale_after, every
# probe answered meanwhile, and 200 again after SIGCONT.  The sampler gone
# (SIGTERM): 503 "unknown" at once, until it is back.  The HTTP worker
# frozen or gone: sampling and SQL go on, and after SIGTERM the postmaster
# restarts it and the endpoint answers again; exactly one at any time.  With
# http_port = 0 (reload) the worker stays and serves nothing, and a reload
# brings the endpoint back.  And its memory: 2,000 requests to each path
# leave its RssAnon within 2 MB of what it was after a warm-up.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use JSON::PP;
use Time::HiRes qw(time usleep);
use File::Basename qw(dirname);
use PgHealthTest;

my $stale_ms = 1000;
my $probe_c = dirname(__FILE__) . '/../../bench/http_probe.c';
my $probe = PostgreSQL::Test::Utils::tempdir() . '/http_probe';
system('cc', '-O2', '-o', $probe, $probe_c, '-lpthread') == 0 or die "cannot build $probe_c";

my $hport = PostgreSQL::Test::Cluster::get_free_port();
my $node = PostgreSQL::Test::Cluster->new('httpworker');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_health'
pg_health.sample_interval = 100ms
pg_health.stale_after = ${stale_ms}ms
pg_health.http_port = $hport
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION pg_health');
$node->poll_query_until('postgres', 'SELECT health.ready()');

sub q1 { return $node->safe_psql('postgres', $_[0]); }
sub http_pids { return worker_pids($node, 'pg_health http'); }
sub sampler_pids { return worker_pids($node, 'pg_health sampler'); }
sub generation { return q1('SELECT generation FROM health.status'); }

# Whatever happens below, never leave a process stopped: the node could not
# shut down.
my @stopped;
END { kill 'CONT', @stopped if @stopped; }

# The status and the JSON body of one probe, and its time.
sub probe
{
	my ($path) = @_;
	my ($st, undef, $body, $secs) = http_get($hport, $path);
	my $doc = eval { decode_json($body) } // {};
	return ($st, $doc, $secs);
}

my @http = http_pids();
my @sampler = sampler_pids();
is(scalar(@http), 1, 'one pg_health http worker, a child of the postmaster');
is(scalar(@sampler), 1, 'one sampler');
isnt($http[0], $sampler[0], '... in a process of its own');
is((poll_http($hport, '/live', 200))[0], 200, '/live 200');

# The sampler frozen.  The last copy is fresh for up to stale_after, then
# the verdict says unknown; every probe meanwhile is answered at once (a
# probe the worker could not answer would take its 5 s timeout).
kill 'STOP', $sampler[0];
push @stopped, $sampler[0];
my $t0 = time;
my ($st, $doc, $secs, $worst, $first200, $n) = (0, {}, 0, 0, 0, 0);
while (time - $t0 < 10)
{
	($st, $doc, $secs) = probe('/live');
	$n++;
	$worst = $secs if $secs > $worst;
	$first200++ if $st == 200;
	last if $st == 503;
	usleep(50_000);
}
my $after = time - $t0;
is($st, 503, 'the sampler frozen (SIGSTOP): /live 503');
is($doc->{status}, 'unknown', '... status unknown');
ok(!$doc->{live}, '... not live');
like(join(' ', map { "$_->{check}: $_->{detail}" } @{ $doc->{reasons} // [] }),
	qr/sampler: last sample is [\d.]+ s old \(limit 1\.0 s\): the pg_health worker \(pid $sampler[0]\) is not sampling/,
	'... the sampler check says why');
cmp_ok($after, '<=', $stale_ms / 1000 + 0.5,
	sprintf('... within stale_after (%d ms) and a 500 ms margin: %.2f s after SIGSTOP, %d probes',
		$stale_ms, $after, $n));
cmp_ok($worst, '<', 1, sprintf('... every probe answered meanwhile (the slowest in %.1f ms)', 1000 * $worst));
my ($rst, $rdoc) = probe('/ready');
is("$rst $rdoc->{status}", '503 unknown', '/ready 503 unknown too');
my ($mst, undef, $mbody) = http_get($hport, '/metrics');
is($mst, 200, '/metrics answers');
like($mbody, qr/^pg_health_live 0$/m, '... pg_health_live 0');
my ($hst, undef, $hbody) = http_get($hport, '/health');
is($hst, 503, '/health 503');
like($hbody, qr/"status": "unknown"/, '... status unknown');
kill 'CONT', $sampler[0];
@stopped = ();
is((poll_http($hport, '/live', 200, 10))[0], 200, 'SIGCONT: /live 200 again');
is((sampler_pids())[0], $sampler[0], '... from the same sampler');

# The sampler gone: unknown at once (its pid is cleared), until the
# postmaster restarts it.
kill 'TERM', $sampler[0];
$t0 = time;
($st, $doc) = (0, {});
for (1 .. 100)
{
	($st, $doc) = probe('/live');
	last if $st == 503;
	usleep(20_000);
}
is("$st $doc->{status}", '503 unknown', 'the sampler terminated (SIGTERM): /live 503 unknown');
like(join(' ', map { $_->{detail} } @{ $doc->{reasons} // [] }), qr/is not running/, '... "not running"');
cmp_ok(time - $t0, '<', 1, sprintf('... within a second (%.2f s)', time - $t0));
is((poll_http($hport, '/live', 200))[0], 200, 'the sampler restarted: /live 200');
isnt((sampler_pids())[0] // 0, $sampler[0], '... a new sampler');
is(scalar(http_pids()), 1, '... and the same one HTTP worker');
is((http_pids())[0], $http[0], '... which did not restart');

# The HTTP worker frozen: sampling and SQL go on.
kill 'STOP', $http[0];
push @stopped, $http[0];
my $g0 = generation();
ok($node->poll_query_until('postgres', "SELECT generation > $g0 + 5 FROM health.status"),
	'the HTTP worker frozen (SIGSTOP): sampling goes on');
is(q1('SELECT health.ready()'), 't', '... and SQL answers, ready');
kill 'CONT', $http[0];
@stopped = ();
is((poll_http($hport, '/ready', 200, 10))[0], 200, 'SIGCONT: /ready 200');

# The HTTP worker terminated: sampling and SQL go on, the postmaster
# restarts it (2 s), the endpoint answers again; one worker at any time.
kill 'TERM', $http[0];
$t0 = time;
usleep(20_000) while kill(0, $http[0]) && time - $t0 < 10;
ok(!kill(0, $http[0]), 'the HTTP worker terminated (SIGTERM)');
is((http_get($hport, '/live'))[0], 0, '... the endpoint is closed');
$g0 = generation();
ok($node->poll_query_until('postgres', "SELECT generation > $g0 FROM health.status"), '... sampling goes on');
is(q1('SELECT health.ready()'), 't', '... SQL: health.ready() true');
is((poll_http($hport, '/ready', 200))[0], 200, 'the endpoint answers again');
my $back = time - $t0;
diag(sprintf('the HTTP worker terminated: the endpoint answered again after %.2f s', $back));
cmp_ok($back, '<', 10, sprintf('... %.1f s after SIGTERM (the postmaster restarts it after 2 s)', $back));
my @http2 = http_pids();
is(scalar(@http2), 1, '... exactly one HTTP worker');
isnt($http2[0], $http[0], '... a new one');
like(slurp_file($node->logfile), qr/terminating background worker "pg_health http" due to administrator command/,
	'... its end is logged');

# http_port = 0: the worker stays, listening nowhere; a reload brings the
# endpoint back.
q1("ALTER SYSTEM SET pg_health.http_port = 0; SELECT pg_reload_conf()");
my $closed = 0;
for (1 .. 100)
{
	$closed = 1, last if (http_get($hport, '/live'))[0] == 0;
	usleep(50_000);
}
ok($closed, 'http_port = 0 after a reload: the endpoint is closed');
is(join(',', http_pids()), $http2[0], '... the same HTTP worker waits');
q1("ALTER SYSTEM RESET pg_health.http_port; SELECT pg_reload_conf()");
is((poll_http($hport, '/live', 200))[0], 200, 'reset: the endpoint answers again');
is(join(',', http_pids()), $http2[0], '... from the same worker');

# Memory: every kind of answer, 2,000 times, after a warm-up.
my @paths = ('/live', '/ready', '/startup', '/health', '/metrics', '/replica?lag=1MB', '/nope', '/');
my ($rss0, $rss1) = http_rss_growth($probe, $hport, $http2[0], 2000, \@paths);
cmp_ok($rss1 - $rss0, '<', 2048,
	"the HTTP worker's RssAnon grew by less than 2 MB over 16,000 requests ($rss0 kB -> $rss1 kB)");
is(join(',', http_pids()), $http2[0], '... and it is the same worker');

unlike(slurp_file($node->logfile), qr/terminated by signal|already running/, 'nothing crashed, never two workers');
$node->stop('fast');
ok(1, 'the server stops (fast) with the HTTP worker');
done_testing();
