# The HTTP endpoint by the RFCs, byte for byte over raw sockets (and curl
# where a client's view is the point), each assertion naming the section it
# holds the endpoint to.  HEAD: no body after the headers, read until the
# server closes, for every status the endpoint gives (200, 503, 400, 403,
# 404, 414, 431, 505, and the 503 "too many HTTP clients", staged with
# http_max_clients = 1 and a client that does not read its answer), with
# the Content-Length a GET gets (RFC 9110 §9.3.2).  Host: an HTTP/1.1
# request without one, or any request with two or an invalid one, is 400;
# HTTP/1.0 without one is served (RFC 9112 §3.2).  Absolute-form targets
# (http or https, any case; an empty path is "/") are the request their
# path and query make, and a malformed one is 400 (RFC 9112 §3.2.2).  A
# well-formed version other than HTTP/1.0 and 1.1 is 505, a malformed one
# 400 (RFC 9110 §15.6.6, RFC 9112 §2.3).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IO::Socket::INET;
use IO::Select;
use Socket qw(PF_INET SOCK_STREAM SOL_SOCKET SO_RCVBUF IPPROTO_TCP pack_sockaddr_in inet_aton);
use JSON::PP;
use Time::HiRes qw(time usleep);
use PgHealthTest;

my $hport = PostgreSQL::Test::Cluster::get_free_port();
my $node = PostgreSQL::Test::Cluster->new('http_rfc');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_health'
pg_health.sample_interval = 100ms
pg_health.http_port = $hport
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION pg_health');
$node->poll_query_until('postgres', 'SELECT health.ready()');
is((poll_http($hport, '/ready', 200))[0], 200, 'the endpoint answers /ready 200');

sub q1 { return $node->safe_psql('postgres', $_[0]); }

# Read from $s until the server closes it (at most $secs): (bytes, closed).
sub read_to_close
{
	my ($s, $secs) = @_;
	my ($resp, $closed) = ('', 0);
	my $sel = IO::Select->new($s);
	my $deadline = time + $secs;
	while ((my $left = $deadline - time) > 0)
	{
		last unless $sel->can_read($left);
		my $n = sysread($s, my $chunk, 65536);
		if (!$n)
		{
			$closed = 1;
			last;
		}
		$resp .= $chunk;
	}
	return ($resp, $closed);
}

# Split an answer at the end of its header block: (status, headers, the bytes
# after the blank line).  Status 0 when there is no header block.
sub split_answer
{
	my ($resp) = @_;
	my $end = index($resp, "\r\n\r\n");
	return (0, $resp, '') if $end < 0;
	my $head = substr($resp, 0, $end + 2);
	my ($status) = $head =~ m{^HTTP/1\.1 (\d{3}) };
	return ($status // 0, $head, substr($resp, $end + 4));
}

# One exchange over a raw socket: $request as it is, then everything until
# the server closes.  (status, headers, the bytes after them, closed).
sub exchange
{
	my ($request) = @_;
	my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $hport, Timeout => 5)
	  or return (0, "connect: $!", '', 0);
	syswrite($s, $request);
	my ($resp, $closed) = read_to_close($s, 10);
	close $s;
	return (split_answer($resp), $closed);
}

sub content_length { my ($head) = @_; return $head =~ /\r\nContent-Length: (\d+)\r\n/i ? $1 : undef; }

