# The status page (GET / and /status) in a real browser, Debian's Chromium,
# headless:
#  - ready: the verdict banner, one row per check of health.checks(), the
#    five plots drawn over the history ring with their axes and thresholds,
#    the slot bar, the largest pools, the events; a screenshot;
#  - hostile names (a role called <script>..., a database with quotes and
#    markup, a component detail with markup and bytes that are not UTF-8):
#    escaped in the HTML, valid UTF-8, no script element in the browser's DOM,
#    and a Content-Security-Policy that would stop one anyway;
#  - not ready with its reasons (a required component still starting): 503,
#    the banner and the reasons; a screenshot;
#  - a standby: its role and WAL receiver; a screenshot;
#  - a pooler that cannot be reached: its row and its error;
#  - 8 clients requesting pages back to back: /live still answered 200
#    within 100 ms;
#  - ?refresh=N, HEAD, gzip, and bad queries (400).
# PH_SCREENSHOTS=<dir> copies the screenshots there (docs/images holds the
# ones the docs show).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Encode qw(decode);
use File::Copy qw(copy);
use Time::HiRes qw(time usleep);
use File::Basename qw(dirname);
use PgHealthTest;

my $chromium = '/usr/bin/chromium';
die 'chromium is not installed (scripts/lib.sh installs it: apt-get install chromium)'
  unless -x $chromium;

my $port = PostgreSQL::Test::Cluster::get_free_port();
my $node = PostgreSQL::Test::Cluster->new('status');
$node->init(allows_streaming => 1);
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_health'
pg_health.sample_interval = 100ms
pg_health.http_port = $port
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION pg_health');
$node->poll_query_until('postgres', 'SELECT health.ready()') or die 'not ready';

my $home = PostgreSQL::Test::Utils::tempdir();
my $shots = "${PostgreSQL::Test::Utils::tmp_check}/screenshots";
mkdir $shots;

# Chromium, headless, as this unprivileged user: (exit code, stdout).
sub chromium
{
	my @args = @_;
	my ($out, $err) = ('', '');
	local $ENV{HOME} = $home;
	IPC::Run::run([ $chromium, '--headless', '--no-sandbox', '--disable-gpu',
			'--disable-dev-shm-usage', '--no-first-run', '--hide-scrollbars', @args ],
		'<', \undef, '>', \$out, '2>', \$err, IPC::Run::timeout(120));
	return ($? >> 8, $out, $err);
}

# The page's DOM as the browser built it.
sub dom
{
	my ($p, $path) = @_;
	my ($rc, $out, $err) = chromium('--dump-dom', "http://127.0.0.1:$p$path");
	is($rc, 0, "chromium loads $path") or diag($err);
	return $out;
}

# A full-page screenshot; asserts it is a PNG of some substance.
sub screenshot
{
	my ($p, $name) = @_;
	my $file = "$shots/$name.png";
	my ($rc, undef, $err) = chromium("--screenshot=$file", '--window-size=1280,2600',
		"http://127.0.0.1:$p/");
	my $png = -f $file ? slurp_file($file) : '';
	ok($rc == 0 && substr($png, 0, 8) eq "\x89PNG\r\n\x1a\n" && length($png) > 20_000,
		"screenshot $name.png (" . length($png) . ' bytes)') or diag($err);
	copy($file, "$ENV{PH_SCREENSHOTS}/status-$name.png") if $ENV{PH_SCREENSHOTS};
}

sub count_of
{
	my ($re, $text) = @_;
	my @m = $text =~ /$re/g;
	return scalar @m;
}

