# Every command block of the README and docs/ that a user would paste, run
# as it is written against a real preloaded server (docs/testing.md, "The
# documentation's blocks").  A block's language says what it is:
#
#   sql       run by psql in database postgres, as a superuser, stopping at
#             the first error
#   python    an application's health route: run with a psycopg2 cursor
#             "cur", it must return 200 or 503
#   ini       postgresql.conf lines: the server restarts with them and shows
#             each value; the endpoint answers where they say
#   yaml      Kubernetes probes: each httpGet path answers 200 to a kubelet's
#             request, each exec command exits 0
#   sh        shell commands, from the checkout: a services's start runs in the
#             background, curl is retried until the service listens
#   console   "$ command" then its output: the first line of the output matches
#   http      "GET /path" lines: each is answered 200 or 503 (never a 4xx)
#   haproxy   an HAProxy configuration: haproxy -c finds it valid
#   text, json  output and pictures: not run
#
# The placeholders of the docs are put to this test's: port 8008 is the
# test's HTTP port, 8080/8081 free ports, a pod's or a cluster's host name
# 127.0.0.1, host=/var/run/postgresql this server's socket.  The objects
# the docs assume (roles app, svc_backend, api_svc, app_readonly, database
# appdb, table app.schema_migrations) are made first.  A block that is not
# run says why in an HTML comment on the line before it:
#   <!-- doc-test: skip: REASON -->
#   <!-- doc-test: covered by test/t/NNN_x.pl -->  (that test reads this file)
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use IO::Socket::IP;
use JSON::PP;
use Time::HiRes qw(time usleep);
use File::Basename qw(dirname);
use Cwd qw(abs_path);
use PgHealthTest;

my $root = abs_path(dirname(__FILE__) . '/../..');
my $haproxy = '/usr/sbin/haproxy';
die "haproxy is not installed (scripts/lib.sh installs it)" unless -x $haproxy;

my $http_port = PostgreSQL::Test::Cluster::get_free_port();
my %free_port;		# 8080, 8081 -> a free port each
my $node = PostgreSQL::Test::Cluster->new('docs');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_health'
pg_health.sample_interval = 100ms
pg_health.http_port = $http_port
include_if_exists = 'doc_block.conf'
});
$node->start;
# (the README's first SQL block creates the extension)
$node->safe_psql('postgres', q{
	CREATE ROLE app LOGIN; CREATE DATABASE appdb;
	CREATE ROLE svc_backend LOGIN; CREATE ROLE api_svc LOGIN; CREATE ROLE app_readonly;
	CREATE SCHEMA app; CREATE TABLE app.schema_migrations (version int);
	INSERT INTO app.schema_migrations VALUES (42);
});

# The test's values for the docs' placeholders.
sub put_placeholders
{
	my ($text) = @_;
	my ($host, $port) = ($node->host, $node->port);
	$text =~ s{host=/var/run/postgresql}{host=$host port=$port}g;
	$text =~ s{\b(?:localhost|[\w.-]+\.(?:internal|local)):8008\b}{127.0.0.1:$http_port}g;
	$text =~ s{\b8008\b}{$http_port}g;
	$text =~ s{\b(808[01])\b}{$free_port{$1} //= PostgreSQL::Test::Cluster::get_free_port()}ge;
	return $text;
}

# Every fenced block of a Markdown file: (line, language, text, marker).
sub blocks
{
	my ($file) = @_;
	my @lines = split /\n/, slurp_file("$root/$file"), -1;
	my @out;
	for (my $i = 0; $i < @lines; $i++)
	{
		next unless $lines[$i] =~ /^```(\S*)\s*$/;
		my ($lang, $start) = ($1, $i);
		my $prev = '';
		for (my $j = $i - 1; $j >= 0; $j--)
		{
			next if $lines[$j] =~ /^\s*$/;
			$prev = $lines[$j];
			last;
		}
		my ($marker) = $prev =~ /^<!-- doc-test: (.*?) -->$/;
		my @body;
		for ($i++; $i < @lines && $lines[$i] !~ /^```\s*$/; $i++) { push @body, $lines[$i]; }
		push @out, [ $start + 1, $lang, join("\n", @body) . "\n", $marker ];
	}
	return @out;
}

