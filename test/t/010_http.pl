# The HTTP endpoint: every path's status and body, bad requests, 200
# concurrent probes, silent and slowloris clients, full connection slots,
# clients past http_max_clients, a port conflict, a reload that moves the
# port, a server that never becomes consistent, and /metrics in the
# Prometheus text format.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use IO::Socket::INET;
use IO::Select;
use JSON::PP;
use Time::HiRes qw(time usleep);
use File::Basename qw(dirname);
use PgHealthTest;

my $probe_c = dirname(__FILE__) . '/../../bench/http_probe.c';
my $probe = PostgreSQL::Test::Utils::tempdir() . '/http_probe';
system('cc', '-O2', '-o', $probe, $probe_c, '-lpthread') == 0 or die "cannot build $probe_c";

my $hport = PostgreSQL::Test::Cluster::get_free_port();
my $node = PostgreSQL::Test::Cluster->new('http');
$node->init(allows_streaming => 1);
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_health'
pg_health.sample_interval = 100ms
pg_health.http_port = $hport
# the refusal of the slots test must still count when /metrics is read,
# however slowly the tests between them run
pg_health.refusal_window = 10min
max_connections = 20
superuser_reserved_connections = 3
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION pg_health; CREATE EXTENSION dblink; CREATE ROLE app LOGIN');

