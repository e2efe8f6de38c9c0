# The demo (scripts/demo, issue 30), run as a newcomer runs it, as the
# suite's unprivileged user, against the pg_health the suite installed
# (PH_DEMO_NO_BUILD=1, PG_CONFIG the suite's):
#  - bash scripts/demo --keep: once it prints its URLs, the status page (/)
#    and /health answer on the port it printed, and the psql command line it
#    printed connects; SIGINT, and in a second run SIGTERM, stop it: it exits
#    0, its postmaster is gone, the HTTP port and the server's socket are
#    closed, its temporary directory removed;
#  - bash scripts/demo: exits 0 and prints a short summary of the right
#    shape: a verdict line that agrees with the report, a table of every
#    check (name, state, detail), the report as indented JSON that parses
#    (no psql padding, no "+" continuation marks), the URLs of / and the
#    endpoints, the psql command, every line at most 100 columns; the server
#    is gone afterwards.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use JSON::PP;
use Cwd qw(abs_path);
use Time::HiRes qw(time usleep);
use File::Basename qw(dirname);
use PgHealthTest;

my $root = abs_path(dirname(__FILE__) . '/../..');
my $slow = $PostgreSQL::Test::Utils::timeout_default / 180;
$slow = 1 if $slow < 1;

# the PostgreSQL the suite runs (its bindir first on PATH), with the
# pg_health it installed; the demo must not build
my ($pg_config) = grep { -x $_ } map { "$_/pg_config" } split /:/, $ENV{PATH} // '';
die 'no pg_config on PATH' unless $pg_config;
$ENV{PG_CONFIG} = $pg_config;
$ENV{PH_DEMO_NO_BUILD} = 1;
my $bindir = `$pg_config --bindir`;
chomp $bindir;
note("the demo runs ${bindir}'s PostgreSQL as " . getpwuid($<));

# bash, with SIGINT and SIGTERM at their defaults whatever this test
# inherited (a shell cannot trap a signal ignored when it starts)
my $defaults = sub { $SIG{INT} = 'DEFAULT'; $SIG{TERM} = 'DEFAULT'; };

sub pid_alive { my ($pid) = @_; return $pid && kill(0, $pid); }

# pg_ctl stop returns once the postmaster has removed its pid file, a moment
# before the process is gone (and reaped by init): wait for that, briefly
sub gone
{
	my ($pid) = @_;
	my $deadline = time + 10 * $slow;
	usleep(50_000) while pid_alive($pid) && time < $deadline;
	return !pid_alive($pid);
}

# The psql command line the demo printed under "psql:", a long one joined
# where the demo broke it with a backslash.
sub psql_command
{
	my ($text) = @_;
	my ($cmd) = $text =~ /^psql:\n((?:  .*(?:\n|\z))+)/m or return undef;
	$cmd =~ s/ \\\n +/ /g;
	$cmd =~ s/^\s+|\s+$//g;
	return $cmd;
}