# HEAD $target (the rest of the request as given): the status wanted, no
# byte after the headers, the connection closed; and, where a GET of the
# same gets a body that does not change between requests, the same
# Content-Length.
sub head_has_no_body
{
	my ($what, $want, $request, $get) = @_;
	my ($st, $head, $rest, $closed) = exchange($request);
	is($st, $want, "RFC 9110 §9.3.2: HEAD $what: $want");
	is(length($rest), 0, "RFC 9110 §9.3.2: HEAD $what has no body (0 bytes after the headers)");
	ok($closed, '... and the server closed the connection after the headers');
	my $len = content_length($head);
	ok(defined $len && $len > 0, "... Content-Length announces the GET body (" . ($len // 'none') . ')');
	return unless defined $get;
	my ($gst, $ghead, $gbody) = exchange($get);
	is("$gst " . ($len // 'none'), "$want " . length($gbody),
		"... the same status and Content-Length as a GET, whose body has that length");
}

my $filler = ("X-Filler: " . ('b' x 100) . "\r\n") x 50;
my $long = '/' . ('a' x 2000);

# RFC 9110 §9.3.2: a HEAD answer is a GET's headers without its body, for
# every status.
head_has_no_body('/live (200)', 200, "HEAD /live HTTP/1.1\r\nHost: x\r\n\r\n");
head_has_no_body('/ (the status page, 200)', 200, "HEAD / HTTP/1.1\r\nHost: x\r\n\r\n");
head_has_no_body('/replica on a primary (503)', 503, "HEAD /replica HTTP/1.1\r\nHost: x\r\n\r\n");
head_has_no_body('/ready?role=leader (400, a bad query)', 400,
	"HEAD /ready?role=leader HTTP/1.1\r\nHost: x\r\n\r\n",
	"GET /ready?role=leader HTTP/1.1\r\nHost: x\r\n\r\n");
head_has_no_body('with a header without a colon (400, malformed)', 400,
	"HEAD /ready HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n",
	"GET /ready HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n");
head_has_no_body('HTTP/1.1 without Host (400)', 400, "HEAD /ready HTTP/1.1\r\n\r\n",
	"GET /ready HTTP/1.1\r\n\r\n");
head_has_no_body('/nope (404)', 404, "HEAD /nope HTTP/1.1\r\nHost: x\r\n\r\n",
	"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n");
head_has_no_body('with a 2001-byte target (414)', 414, "HEAD $long HTTP/1.1\r\nHost: x\r\n\r\n",
	"GET $long HTTP/1.1\r\nHost: x\r\n\r\n");
head_has_no_body('with 5 kB of headers (431)', 431, "HEAD /ready HTTP/1.1\r\nHost: x\r\n$filler\r\n",
	"GET /ready HTTP/1.1\r\nHost: x\r\n$filler\r\n");
head_has_no_body('HTTP/2.0 (505)', 505, "HEAD /ready HTTP/2.0\r\n\r\n", "GET /ready HTTP/2.0\r\n\r\n");

# A 405 is never the answer to a HEAD, which is allowed everywhere: what
# comes closest is "head", another method (RFC 9110 §9.1: methods are
# case-sensitive), whose 405 has its body.
my ($st, $head, $rest) = exchange("head /ready HTTP/1.1\r\nHost: x\r\n\r\n");
is($st, 405, 'RFC 9110 §9.1: "head" is not HEAD (methods are case-sensitive): 405');
is(length($rest), content_length($head) // -1, '... with its body, as long as Content-Length says');
like($head, qr/\r\nAllow: GET, HEAD, OPTIONS\r\n/, 'RFC 9110 §15.5.6: ... and Allow');

# 403 (the per-tenant question turned off), HEAD: no body either.
q1("ALTER SYSTEM SET pg_health.http_admission = off; SELECT pg_reload_conf()");
for (1 .. 100)
{
	last if (http_get($hport, '/ready?user=postgres'))[0] == 403;
	usleep(50_000);
}
head_has_no_body('/ready?user=postgres with http_admission off (403)', 403,
	"HEAD /ready?user=postgres HTTP/1.1\r\nHost: x\r\n\r\n",
	"GET /ready?user=postgres HTTP/1.1\r\nHost: x\r\n\r\n");
q1("ALTER SYSTEM RESET pg_health.http_admission; SELECT pg_reload_conf()");

# curl's HEAD (-I): the status, and nothing downloaded.
for my $case (['/live', 200], ['/nope', 404], ['/ready?role=leader', 400])
{
	my ($path, $want) = @$case;
	my $out = `curl -sS -I -o /dev/null --max-time 5 -w '%{http_code} %{size_download}' 'http://127.0.0.1:$hport$path' 2>&1`;
	is($out, "$want 0", "RFC 9110 §9.3.2: curl -I $path: $want, 0 body bytes");
}

# The 503 "too many HTTP clients": with http_max_clients = 1, the place is
# held by a client being sent an answer it does not read, so a newcomer whose
# request is incomplete gets the 503 at once.  The answer must be more than
# the two sockets hold: the status page with 32 degraded components (still
# ready) whose details are 199 double quotes each, six bytes apiece once
# escaped (about 160 kB), to a reader whose receive buffer is 1 kB and whose
# segments are 536 bytes (the server's send buffer is charged per segment).
q1(q{SELECT health.set_component_state('component_' || i, 'degraded', repeat('"', 199))
	 FROM generate_series(1, 32) i});
q1("ALTER SYSTEM SET pg_health.http_max_clients = 1; ALTER SYSTEM SET pg_health.http_client_timeout = '10s'; SELECT pg_reload_conf()");
usleep(500_000);
(undef, undef, my $page) = http_get($hport, '/');
cmp_ok(length($page), '>', 100_000, 'the status page to hold the place is over 100 kB (' . length($page) . ' bytes)');

# A client that asks for the status page and reads nothing of it.
sub stuck_reader
{
	socket(my $s, PF_INET, SOCK_STREAM, 0) or die "socket: $!";
	setsockopt($s, SOL_SOCKET, SO_RCVBUF, 1024) or die "SO_RCVBUF: $!";
	# a small segment size too: what the server may queue is counted per segment
	setsockopt($s, IPPROTO_TCP, 2, 536) or die "TCP_MAXSEG: $!";	# TCP_MAXSEG
	connect($s, pack_sockaddr_in($hport, inet_aton('127.0.0.1'))) or die "connect: $!";
	syswrite($s, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
	return $s;
}

# A newcomer with an incomplete request (it needs a place): what it reads
# until the server closes, within 3 s (its own deadline is 10 s away).
sub newcomer
{
	my ($partial) = @_;
	my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $hport, Timeout => 5) or die;
	syswrite($s, $partial);
	my ($resp, $closed) = read_to_close($s, 3);
	close $s;
	return (split_answer($resp), $closed);
}

my $holder = stuck_reader();
usleep(200_000);
my ($bst, $bhead, $bbody, $bclosed) = newcomer("GET /ready HTTP/1.1\r\n");
is($bst, 503, 'the place held by a client being answered: a GET newcomer gets 503 at once');
like($bbody, qr/too many HTTP clients/, '... "too many HTTP clients"');
is(length($bbody), content_length($bhead) // -1, '... its body as long as Content-Length says');
my ($hst, $hhead, $hrest, $hclosed) = newcomer("HEAD /ready HTTP/1.1\r\n");
is($hst, 503, 'RFC 9110 §9.3.2: HEAD while too many clients: 503');
is(length($hrest), 0, 'RFC 9110 §9.3.2: HEAD while too many clients has no body (0 bytes after the headers)');
ok($hclosed, '... and the server closed the connection after the headers');
is(content_length($hhead), content_length($bhead), "... Content-Length that of the GET's body");
close $holder;
q1("ALTER SYSTEM RESET pg_health.http_max_clients; ALTER SYSTEM RESET pg_health.http_client_timeout; SELECT pg_reload_conf()");
usleep(300_000);

# RFC 9112 §3.2: Host.
my @host = (
	["GET /live HTTP/1.1\r\n\r\n", 400, 'an HTTP/1.1 request without Host: 400'],
	["GET /live HTTP/1.1\r\nUser-Agent: x\r\n\r\n", 400, '... with other headers: 400'],
	["POST /live HTTP/1.1\r\n\r\n", 400, '... whatever the method (a POST without Host: 400, not 405)'],
	["GET /nope HTTP/1.1\r\n\r\n", 400, '... or the path (an unknown one without Host: 400, not 404)'],
	["GET /live HTTP/1.0\r\n\r\n", 200, 'an HTTP/1.0 request without Host: served, 200'],
	["GET /live HTTP/1.1\r\nHost: x\r\nHost: x\r\n\r\n", 400, 'two Host lines (HTTP/1.1): 400'],
	["GET /live HTTP/1.0\r\nhost: x\r\nHOST: y\r\n\r\n", 400, 'two Host lines (HTTP/1.0, any case): 400'],
	["GET /live HTTP/1.1\r\nHost: a b\r\n\r\n", 400, 'a Host with a space inside (invalid): 400'],
	["GET /live HTTP/1.1\r\nHost: user\@x\r\n\r\n", 400, 'a Host with userinfo (invalid): 400'],
	["GET /live HTTP/1.1\r\nHost: x:80a\r\n\r\n", 400, 'a Host with a port that is not digits (invalid): 400'],
	["GET /live HTTP/1.1\r\nhOsT: x\r\n\r\n", 200, 'Host in any case: 200'],
	["GET /live HTTP/1.1\r\nHost: 127.0.0.1:$hport\r\n\r\n", 200, 'Host: address and port: 200'],
	["GET /live HTTP/1.1\r\nHost: [::1]:$hport\r\n\r\n", 200, 'Host: an IPv6 literal and port: 200'],
	["GET /live HTTP/1.1\r\nHost:   db-1.example.internal  \r\n\r\n", 200, 'Host: a name, blanks around it: 200'],
	["GET /live HTTP/1.1\r\nHost:\r\n\r\n", 200, 'an empty Host (RFC 9110 §7.2 allows it): 200']);
for my $case (@host)
{
	my ($req, $want, $what) = @$case;
	my ($s, $h, $b) = exchange($req);
	is($s, $want, "RFC 9112 §3.2: $what");
	like($b, qr/malformed request/, '... naming it a malformed request') if $want == 400;
}
like(`curl -sS -o /dev/null -w '%{http_code}' --max-time 5 -H 'Host:' 'http://127.0.0.1:$hport/live' 2>&1`,
	qr/^400$/, 'RFC 9112 §3.2: curl without Host (-H "Host:"), HTTP/1.1: 400');
like(`curl -sS -o /dev/null -w '%{http_code}' --max-time 5 --http1.0 -H 'Host:' 'http://127.0.0.1:$hport/live' 2>&1`,
	qr/^200$/, 'RFC 9112 §3.2: curl without Host, HTTP/1.0: 200');

# RFC 9112 §3.2.2: absolute-form.
my @absolute = (
	["http://127.0.0.1:$hport/ready", 200, 'ready', 'http://127.0.0.1:<port>/ready'],
	["HTTPS://X/live", 200, 'live', 'HTTPS://X/live (scheme in any case, https)'],
	["hTtP://x/startup", 200, 'startup', 'hTtP://x/startup'],
	["http://[::1]:$hport/ready?role=primary", 200, 'ready', 'an IPv6 literal, and a query'],
	["http://x/replica?lag=1MB", 503, 'ready', 'http://x/replica?lag=1MB (a primary: 503, the query taken)'],
	["http://x/nope", 404, undef, 'http://x/nope: 404'],
	["http://x/ready?role=leader", 400, undef, 'http://x/ready?role=leader: 400, as in origin-form']);
for my $case (@absolute)
{
	my ($target, $want, $probe, $what) = @$case;
	my ($s, $h, $b) = exchange("GET $target HTTP/1.1\r\nHost: x\r\n\r\n");
	is($s, $want, "RFC 9112 §3.2.2: absolute-form $what: $want");
	if (defined $probe)
	{
		my $doc = eval { decode_json($b) } // {};
		is($doc->{probe}, $probe, "... the answer of /$probe");
	}
	like($b, qr/role must be primary or replica/, '... naming the parameter') if $target =~ /leader/;
}
for my $target ('http://x', 'http://x?refresh=7', "https://127.0.0.1:$hport")
{
	my ($s, $h, $b) = exchange("GET $target HTTP/1.1\r\nHost: x\r\n\r\n");
	is($s, 200, "RFC 9112 §3.2.2: absolute-form $target (an empty path is /): 200");
	like($h, qr{\r\nContent-Type: text/html}, '... the status page');
	like($b, qr{<meta http-equiv="refresh" content="7">}, '... with its refresh') if $target =~ /refresh/;
}
($st, $head, $rest) = exchange("HEAD http://x/ready HTTP/1.1\r\nHost: x\r\n\r\n");
is("$st " . length($rest), '200 0', 'RFC 9110 §9.3.2, RFC 9112 §3.2.2: HEAD in absolute-form: 200, no body');
is((exchange("GET http://x/live HTTP/1.0\r\n\r\n"))[0], 200,
	'RFC 9112 §3.2.2: absolute-form in HTTP/1.0 without Host: 200');
is((exchange("GET http://x/live HTTP/1.1\r\n\r\n"))[0], 400,
	'RFC 9112 §3.2: absolute-form in HTTP/1.1 still needs Host: 400');
for my $case (
	['ftp://x/ready', 'another scheme'],
	['httpx://x/ready', 'another scheme that begins like http'],
	['http:/ready', 'no "//"'],
	['http:ready', 'no "//" nor path'],
	['http:///ready', 'an empty host (RFC 9110 §4.2.1)'],
	['http://user@x/ready', 'userinfo (RFC 9110 §4.2.4)'],
	['http://x:80a/ready', 'a port that is not digits'],
	['http://[::1/ready', 'an unclosed IPv6 literal'],
	['http://[]/ready', 'an empty IPv6 literal'],
	['http://x%zz/ready', 'a bad %-escape in the host'],
	['ready', 'neither origin-form nor absolute-form'],
	['*', 'asterisk-form (OPTIONS only)'])
{
	my ($target, $what) = @$case;
	is((exchange("GET $target HTTP/1.1\r\nHost: x\r\n\r\n"))[0], 400,
		"RFC 9112 §3.2.2: a malformed target, $what ($target): 400");
}
like(`curl -sS -o /dev/null -w '%{http_code}' --max-time 5 --request-target 'http://127.0.0.1:$hport/ready' 'http://127.0.0.1:$hport/' 2>&1`,
	qr/^200$/, 'RFC 9112 §3.2.2: curl --request-target in absolute-form: 200');

# RFC 9110 §15.6.6: a version other than HTTP/1.0 and 1.1 that is
# well-formed HTTP-version ("HTTP/" DIGIT "." DIGIT, RFC 9112 §2.3): 505.
for my $v ('HTTP/2.0', 'HTTP/1.2', 'HTTP/3.0', 'HTTP/0.9', 'HTTP/9.9')
{
	my ($s, $h, $b) = exchange("GET /ready $v\r\nHost: x\r\n\r\n");
	is($s, 505, "RFC 9110 §15.6.6: $v: 505");
	like($h, qr{^HTTP/1\.1 505 HTTP Version Not Supported\r\n}, '... "HTTP Version Not Supported"');
	like($b, qr{only HTTP/1\.0 and HTTP/1\.1}, '... saying which versions are');
}
is((exchange("POST /nope HTTP/2.0\r\n\r\n"))[0], 505,
	'RFC 9110 §15.6.6: the version is judged before the method, the path and Host: 505');
is((exchange("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"))[0], 505,
	"RFC 9110 §15.6.6: HTTP/2's connection preface (prior knowledge): 505");
for my $case (
	['http/1.1', 'the name in lower case (it is case-sensitive)'],
	['HTTP/1.10', 'two minor digits'],
	['HTTP/11', 'no dot'],
	['HTTP/1.x', 'a letter for a digit'],
	['HTTP/2', 'no minor version'],
	['HTTP/1.1 ', 'a space after it'],
	['HTTX/1.1', 'another protocol name'])
{
	my ($v, $what) = @$case;
	is((exchange("GET /ready $v\r\nHost: x\r\n\r\n"))[0], 400,
		"RFC 9112 §2.3: a malformed version, $what ('$v'): 400");
}
for my $v ('HTTP/1.0', 'HTTP/1.1')
{
	is((exchange("GET /ready $v\r\nHost: x\r\n\r\n"))[0], 200, "$v: 200");
}

is((http_get($hport, '/ready'))[0], 200, 'the endpoint still answers');
unlike(slurp_file($node->logfile), qr/terminated by signal/, 'nothing crashed');
$node->stop;
done_testing();