sub get
{
	my ($path, $port) = @_;
	return http_get($port // $hport, $path);
}
sub q1 { return $node->safe_psql('postgres', $_[0]); }

# Answer times of $n probes of $path, $between run before each: (median,
# worst, statuses, last body).
# The timing claims are judged on the median, with every probe under 1 s: a
# worker that blocked on a client or a lock would delay all of them by its
# 2 s deadline or forever, while one probe of a noisy VM can stall for tens
# of milliseconds by itself.
sub probe_times
{
	my ($path, $n, $between) = @_;
	my (@t, @st, $body);
	for my $i (1 .. $n)
	{
		$between->($i) if $between;
		my ($s, undef, $got, $secs) = get($path);
		push @t, $secs;
		push @st, $s;
		$body = $got;
	}
	my @sorted = sort { $a <=> $b } @t;
	return ($sorted[ int($n / 2) ], $sorted[-1], join(',', @st), $body);
}

# Every path, ready primary.
$node->poll_query_until('postgres', 'SELECT health.ready()');
for my $case (['/live', 200], ['/ready', 200], ['/startup', 200], ['/primary', 200],
	['/replica', 503], ['/ready?role=primary', 200], ['/ready?role=replica', 503],
	['/health', 200], ['/health?role=replica', 503], ['/metrics', 200])
{
	my ($path, $want) = @$case;
	my ($status, $head) = get($path);
	is($status, $want, "GET $path: $want");
	like($head, qr/\r\nCache-Control: no-store\r\n/, "... with Cache-Control") if $path eq '/ready';
	like($head, qr/\r\nConnection: close(?:\r\n|\z)/, "... and Connection: close") if $path eq '/ready';
}
my (undef, undef, $body) = get('/replica');
my $doc = decode_json($body);
is($doc->{status}, 'not_ready', '/replica on a primary: not_ready');
is($doc->{reasons}[0]{check}, 'role', '... the reason is the role check');
like($doc->{reasons}[0]{detail}, qr/replica was requested, but this server is a primary/, '... in words');

# HEAD: the headers of GET, no body.
my ($st, $head, $b) = http_raw($hport, "HEAD /ready HTTP/1.1\r\nHost: x\r\n\r\n");
is($st, 200, 'HEAD /ready: 200');
like($head, qr/Content-Length: [1-9]\d*/, '... announcing the GET body\'s length');
is($b, '', '... and sending no body');

# /health is health.report(), from the same code, at the same generation.
# With a 60 s interval no sample comes between the two reads, once the worker
# has the new interval (at its next wake-up): a pair that straddles a sample
# anyway is read again.
q1(q{ALTER SYSTEM SET pg_health.sample_interval = '60s'; SELECT pg_reload_conf()});
my ($sql, $http);
for my $try (1 .. 5)
{
	usleep(300_000);
	q1('SELECT health.refresh()');
	$sql = decode_json(q1('SELECT health.report()'));
	(undef, undef, $body) = get('/health');
	$http = decode_json($body);
	last if $http->{generation} == $sql->{generation};
}
is($http->{generation}, $sql->{generation}, 'SQL and HTTP read the same generation');
for my $k (qw(status ready live started role sampled_at))
{
	is(JSON::PP->new->canonical->allow_nonref->encode($http->{$k}),
		JSON::PP->new->canonical->allow_nonref->encode($sql->{$k}), "... the same $k");
}
is(join(',', map { "$_->{name}=$_->{status}" } @{ $http->{checks} }),
	join(',', map { "$_->{name}=$_->{status}" } @{ $sql->{checks} }), '... the same checks');
is(join(',', sort keys %$http), join(',', sort keys %$sql), '... the same keys');
q1(q{ALTER SYSTEM SET pg_health.sample_interval = '100ms'; SELECT pg_reload_conf()});

# Bad requests get their 4xx (505 for a version it does not speak), and the
# endpoint keeps answering.  (HTTP/1.1 requests carry Host: without it each
# would be a 400 for that, test/t/030_http_rfc.pl.)
my @bad = (
	["GARBAGE\r\n\r\n", 400, 'a line that is not a request'],
	["GET /ready HTTP/2.0\r\n\r\n", 505, 'an unsupported version'],
	["GET /ready HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n", 400, 'a header without a colon'],
	["POST /ready HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", 405, 'POST'],
	["DELETE /health HTTP/1.1\r\nHost: x\r\n\r\n", 405, 'DELETE'],
	["GET /nope HTTP/1.1\r\nHost: x\r\n\r\n", 404, 'an unknown path'],
	["GET /ready?role=leader HTTP/1.1\r\nHost: x\r\n\r\n", 400, 'an unknown role'],
	["GET /live?role=replica HTTP/1.1\r\nHost: x\r\n\r\n", 400, 'a query where none is taken'],
	["GET /" . ('a' x 2000) . " HTTP/1.1\r\n\r\n", 414, 'a 2000-byte request line'],
	["GET /ready HTTP/1.1\r\n" . ("X-Filler: " . ('b' x 100) . "\r\n") x 50 . "\r\n", 431, '5 kB of headers'],
	["\x00\x01\x02\xff\r\n\r\n", 400, 'binary junk']);
for my $case (@bad)
{
	my ($req, $want, $what) = @$case;
	my ($s, $h) = http_raw($hport, $req);
	is($s, $want, "$what: $want");
	like($h, qr/Allow: GET, HEAD, OPTIONS$/m, '... with Allow') if $want == 405;
}
is((get('/ready'))[0], 200, 'still answering after all of them');

# Bytes the endpoint does not read (a second, pipelined request; a body) must
# not cost the client its answer: it arrives whole, then the connection ends.
for my $case (
	["GET /ready HTTP/1.1\r\nHost: x\r\n\r\nGET /live HTTP/1.1\r\nHost: x\r\n\r\n", 200, 'a pipelined second request'],
	["POST /ready HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello", 405, 'a POST with a body'])
{
	my ($req, $want, $what) = @$case;
	my ($s, $h, $b) = http_raw($hport, $req);
	my ($len) = $h =~ /Content-Length: (\d+)/;
	is($s, $want, "$what: $want");
	is(length($b), $len // -1, '... the whole answer, as long as Content-Length says');
}

# 200 concurrent probes, each its own connection.
my $out = `$probe -p $hport -P /ready -c 200 -n 200`;
like($out, qr/requests=200 ok=200 http_2xx=200 http_5xx=0 errors=0/, '200 concurrent probes all answered 200')
  or diag($out);

# A silent client and a slowloris client do not delay a normal probe.
my $t_silent = time;
my $silent = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $hport) or die;
my $slow = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $hport) or die;
print $slow 'G';
my ($median, $worst) = probe_times('/ready', 11, sub { usleep(100_000); print $slow 'E' if $_[0] % 3 == 0; });
cmp_ok($median, '<', 0.1,
	'with a silent and a slowloris client connected, probes answer within 100 ms (the median of 11)');
cmp_ok($worst, '<', 1, '... and none waits for the slow clients (the worst of 11 under 1 s)');
my $sel = IO::Select->new($silent);
my $got = '';
if ($sel->can_read(10)) { sysread($silent, $got, 100); }
# The kernel hands a connection that sends nothing to accept() only after
# TCP_DEFER_ACCEPT's second; the 2 s deadline runs from there.
my $dropped = time - $t_silent;
ok($dropped >= 2 && $dropped < 5,
	sprintf('the silent client is dropped at its 2 s deadline (%.1f s after it connected)', $dropped));
like($got, qr{^HTTP/1\.1 408 }, '... with a 408');
close $silent;
close $slow;