# ------------------------------------------------------------------------
# --keep, stopped by SIGINT and by SIGTERM
# ------------------------------------------------------------------------
for my $sig (qw(INT TERM))
{
	my $out = '';
	my $h = IPC::Run::start([ 'bash', "$root/scripts/demo", '--keep' ], '<', \undef, '>&', \$out,
		init => $defaults, IPC::Run::timeout(120 * $slow));
	eval { $h->pump until $out =~ /^The server keeps running: .*\n/m; };
	ok(!$@, "--keep ($sig run): the demo says the server keeps running") or diag($@ . $out);
	my ($port) = $out =~ m{^  http://localhost:(\d+)/ +status page}m;
	my $psql_line = psql_command($out);
	my ($dir) = $out =~ /stops it and removes (\/\S+?)\.$/m;
	ok($port, "... it printed the status page's URL (port " . ($port // '?') . ')');
	ok($dir && -d $dir, "... and its temporary directory, which exists ($dir)");
	my ($pg_port) = ($psql_line // '') =~ / -p (\d+) /;
	like($psql_line // '', qr{^\Q$bindir\E/psql -h \Q$dir\E -p \d+ -U postgres postgres$},
		'... and the psql command line that connects');

	my ($st, $head, $body) = http_get($port // 0, '/');
	is($st, 200, '... GET / answers 200');
	like($body, qr/<title>pg_health: /, '... with the status page');
	($st, undef, $body) = http_get($port // 0, '/health');
	is($st, 200, '... GET /health answers 200');
	my $doc = eval { decode_json($body) } // {};
	like($doc->{status} // '', qr/^(ready|degraded)$/, "... with the report (status $doc->{status})");

	my ($ok, $q) = (0, '');
	$ok = IPC::Run::run([ split(/ /, $psql_line // 'false'), '-X', '-A', '-t', '-c', 'SELECT health.ready()' ],
		'<', \undef, '>&', \$q);
	ok($ok && $q =~ /^t$/m, '... the printed psql command connects: health.ready() is true') or diag($q);

	my ($postmaster) = -f "$dir/data/postmaster.pid" ? slurp_file("$dir/data/postmaster.pid") =~ /^(\d+)/ : ();
	ok(pid_alive($postmaster), "... its postmaster runs (pid " . ($postmaster // '?') . ')');

	my $t0 = time;
	$h->signal($sig);
	eval { $h->finish; };
	ok(!$@, "SIG$sig: the demo ends") or diag($@);
	is($h->result(0), 0, sprintf('... with status 0, after %.1f s', time - $t0)) or diag($out);
	like($out, qr/^== server stopped; \Q$dir\E removed$/m, '... saying it stopped the server and removed its directory');
	ok(gone($postmaster), '... the postmaster is gone');
	($st) = http_get($port // 0, '/live');
	is($st, 0, '... nothing listens on the HTTP port any more');
	ok(!-e "$dir/.s.PGSQL.$pg_port", "... the server's socket is gone");
	ok(!-e $dir, '... the temporary directory is removed');
}

# ------------------------------------------------------------------------
# without --keep: the summary's shape, then nothing left behind
# ------------------------------------------------------------------------
my ($stdout, $stderr) = ('', '');
my $ran = IPC::Run::run([ 'bash', "$root/scripts/demo" ], '<', \undef, '>', \$stdout, '2>', \$stderr,
	init => $defaults, IPC::Run::timeout(120 * $slow));
ok($ran, 'bash scripts/demo exits 0') or diag("$stderr\n$stdout");
note($stdout);
my @lines = split /\n/, $stdout;
is(join("\n", grep { length($_) > 100 } @lines), '', 'every line of the summary is at most 100 columns');
is(join("\n", grep { /\s\+$/ || /^\s*-+\+-+/ || /^\(\d+ rows?\)$/ } @lines), '',
	'... no psql continuation marks, borders or row counts');

# the report: indented JSON that parses, agreeing with the verdict line
my ($json) = $stdout =~ /^the report \(SELECT health\.report\(\)[^\n]*\n((?:  .*\n)+)/m;
ok($json, 'the report, indented under its title');
my $report = eval { decode_json($json // '') };
ok($report, '... JSON that parses') or diag($@);
like($json // '', qr/^  \{\n    "status": "\w+",\n    "ready": (?:true|false),\n/,
	'... pretty-printed: one key a line, indented');
my ($verdict, $ready, $live, $started, $role) =
  $stdout =~ /^verdict: (\w+) \(ready: (yes|no), live: (yes|no), started: (yes|no), role: (\w+)\)$/m;
ok($verdict, 'a verdict line: status, ready, live, started, role');
is("$verdict $ready $live $started $role",
	join(' ', $report->{status}, map({ $_ ? 'yes' : 'no' } @$report{qw(ready live started)}), $report->{role}),
	'... as the report says');
is($live, 'yes', '... the server is live');
like($stdout, qr/^verdict: .*\n  (reasons: none, every check is ok|(warning|critical|unknown): \w)/m,
	'... followed by its reasons');

# the checks table: every check, with its state and detail
my ($table) = $stdout =~ /^checks \(health\.checks\):\n((?:  .*\n)+)/m;
ok($table, 'a checks table');
my @rows = split /\n/, $table // '';
like(shift(@rows) // '', qr/^  name +state +detail$/, '... headed name, state, detail');
my %state;
for my $r (@rows)
{
	$state{$1} = $2 if $r =~ /^  ([a-z_:]+) +(ok|warning|critical|unknown) +\S/;
}
my @want = qw(sampler connections connection_refusals connection_limits idle_in_transaction
  long_transaction blocked_sessions replication sync_standbys replication_slots accepting
  commit_path disk archiver wraparound replay cluster role);
is(join(' ', grep { !$state{$_} } @want), '', '... a row for each check: ' . join(' ', @want));
is($state{sampler}, 'ok', '... the sampler ok');

# the URLs and the psql command
my ($hport) = $stdout =~ m{^  http://localhost:(\d+)/ +status page}m;
ok($hport, 'the status page URL');
for my $path (qw(/health /ready /metrics /node /cluster))
{
	like($stdout, qr{^  http://localhost:$hport\Q$path\E +\S}m, "... and ${path}'s");
}
my ($dir, $pg_port) = (psql_command($stdout) // '') =~ m{^\Q$bindir\E/psql -h (\S+) -p (\d+) -U postgres postgres$};
ok($dir, 'the psql command line');
like($stderr, qr/^== server stopped; \Q$dir\E removed$/m, 'the demo stopped the server and removed its directory');
ok(!-e $dir, '... which is gone');
my ($st) = http_get($hport // 0, '/live');
is($st, 0, '... nothing listens on the HTTP port any more');
done_testing();