# Hostile names: a role, a database, a component's detail
my $evil_role = '<script>alert(1)</script>';
my $evil_db = q{x"'&<db>};
$node->safe_psql('postgres', qq{
	CREATE ROLE "<script>alert(1)</script>" LOGIN;
	CREATE DATABASE "x""'&<db>";
	CREATE DATABASE latin ENCODING SQL_ASCII TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C';
	SELECT health.configure_component('web', reporter => current_user);
});
# a SQL_ASCII database lets a detail carry bytes that are not UTF-8
$node->safe_psql('latin', q{
	CREATE EXTENSION pg_health;
	SELECT health.set_component_state('web', 'ready',
	  E'<img src=x onerror=alert(2)> "quoted" & \'single\' \\xff\\xfe\\x80 bytes');
});
my $sessions = IPC::Run::start(
	[ 'psql', '-X', '-h', $node->host, '-p', $node->port, '-U', $evil_role, '-d', $evil_db,
	  '-c', 'SELECT pg_sleep(60)' ], '<', \undef, '>', \my $s_out, '2>', \my $s_err);
$node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM pg_stat_activity WHERE usename = '$evil_role'")
  or die "the hostile role's session did not start: $s_err";
# the names worker names the new role and database within a pass or two
$node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM health.pools WHERE usename = '$evil_role'") or die 'not named';
sleep 1;	# a second of history

my ($code, $head, $html) = http_get($port, '/');
is($code, 200, 'GET /: 200 while ready');
like($head, qr/\r\nContent-Type: text\/html; charset=utf-8\r\n/, '... an HTML page');
like($head, qr/\r\nContent-Security-Policy: default-src 'none'; style-src 'unsafe-inline'/,
	'... under a policy that lets nothing but its inline style load or run');
ok(eval { decode('UTF-8', $html, Encode::FB_CROAK | Encode::LEAVE_SRC); 1 }, '... valid UTF-8');
unlike($html, qr/<script/i, '... no script element in the HTML');
unlike($html, qr/<img/i, '... no img element either (the detail is text)');
like($html, qr/&lt;script&gt;alert\(1\)&lt;\/script&gt;/, "... the role's name escaped");
like($html, qr/x&quot;&#39;&amp;&lt;db&gt;/, "... the database's name escaped");
like($html, qr/&lt;img src=x onerror=alert\(2\)&gt; &quot;quoted&quot; &amp; &#39;single&#39;/,
	"... the component's detail escaped");
unlike($html, qr/https?:\/\/(?!www\.w3\.org\/2000\/svg)/, '... nothing loaded from elsewhere');

my $dom = dom($port, '/');
like($dom, qr/<header id="verdict" class="st-ok" data-status="ready">/, 'DOM: the banner says ready');
like($dom, qr/<span id="server-role">primary<\/span>/, '... on a primary');
unlike($dom, qr/<script/i, '... no script element in the DOM');
like($dom, qr/&lt;script&gt;alert\(1\)&lt;\/script&gt;/, '... the role as text in the pools table');
my $nchecks = $node->safe_psql('postgres', 'SELECT count(*) FROM health.checks() WHERE name NOT LIKE $$custom:%$$');
my ($tbody) = $dom =~ /<table id="checks-table">.*?<tbody>(.*?)<\/tbody>/s;
is(count_of(qr/<tr class="st-\w+" data-check=/, $tbody // ''), $nchecks,
	"... one row per check of health.checks() ($nchecks)");
like($tbody // '', qr/data-check="connections">.*?<td class="n">[\d.]+ %<\/td>/s,
	'... the connections check with its share');
for my $plot (qw(slots sessions rates lag duration))
{
	my ($fig) = $dom =~ /<figure class="plot" id="plot-$plot">(.*?)<\/figure>/s;
	ok($fig, "plot $plot is there");
	next if $plot eq 'lag';	# no standby yet: no values
	like($fig // '', qr/<svg class="chart"/, "... drawn in SVG");
	cmp_ok(count_of(qr/<text class="xlabel/, $fig // ''), '==', 5, '... with five times on its axis');
	like($fig // '', qr/<polyline class="s1" points="\d+,\d+ \d+,\d+/, '... and a line of samples');
}
my ($slots_fig) = $dom =~ /<figure class="plot" id="plot-slots">(.*?)<\/figure>/s;
like($slots_fig // '', qr/<line class="th th-usable".*<line class="th th-warning".*<line class="th th-critical"/s,
	'the slots plot draws usable, warning and critical');
like($dom, qr/<svg class="bar".*?<rect class="used"/s, 'the slot bar');
like($dom, qr/<table id="pools-table">.*?<td>x"'&amp;&lt;db&gt;<\/td>/s,
	'the largest pools, the hostile database among them');
like($dom, qr/<table id="components-table">.*?<td>web<\/td>/s, 'the components');
screenshot($port, 'ready');

# refresh, HEAD, gzip, bad queries
($code, undef, $html) = http_get($port, '/status?refresh=5');
like($html, qr/<meta http-equiv="refresh" content="5">/, '/status?refresh=5 reloads every 5 s');
for my $bad ('/?refresh=0', '/?refresh=3601', '/?refresh=abc', '/?refresh=5&refresh=6', '/?role=primary')
{
	($code, undef, my $body) = http_get($port, $bad);
	is($code, 400, "$bad: 400");
}
($code, $head, $html) = http_raw($port, "HEAD / HTTP/1.1\r\nHost: x\r\n\r\n");
is($code, 200, 'HEAD /: 200');
is($html, '', '... without a body');
($code, $head) = http_raw($port, "GET / HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n");
like($head, qr/\r\nContent-Encoding: gzip\r\n/, 'gzip-encoded for a browser that accepts it');

# Not ready, with its reasons
$node->safe_psql('postgres', q{
	SELECT health.set_component_state('web', 'starting', 'running migrations 41 of 42');
	ALTER SYSTEM SET pg_health.required_components = 'web'; SELECT pg_reload_conf();
});
($code) = poll_http($port, '/', 503);
is($code, 503, 'GET /: 503 while not ready');
$dom = dom($port, '/');
like($dom, qr/<header id="verdict" class="st-critical" data-status="not_ready">/,
	'DOM: the banner says not_ready');
like($dom, qr/<ul id="reasons"><li class="st-critical"><b>component:web<\/b> critical: [^<]*running migrations 41 of 42/,
	'... with the reason: the component and its detail');
like($dom, qr/<table id="events-table">.*?<td>(ready|degraded)<\/td><td>not_ready<\/td>/s,
	'... and the transition among the last events');
screenshot($port, 'not-ready');
$node->safe_psql('postgres', q{
	ALTER SYSTEM RESET pg_health.required_components; SELECT pg_reload_conf();
	SELECT health.set_component_state('web', 'ready');
});

# A standby
my $sport = PostgreSQL::Test::Cluster::get_free_port();
my $standby = streaming_standby($node, 'status_standby', "pg_health.http_port = $sport\n");
$node->safe_psql('postgres', 'CREATE TABLE t AS SELECT generate_series(1, 10000) AS i');
($code) = poll_http($sport, '/', 200);
is($code, 200, "the standby's page: 200");
sleep 1;
$dom = dom($sport, '/');
like($dom, qr/<span id="server-role">standby<\/span>/, 'DOM: a standby');
like($dom, qr/a standby; WAL receiver <b>streaming<\/b>/, '... streaming');
my ($lag_fig) = $dom =~ /<figure class="plot" id="plot-lag">(.*?)<\/figure>/s;
like($lag_fig // '', qr/<polyline class="s1"/, '... its replay lag plotted');
screenshot($sport, 'standby');
$dom = dom($port, '/');
like($dom, qr/<table id="standbys-table">.*?<td>status_standby<\/td>/s,
	"the primary's page lists the standby");

# A pooler that cannot be reached: its row and libpq's error
my $closed = PostgreSQL::Test::Cluster::get_free_port();
$node->safe_psql('postgres',
	"SELECT health.configure_pooler('edge', 'hostaddr=127.0.0.1 port=$closed dbname=pgbouncer user=nobody')");
my $t_pooler = time;
while (time - $t_pooler < 30)
{
	(undef, undef, $html) = http_get($port, '/');
	last if $html =~ /<table id="poolers-table">.*?Connection refused/s;
	usleep(200_000);
}
$dom = dom($port, '/');
like($dom, qr/<table id="poolers-table">.*?<td>edge<\/td>.*?Connection refused/s,
	'the poolers: one that cannot be reached, with its error');
$node->safe_psql('postgres', "SELECT health.drop_pooler('edge')");

# A flood of pages does not silence the probes: 8 clients requesting / back
# to back (the worker answers one request at a time) while /live is probed
# ten times a second; every probe answered 200, none later than 100 ms
{
	my $probe_c = dirname(__FILE__) . '/../../bench/http_probe.c';
	my $probe = PostgreSQL::Test::Utils::tempdir() . '/http_probe';
	system('cc', '-O2', '-o', $probe, $probe_c, '-lpthread') == 0 or die "cannot build $probe_c";
	my $flood = IPC::Run::start([ $probe, '-p', $port, '-P', '/', '-c', '8', '-T', '6' ],
		'>', \my $flood_out);
	sleep 1;
	my $live = `$probe -p $port -P /live -c 1 -i 100 -T 4`;
	$flood->finish;
	my ($pages) = $flood_out =~ / ok=(\d+)/;
	my ($n, $ok, $max) = $live =~ /requests=(\d+) ok=\d+ http_2xx=(\d+) .* max_ms=([\d.]+)/;
	note("during a flood of $pages pages: /live $live");
	cmp_ok($pages // 0, '>', 1000, 'the flood: over a thousand pages answered');
	ok($n && $ok == $n, "every /live probe during it answered 200 ($ok of $n)");
	cmp_ok($max // 1e9, '<', 100, '... none later than 100 ms');
}

# the page's cost: measured (bench/status_page.sh compares it at 1,000 sessions)
my $t0 = time;
http_get($port, '/') for 1 .. 20;
note(sprintf('GET / on the primary: %.2f ms each (20 in a row, this machine)', (time - $t0) * 1000 / 20));

$sessions->kill_kill;
$standby->stop;
$node->stop;
done_testing();