# Every slot taken: SQL is refused, HTTP answers with the reason.
my $holder = $node->background_psql('postgres');
fill_slots($node, $holder, 'app');
my ($ret, $o, $err) = $node->psql('postgres', 'SELECT 1', extra_params => [ '-U', 'app' ]);
like($err, qr/remaining connection slots are reserved|too many clients/, 'a SQL probe as an ordinary role is refused (53300)');
ok($holder->query_safe('SELECT health.refresh()'), 'the superuser session refreshes');
my ($med2, $worst2, $s2, $b2) = probe_times('/ready', 5);
is($s2, '503,503,503,503,503', 'HTTP /ready answers 503');
cmp_ok($med2, '<', 0.1, '... within 100 ms (the median of 5)');
cmp_ok($worst2, '<', 1, '... every one under 1 s');
like($b2, qr/"check":"connections","status":"critical","detail":"no connection slot left for ordinary roles/,
	'... naming the connections check');
$holder->query_safe('SELECT dblink_disconnect(c) FROM unnest(dblink_get_connections()) AS c');
$holder->quit;

# A lock pile-up that stops new SQL connections (an exclusive lock on
# pg_database, which every connection reads): HTTP answers regardless.
my $locker = $node->background_psql('postgres');
$locker->query_safe('BEGIN; LOCK TABLE pg_catalog.pg_database IN ACCESS EXCLUSIVE MODE');
my $timed_out = 0;
$node->psql('postgres', 'SELECT 1', timeout => 2, timed_out => \$timed_out);
ok($timed_out, 'with pg_database locked, a new SQL connection hangs');
my ($med4, $worst4, $s4) = probe_times('/ready', 5);
like($s4, qr/^(200|503)(,(200|503)){4}$/, 'HTTP /ready answers meanwhile');
cmp_ok($med4, '<', 0.1, '... within 100 ms (the median of 5)');
cmp_ok($worst4, '<', 1, '... every one under 1 s');
$locker->query_safe('ROLLBACK');
$locker->quit;

# Past pg_health.http_max_clients (2 here).  A slow client that needs a place
# when both are taken gets the one of the oldest client whose request is
# still incomplete, which is answered 408 at once instead of at its 2 s
# deadline; the other keeps its place.  A probe sends its request with its
# connection and is answered as it is accepted, so it needs no place: the
# two slow clients do not stop it.  (The 503 "too many HTTP clients" is left
# for a newcomer that must wait while every place holds a client still being
# sent its answer; answers that small all fit in a loopback socket at once,
# so that cannot be staged here.)  The worker applies the reload at its next
# wake-up: try again, with new clients, until the eviction shows.
q1("ALTER SYSTEM SET pg_health.http_max_clients = 2; SELECT pg_reload_conf()");
my ($s5, $evicted, $evicted_after, $kept, @slow) = (0, '', 99, 0);
for my $try (1 .. 20)
{
	close $_ for @slow;
	@slow = ();
	for my $i (1 .. 3)
	{
		my $c = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $hport) or die;
		print $c 'G';	# a byte, so that it is accepted and needs a place
		push @slow, $c;
		usleep(50_000);	# so that they arrive in this order
	}
	my $t3 = time - 0.05;
	$evicted = '';
	# within 1 s: the first one's 2 s deadline cannot be what answers it
	sysread($slow[0], $evicted, 100) if IO::Select->new($slow[0])->can_read(1);
	$evicted_after = time - $t3;
	next if $evicted eq '';
	($s5) = get('/live');
	$kept = !IO::Select->new($slow[1])->can_read(0);
	last;
}
like($evicted, qr{^HTTP/1\.1 408 }, 'a third slow client past http_max_clients = 2 takes the place of the oldest, which gets a 408');
cmp_ok($evicted_after, '<', 1, '... at once, not at its 2 s deadline');
is($s5, 200, 'with both places held by slow clients, a probe (/live) is answered 200');
ok($kept, '... and the other slow client kept its place');
close $_ for @slow;
q1("ALTER SYSTEM RESET pg_health.http_max_clients; SELECT pg_reload_conf()");
usleep(300_000);
is((get('/ready'))[0] =~ /^(200|503)$/ ? 'answered' : 'not', 'answered', 'and the endpoint serves again');

# A reload moves the endpoint to another port.
my $hport2 = PostgreSQL::Test::Cluster::get_free_port();
q1("ALTER SYSTEM SET pg_health.http_port = $hport2; SELECT pg_reload_conf()");
is((poll_http($hport2, '/live', 200))[0], 200, 'after a reload the endpoint answers on the new port');
is((get('/live', $hport))[0], 0, '... and no longer on the old one');

# A port already taken: a LOG line, sampling and SQL go on, and a retry
# binds once the port is free.
my $blocker = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $hport, Listen => 5, ReuseAddr => 1)
  or die "cannot hold port $hport: $!";