# GET $path as the kubelet does; the status code (0: no answer).
sub kubelet_status
{
	my ($path) = @_;
	my $s = IO::Socket::IP->new(PeerHost => '127.0.0.1', PeerPort => $http_port, Timeout => 5)
	  or return 0;
	print $s "GET $path HTTP/1.1\r\nHost: 127.0.0.1:$http_port\r\nUser-Agent: kube-probe/1.30\r\n"
	  . "Accept: */*\r\nConnection: close\r\n\r\n";
	local $/;
	my $all = <$s> // '';
	return $all =~ /^HTTP\/1\.1 (\d+)/ ? $1 : 0;
}

# Run a command until it exits 0 (up to $secs); (exit code, output).
sub retry
{
	my ($cmd, $secs) = @_;
	my ($rc, $out);
	my $t0 = time;
	while (1)
	{
		$out = '';
		IPC::Run::run($cmd, '<', \undef, '>&', \$out, IPC::Run::timeout(30));
		$rc = $? >> 8;
		last if $rc == 0 || time - $t0 > $secs;
		usleep(200_000);
	}
	return ($rc, $out);
}

my %run = (
	sql => sub {
		my ($where, $text) = @_;
		my ($out, $err) = ('', '');
		my $rc = $node->psql('postgres', $text, on_error_stop => 1,
			stdout => \$out, stderr => \$err);
		is($rc, 0, "$where: runs without an error") or diag($err);
	},
	python => sub {
		my ($where, $text) = @_;
		$text =~ s/^/    /mg;
		my $dsn = 'host=' . $node->host . ' port=' . $node->port . ' dbname=postgres';
		my $prog = <<"EOF";
import json, psycopg2
conn = psycopg2.connect("$dsn")
conn.autocommit = True
cur = conn.cursor()
def route():
$text
answer = route()
status = answer[0] if isinstance(answer, tuple) else answer
print(json.dumps({"status": status}))
EOF
		my ($out, $err) = ('', '');
		IPC::Run::run([ '/usr/bin/python3', '-c', $prog ], '<', \undef, '>', \$out, '2>', \$err,
			IPC::Run::timeout(60));
		like($out, qr/^\{"status": (200|503)\}$/m, "$where: the route answers 200 or 503")
		  or diag($err);
	},
	ini => sub {
		my ($where, $text) = @_;
		$text = put_placeholders($text);
		my %want;
		for my $line (split /\n/, $text)
		{
			$line =~ s/\s+#.*$//;
			next if $line =~ /^\s*(#|$)/;
			my ($name, $value) = $line =~ /^\s*([\w.]+)\s*=\s*(.*?)\s*$/ or next;
			$value =~ s/^'(.*)'$/$1/;
			$want{$name} = $value;
		}
		ok(%want, "$where: has settings");
		open my $fh, '>', $node->data_dir . '/doc_block.conf' or die $!;
		print $fh $text;
		close $fh;
		$node->restart;
		for my $name (sort keys %want)
		{
			is($node->safe_psql('postgres', "SELECT current_setting('$name')"), $want{$name},
				"$where: $name is in force");
		}
		my ($status) = poll_http($http_port, '/live', 200, 30);
		is($status, 200, "$where: the endpoint answers /live where it says");
	},
	yaml => sub {
		my ($where, $text) = @_;
		my @paths = $text =~ /httpGet: \{ path: (\/[\w?=&\/-]*), port: 8008 \}/g;
		my @execs = $text =~ /^\s*command: (\[.*?\])\s*$/msg;
		ok(@paths || @execs, "$where: has probes");
		for my $path (@paths)
		{
			my $t0 = time;
			my $status;
			do { $status = kubelet_status($path); usleep(100_000) if $status != 200; }
			  while ($status != 200 && time - $t0 < 10);
			is($status, 200, "$where: the probe of $path answers 200");
		}
		for my $exec (@execs)
		{
			my $cmd = decode_json(put_placeholders($exec));
			my ($rc, $out) = retry($cmd, 30);
			is($rc, 0, "$where: the exec probe @$cmd[0] exits 0") or diag($out);
		}
	},
	sh => sub {
		my ($where, $text) = @_;
		$text = put_placeholders($text);
		$text =~ s/\\\n\s*/ /g;
		local $ENV{PGHOST} = $node->host;
		local $ENV{PGPORT} = $node->port;
		my @services;
		my $n = 0;
		for my $line (split /\n/, $text)
		{
			$line =~ s/(^|\s)#.*$//;
			next if $line =~ /^\s*$/;
			$n++;
			if ($line =~ m{examples/\w+\.py\b})
			{
				my $log = '';
				push @services, [ IPC::Run::start([ 'bash', '-c', "cd '$root' && exec $line" ],
					'<', \undef, '>&', \$log), \$log ];
				next;
			}
			my ($rc, $out) = $line =~ /^curl\b/
			  ? retry([ 'bash', '-c', "cd '$root' && $line -sS" ], 30)
			  : retry([ 'bash', '-c', "cd '$root' && $line" ], 0);
			is($rc, 0, "$where: '$line' succeeds") or diag($out);
			like($out, qr/^HTTP\/1\.[01] (200|503) /, "$where: ... and the service answers")
			  if $line =~ /^curl -i\b/;
		}
		ok($n, "$where: has commands");
		for my $s (@services)
		{
			$s->[0]->signal('TERM');
			$s->[0]->finish;
		}
	},
	console => sub {
		my ($where, $text) = @_;
		my @lines = split /\n/, put_placeholders($text);
		my $n = 0;
		for (my $i = 0; $i < @lines; $i++)
		{
			my ($cmd) = $lines[$i] =~ /^\$ (.*)$/ or next;
			my $want = $lines[$i + 1] // '';
			my ($out, $err) = ('', '');
			IPC::Run::run([ 'bash', '-c', $cmd ], '<', \undef, '>', \$out, '2>', \$err,
				IPC::Run::timeout(30));
			my ($first) = split /\r?\n/, $out;
			is($first, $want, "$where: '$cmd' prints what the docs show first");
			$n++;
		}
		ok($n, "$where: has commands");
	},
	http => sub {
		my ($where, $text) = @_;
		my @paths = $text =~ /^GET (\S+)/mg;
		ok(@paths, "$where: has requests");
		for my $path (@paths)
		{
			my ($status) = http_get($http_port, $path);
			like($status, qr/^(200|503)$/, "$where: GET $path is understood ($status)");
		}
	},
	haproxy => sub {
		my ($where, $text) = @_;
		my $cfg = PostgreSQL::Test::Utils::tempdir() . '/haproxy.cfg';
		open my $fh, '>', $cfg or die $!;
		print $fh $text;
		close $fh;
		my $out = '';
		IPC::Run::run([ $haproxy, '-c', '-f', $cfg ], '<', \undef, '>&', \$out);
		is($? >> 8, 0, "$where: haproxy -c finds the configuration valid") or diag($out);
	},
);
my %quiet = map { $_ => 1 } qw(text json);

my @files = ('README.md', map { "docs/$_" } sort map { s{.*/}{}r } glob "$root/docs/*.md");
my %count;
for my $file (@files)
{
	for my $b (blocks($file))
	{
		my ($line, $lang, $text, $marker) = @$b;
		my $where = "$file:$line ($lang)";
		if ($lang eq '')
		{
			fail("$where: a block says what it is (```sql, ```text, ...)");
			next;
		}
		if (defined $marker)
		{
			if ($marker =~ /^covered by (test\/t\/\S+\.pl)$/)
			{
				my $test = -f "$root/$1" ? slurp_file("$root/$1") : '';
				like($test, qr/\Q$file\E/, "$where: $1 runs it (it reads $file)");
				$count{covered}++;
			}
			else
			{
				like($marker, qr/^skip: \S.{9,}/, "$where: not run, and says why");
				$count{skipped}++;
			}
			next;
		}
		if ($quiet{$lang}) { $count{output}++; next; }
		if (!$run{$lang})
		{
			fail("$where: a language this test knows how to run, or a marker");
			next;
		}
		$run{$lang}->($where, $text);
		$count{run}++;
		$count{"run $lang"}++;
	}
	# what a file's blocks changed does not carry over to the next file
	$node->safe_psql('postgres', 'ALTER SYSTEM RESET ALL; SELECT pg_reload_conf()');
}
note(join(', ', map { "$_: $count{$_}" } sort keys %count));
cmp_ok($count{run} // 0, '>=', 30, 'the blocks run are most of them');

$node->stop;
done_testing();