my $offset = -s $node->logfile;
q1("ALTER SYSTEM SET pg_health.http_port = $hport; SELECT pg_reload_conf()");
ok($node->poll_query_until('postgres', 'SELECT true', 't'), 'SQL works');
my $logged = 0;
for (1 .. 300)
{
	$logged = 1, last if substr(slurp_file($node->logfile), $offset) =~ /could not listen for HTTP on .*port $hport: Address already in use; retrying every 5 s/;
	usleep(100_000);
}
ok($logged, 'the port conflict is logged');
my $g0 = q1('SELECT generation FROM health.status');
ok($node->poll_query_until('postgres', "SELECT generation > $g0 FROM health.status"), 'the worker keeps sampling');
close $blocker;
is((poll_http($hport, '/live', 200))[0], 200, 'once the port is free the endpoint comes up (retry)');
unlike(slurp_file($node->logfile), qr/terminated by signal/, 'nothing crashed');

# /metrics: the Prometheus text format, checked line by line.  One session
# stays open so that there is a pool to show.
my $session = $node->background_psql('postgres');
$session->query_safe('SELECT health.refresh()');
(undef, $head, $body) = get('/metrics');
like($head, qr{Content-Type: text/plain; version=0\.0\.4}, '/metrics content type');
my (%type, %help, @errors, %seen);
for my $line (split /\n/, $body)
{
	if ($line =~ /^# HELP (pg_health_[a-z_]+) \S.*$/) { push @errors, "two HELP for $1" if $help{$1}++; next; }
	if ($line =~ /^# TYPE (pg_health_[a-z_]+) (gauge|counter)$/) { push @errors, "two TYPE for $1" if $type{$1}++; next; }
	if ($line =~ /^(pg_health_[a-z_]+)(\{(?:[a-z_]+="(?:[^"\\\n]|\\["\\n])*")(?:,[a-z_]+="(?:[^"\\\n]|\\["\\n])*")*\})? (-?[0-9.]+(?:e[+-]?\d+)?|NaN)$/)
	{
		push @errors, "sample before TYPE: $line" unless $type{$1};
		push @errors, "duplicate series: $line" if $seen{ $1 . ($2 // '') }++;
		next;
	}
	push @errors, "bad line: $line";
}
is(join("\n", @errors), '', 'every line is HELP, TYPE or a well-formed sample');
# the refusal above counts for its 10 min window, but slots are free again:
# a warning, and ready
like($body, qr/^pg_health_ready\{role="any"\} 1$/m, 'pg_health_ready{role="any"} 1 within the refusal window, slots free again');
like($body, qr/^pg_health_check_status\{check="connection_refusals"\} 1$/m, '... connection_refusals a warning');
like($body, qr/^pg_health_check_status\{check="connections"\} 0$/m, 'a check\'s status');
like($body, qr/^pg_health_connections_refused_total\{reason="no_slots"\} [1-9]/m, 'the refusals counted above');
like($body, qr/^pg_health_pool_sessions\{database="postgres",role="[^"]+",application_name="[^"]*"\} [1-9]\d*$/m, 'pool series');
$session->quit;
# ... and by Prometheus's own checker (the setup installs Debian's prometheus)
my ($pout, $perr) = ('', '');
my $promtool_ok = eval {
	IPC::Run::run([ 'promtool', 'check', 'metrics' ], '<', \$body, '>', \$pout, '2>', \$perr);
};
ok(!$@, 'promtool runs') or diag("promtool: $@ (scripts/lib.sh installs the prometheus package)");
ok($promtool_ok, 'promtool check metrics') or diag("$pout$perr");

# A standby that never becomes consistent (hot_standby off): the worker
# samples from the start, so /live answers 200 while /ready and /startup say
# "starting".
$node->backup('b');
my $sport = PostgreSQL::Test::Cluster::get_free_port();
my $standby = PostgreSQL::Test::Cluster->new('cold');
$standby->init_from_backup($node, 'b', has_streaming => 1);
# postgresql.auto.conf came with the backup (ALTER SYSTEM above): override it there
$standby->append_conf('postgresql.auto.conf', "hot_standby = off\npg_health.http_port = $sport\n");
$standby->start(fail_ok => 1);
my ($ls, $rs, $rb, $ss) = (0, 0, '', 0);
for (1 .. 100)
{
	($ls) = get('/live', $sport);
	last if $ls == 200;
	usleep(100_000);
}
($rs, undef, $rb) = get('/ready', $sport);
($ss) = get('/startup', $sport);
is($ls, 200, 'not consistent: /live 200');
is($rs, 503, '... /ready 503');
like($rb, qr/"status":"starting"/, '... status starting');
is($ss, 503, '... /startup 503');
$standby->stop('immediate');

$node->stop;
done_testing();
