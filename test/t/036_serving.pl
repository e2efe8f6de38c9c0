# "Ready means the server can serve" (issue 28), each fault produced for
# real, with the check's status and detail, the HTTP answer, and the way
# back once the fault is gone:
#   accepting    the postmaster stopped (SIGSTOP): /ready 503 within
#                accept_timeout and an interval, the probe's target named;
#                SIGCONT: 200.  With log_connections the probe costs one
#                "connection received" line per interval and no complaint.
#   commit_path  commits each waiting ~50 ms for s1 (remote_apply, s1's
#                recovery_min_apply_delay) for 2 s: never a warning; then
#                synchronous_standby_names = 's1' and s1 stopped: an INSERT
#                hangs in SyncRep; critical for writes only (/primary 503,
#                /ready 200), naming the pid and s1; s1 back: ok.
#   archiver     archive_command = 'false': failing, the segment named and
#                the segments waiting counted; a working command: ok.
#   wraparound   next XID moved by pg_resetwal so that template0 is ~1.2
#                billion transactions old (warning), then past the server's
#                own xidWarnLimit (critical for writes only) while a
#                forgotten prepared transaction's lock keeps autovacuum from
#                freezing template0; rolled back and vacuumdb --all
#                --freeze: ok.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use JSON::PP;
use IPC::Run;
use Time::HiRes qw(time usleep);
use PgHealthTest;

my $t_start = time;

# Whatever happens below, never leave a postmaster stopped: it could not be
# shut down.  (END blocks run last-defined first: this one before the
# cluster's own, which stops the nodes.)
my @stopped;
END { kill 'CONT', @stopped if @stopped; }

sub doc { return decode_json($_[0]); }

# The row of check $name: "status|value|detail" over SQL.
sub check_row
{
	my ($node, $name, $db) = @_;
	return $node->safe_psql($db // 'postgres',
		"SELECT status || '|' || coalesce(round(value::numeric, 1)::text, 'null') || '|' || detail "
		  . "FROM health.checks WHERE name = '$name'");
}

# The check $name in a /health or /ready body.
sub body_check
{
	my ($body, $name) = @_;
	my $d = eval { doc($body) } // {};
	my ($c) = grep { $_->{name} eq $name } @{ $d->{checks} // [] };
	return $c;
}

# The sample of check $name in family $family of /metrics, undef if none.
sub metric
{
	my ($port, $family, $name) = @_;
	my (undef, undef, $text) = http_get($port, '/metrics');
	return $text =~ /^pg_health_\Q$family\E\{check="\Q$name\E"\} (\S+)$/m ? $1 : undef;
}

sub body_reason
{
	my ($body, $name) = @_;
	my $d = eval { doc($body) } // {};
	my ($r) = grep { $_->{check} eq $name } @{ $d->{reasons} // [] };
	return $r;
}

# Poll until $sql (a boolean) is true; dies with the last row of $check
# after $timeout seconds.
sub wait_for
{
	my ($node, $sql, $what, $check, $timeout) = @_;
	my $deadline = time + ($timeout // 60);
	while (time < $deadline)
	{
		return 1 if $node->safe_psql('postgres', $sql) eq 't';
		usleep(100_000);
	}
	die "timed out waiting for $what; last row: " . ($check ? check_row($node, $check) : '');
}

my $hport = PostgreSQL::Test::Cluster::get_free_port();
my $node = PostgreSQL::Test::Cluster->new('serving');
$node->init(allows_streaming => 1, has_archiving => 1);
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_health'
pg_health.sample_interval = 100ms
pg_health.http_port = $hport
log_connections = on
autovacuum = off
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION pg_health');
is((poll_http($hport, '/ready', 200))[0], 200, 'the server is ready');

# =========================================================================
# 1. accepting
# =========================================================================
my $sockdir = $node->host;
my $target = "Unix socket $sockdir/.s.PGSQL." . $node->port;
wait_for($node, "SELECT status = 'ok' AND detail LIKE 'a new connection on %answered%' "
	  . "FROM health.checks WHERE name = 'accepting'", 'a first answered probe', 'accepting');
like(check_row($node, 'accepting'),
	qr/^ok\|\d+\.\d\|a new connection on \Q$target\E was answered in \d+\.\d ms, \d+\.\d s ago \(\d+ probes, 0 failed\)$/,
	'accepting: ok, the probe answered on the first unix_socket_directories socket');

# The probe's lines in the server log while nobody else connects: "connection
# received" once per probe, never an authorization (it does not log in), and
# no complaint (it hangs up after the SSLRequest's answer).
sub probe_log
{
	my ($secs) = @_;
	my $from = -s $node->logfile;
	my $t0 = time;
	usleep($secs * 1_000_000);
	my $text = slurp_file($node->logfile, $from);
	my $elapsed = time - $t0;
	my $received = () = $text =~ /connection received: host=\[local\]/g;
	my $authorized = () = $text =~ /connection authori[sz]ed/g;
	return ($received, $authorized, $elapsed, $text);
}
my ($n1, $auth1, $secs1, $text1) = probe_log(4);
note(sprintf('accept probe at the default 1 s interval: %d "connection received" lines in %.2f s = %.2f/s',
		$n1, $secs1, $n1 / $secs1));
cmp_ok($n1, '>=', 2, 'log_connections, default 1 s interval: the probe writes "connection received"');
cmp_ok($n1, '<=', int($secs1) + 2, '... at most one line per interval');
is($auth1, 0, '... and never "connection authorized": it does not log in');

$node->safe_psql('postgres', q{
ALTER SYSTEM SET pg_health.accept_probe_interval = '200ms';
ALTER SYSTEM SET pg_health.accept_timeout = '1s';
});
$node->reload;
# the new interval applies from the probe after the next one: wait for two
my $mark = -s $node->logfile;
my $deadline = time + 10;
usleep(50_000)
  until (() = slurp_file($node->logfile, $mark) =~ /connection received/g) >= 2 || time > $deadline;
my ($n2, $auth2, $secs2, $text2) = probe_log(3);
note(sprintf('accept probe at 200 ms: %d "connection received" lines in %.2f s = %.2f/s',
		$n2, $secs2, $n2 / $secs2));
cmp_ok($n2, '>=', int($secs2 / 0.2 / 2), 'accept_probe_interval = 200ms: about five probes a second');
cmp_ok($n2, '<=', int($secs2 / 0.2) + 2, '... and no more than one per interval');
is($auth2, 0, '... none logging in');
my @complaints = grep { !/connection received/ } grep { /\S/ } split /\n/, $text1 . $text2;
is(join("\n", @complaints), '', '... and no other line in the log meanwhile (no error, no "incomplete startup packet")');

# An already open session keeps answering SQL while the postmaster is stopped.
my $bg = $node->background_psql('postgres');
$bg->query_safe('SELECT 1');
my ($postmaster) = slurp_file($node->data_dir . '/postmaster.pid') =~ /^(\d+)/;
kill 'STOP', $postmaster or die "cannot stop the postmaster $postmaster: $!";
push @stopped, $postmaster;
my $t0 = time;
my ($st, $body) = poll_http($hport, '/ready', 503, 15);
my $t_503 = time - $t0;
note(sprintf('postmaster stopped (SIGSTOP): /ready 503 after %.2f s (accept_timeout 1 s, interval 200 ms)', $t_503));
is($st, 503, 'postmaster stopped: /ready 503');
cmp_ok($t_503, '<', 4, '... within accept_timeout (1 s) + an interval (200 ms) + slack (under 4 s)');
cmp_ok($t_503, '>=', 0.9, '... and not before accept_timeout');
like(body_reason($body, 'accepting')->{detail} // '',
	qr/^no new connection answered for \d+\.\d s on \Q$target\E \(limit 1\.0 s\): the postmaster is not accepting connections/,
	'... the reason: accepting, naming the socket the probe uses');
(undef, undef, $body) = http_get($hport, '/health');
my $acc = body_check($body, 'accepting') // {};
is($acc->{status}, 'critical', '/health: accepting critical');
like($acc->{detail} // '', qr/on \Q$target\E \(limit 1\.0 s\)/, '... naming the target');
is(metric($hport, 'check_status', 'accepting'), '2', '/metrics: accepting critical (2)');
like($bg->query_safe("SELECT status || '|' || detail FROM health.checks WHERE name = 'accepting'"),
	qr/^critical\|no new connection answered for \d+\.\d s on \Q$target\E/,
	'... and an open SQL session reads the same (a new one could not connect)');
is($bg->query_safe('SELECT health.ready()'), 'f', '... where health.ready() is false');
($st, undef, $body) = http_get($hport, '/live');
is($st, 200, '/live 200: the sampler is alive');
is(doc($body)->{status} // '', 'not_ready', '... and says not_ready');

kill 'CONT', $postmaster;
@stopped = ();
$t0 = time;
($st) = poll_http($hport, '/ready', 200, 15);
my $t_200 = time - $t0;
note(sprintf('SIGCONT: /ready 200 after %.2f s', $t_200));
is($st, 200, 'SIGCONT: /ready 200 again');
cmp_ok($t_200, '<', 3, '... within 3 s');
# (the value is not 0 when a sample finds a probe in flight)
like(check_row($node, 'accepting'), qr/^ok\|\d+\.\d\|a new connection on \Q$target\E was answered/,
	'... accepting ok');
$bg->quit;
my $log = slurp_file($node->logfile);
unlike($log, qr/incomplete startup packet/, 'the whole log: no "incomplete startup packet" from the probe');

# =========================================================================
# 2. commit_path
# =========================================================================
$node->safe_psql('postgres', 'CREATE TABLE t (x int)');
my $standby = streaming_standby($node, 's1', "pg_health.http_port = 0\nrecovery_min_apply_delay = 50ms\n");
$node->safe_psql('postgres', q{
ALTER SYSTEM SET pg_health.commit_wait_warning = '200ms';
ALTER SYSTEM SET pg_health.commit_wait_critical = '1s';
ALTER SYSTEM SET synchronous_standby_names = 's1';
});
$node->reload;
wait_for($node, "SELECT sync_state = 'sync' FROM pg_stat_replication WHERE application_name = 's1'",
	's1 synchronous');
wait_for($node, "SELECT critical_threshold = 1000 FROM health.checks WHERE name = 'commit_path'",
	'the commit_wait settings', 'commit_path');
# (a sample may catch a process in a WAL wait of a millisecond: ok, with it
# in the detail)
wait_for($node, "SELECT status = 'ok' AND detail = 'no commit is waiting for a synchronous standby or for WAL' "
	  . "FROM health.checks WHERE name = 'commit_path'", 'commit_path ok, nothing waiting', 'commit_path');
pass('commit_path: ok with s1 synchronous and streaming, no commit waiting');

# Busy but healthy: a session committing in a loop for 2 s with
# synchronous_commit = remote_apply, s1 applying each commit 50 ms late
# (recovery_min_apply_delay): the session is in SyncRep nearly all the
# time, each commit for about 50 ms.  Samples that find it there find
# different commits (another LSN): no wait of 200 ms is pieced together
# from them.
my $gen0 = $node->safe_psql('postgres', 'SELECT max(generation) FROM health.events');
my $t_busy = time;
my $commits = $node->safe_psql('postgres', q{
CREATE TABLE busy (x int);
SET synchronous_commit = remote_apply;
DO $$
DECLARE t timestamptz := clock_timestamp(); n int := 0;
BEGIN
  WHILE clock_timestamp() < t + interval '2 s' LOOP
    INSERT INTO busy VALUES (n);
    COMMIT;
    n := n + 1;
  END LOOP;
END $$;
SELECT count(*) FROM busy;
});
$t_busy = time - $t_busy;
note(sprintf('busy: %d commits with remote_apply in %.1f s', $commits, $t_busy));
cmp_ok($commits, '>=', 5, 'a session committing in a loop for 2 s with remote_apply');
cmp_ok($commits, '<=', 2 / 0.045 + 1, '... each commit waiting about 50 ms for s1 (recovery_min_apply_delay)');
is($node->safe_psql('postgres', qq{SELECT count(*) FROM health.events WHERE generation > coalesce($gen0, 0)
		AND changes @> '[{"check": "commit_path"}]'}), '0',
	'... commit_path never left ok (no wait of 200 ms pieced together from short ones)');

$standby->stop('fast');
my ($ins_out, $ins_err) = ('', '');
my $t_ins = time;
my $insert = IPC::Run::start(
	[ 'psql', '-X', '-d', $node->connstr('postgres'), '-c', 'INSERT INTO t VALUES (1)' ],
	'<', \undef, '>', \$ins_out, '2>', \$ins_err, IPC::Run::timeout(120));
wait_for($node, "SELECT count(*) = 1 FROM pg_stat_activity WHERE wait_event = 'SyncRep'",
	'the INSERT waiting in SyncRep');
my $waiter = $node->safe_psql('postgres', "SELECT pid FROM pg_stat_activity WHERE wait_event = 'SyncRep'");
wait_for($node, "SELECT status = 'critical' FROM health.checks WHERE name = 'commit_path'",
	'commit_path critical', 'commit_path', 30);
my $t_crit = time - $t_ins;
note(sprintf('commit_path critical %.2f s after the INSERT started (commit_wait_critical = 1s)', $t_crit));
cmp_ok($t_crit, '>=', 0.95, 'commit_path: critical no sooner than commit_wait_critical after the commit began');
my $row = check_row($node, 'commit_path');
like($row,
	qr/^critical\|(\d+\.\d)\|1 process\(es\) waiting for synchronous standbys to confirm a commit; the longest, pid $waiter, for at least \d+\.\d s \(IPC:SyncRep\); not connected: s1: start it, or take it out of synchronous_standby_names and reload; the waiting commits are durable here and return once a standby confirms/,
	'... naming the waiting pid and the member of synchronous_standby_names that is not connected');
my ($waited) = $row =~ /^critical\|(\d+\.\d)\|/;
cmp_ok($waited // 0, '>=', 1000, '... its value the ms the commit has waited, at least the limit');
like($row, qr/ \(writes hang: \/primary answers 503, \/ready stays 200\)$/,
	'... and says what it does to the verdict');
is($node->safe_psql('postgres',
		q{SELECT count(*) > 0 FROM health.events WHERE changes @> '[{"check": "commit_path", "new": "warning"}]'}),
	't', '... after a warning at 200 ms, which an event recorded');
is(metric($hport, 'check_status', 'commit_path'), '2', '/metrics: commit_path critical (2)');
cmp_ok(metric($hport, 'check_value_seconds', 'commit_path') // 0, '>=', 1, '... its wait in seconds, at least 1');
($st, undef, $body) = http_get($hport, '/primary');
is($st, 503, 'commit_path critical: /primary 503');
is(body_reason($body, 'commit_path')->{status} // '', 'critical', '... naming commit_path');
($st, undef, $body) = http_get($hport, '/ready');
is($st, 200, '... /ready 200');
is(doc($body)->{status}, 'degraded', '... degraded');
is($node->safe_psql('postgres', "SELECT health.ready('primary')"), 'f', "health.ready('primary') false");
is($node->safe_psql('postgres', 'SELECT health.ready()'), 't', 'health.ready() true');

$standby->start;
ok($insert->finish, 's1 back: the INSERT returns') or diag("psql: $ins_err");
like($ins_out, qr/INSERT 0 1/, '... and inserted its row');
wait_for($node, "SELECT status = 'ok' FROM health.checks WHERE name = 'commit_path'",
	'commit_path ok', 'commit_path', 30);
wait_for($node, "SELECT detail = 'no commit is waiting for a synchronous standby or for WAL' "
	  . "FROM health.checks WHERE name = 'commit_path'", 'nothing waiting', 'commit_path');
pass('commit_path ok again, nothing waiting');
is((poll_http($hport, '/primary', 200, 10))[0], 200, '/primary 200 again');
$node->safe_psql('postgres', 'ALTER SYSTEM RESET synchronous_standby_names');
$node->reload;
$standby->stop('fast');

# =========================================================================
# 3. archiver
# =========================================================================
# has_archiving: archive_command copies to the node's archive directory.
my $segment = sub {
	return $node->safe_psql('postgres',
		'INSERT INTO t SELECT generate_series(1, 1000); SELECT pg_walfile_name(pg_switch_wal())');
};
my $ok_seg = $segment->();
wait_for($node, "SELECT last_archived_wal = '$ok_seg' FROM pg_stat_archiver", "$ok_seg archived");
# (the segments waiting are counted by the disk worker, at its own pace)
wait_for($node, "SELECT detail LIKE 'archiving works:%$ok_seg%' AND detail NOT LIKE '%wait to be archived%' "
	  . "FROM health.checks WHERE name = 'archiver'", 'the archiver check to see it', 'archiver');
like(check_row($node, 'archiver'),
	qr/^ok\|0\.0\|archiving works: \d+ segments archived, the last \($ok_seg\) \d+ s ago$/,
	'archiver: ok while archive_command works');

$node->safe_psql('postgres', "ALTER SYSTEM SET archive_command = 'false'");
$node->reload;
wait_for($node, "SELECT current_setting('archive_command') = 'false'", 'archive_command = false');
my @failing = map { $segment->() } 1 .. 3;
wait_for($node, "SELECT last_failed_wal = '$failing[0]' FROM pg_stat_archiver", "$failing[0] failing");
wait_for($node, "SELECT detail LIKE '%3 WAL segment(s)%' FROM health.checks WHERE name = 'archiver'",
	'the disk worker to count the waiting segments', 'archiver');
like(check_row($node, 'archiver'),
	qr/^ok\|\d+\.\d\|archiving has failed since .+ \(\d+ s; \d+ failures in all\); the last failure \d+ s ago, on segment $failing[0]; 3 WAL segment\(s\) \(48\.0 MB\) wait to be archived and cannot be removed$/,
	'archive_command failing, archive_failing_warning 60 s: still ok, the detail says what fails');
$node->safe_psql('postgres', 'ALTER SYSTEM SET pg_health.archive_failing_warning = 0');
$node->reload;
wait_for($node, "SELECT status = 'warning' FROM health.checks WHERE name = 'archiver'",
	'archiver warning', 'archiver');
like(check_row($node, 'archiver'),
	qr/^warning\|\d+\.\d\|archiving has failed since .+ on segment $failing[0]; \d+ WAL segment\(s\) \(\d+\.\d MB\) wait to be archived and cannot be removed: fix archive_command \(its error is in the server log\)$/,
	'archive_failing_warning = 0: a warning at once, naming the segment and the segments waiting');
($st, undef, $body) = http_get($hport, '/ready');
is($st, 200, '... /ready 200 (a warning)');
is(body_reason($body, 'archiver')->{status} // '', 'warning', '... with the archiver among the reasons');
is(metric($hport, 'check_status', 'archiver'), '1', '... and /metrics says warning (1)');

$node->safe_psql('postgres', 'ALTER SYSTEM RESET archive_command');
$node->reload;
wait_for($node, "SELECT last_archived_wal = '$failing[2]' FROM pg_stat_archiver", 'the backlog archived');
wait_for($node, "SELECT status = 'ok' AND detail NOT LIKE '%wait to be archived%' "
	  . "FROM health.checks WHERE name = 'archiver'", 'archiver ok', 'archiver');
like(check_row($node, 'archiver'),
	qr/^ok\|0\.0\|archiving works: \d+ segments archived, the last \($failing[2]\) \d+ s ago$/,
	'archive_command fixed: archiver ok, "archiving works"');
ok(-f $node->archive_dir . "/$_", "... $_ is in the archive") for @failing;
$node->stop;

# =========================================================================
# 4. wraparound, on a cluster of its own (pg_resetwal mangles it)
# =========================================================================
my $wport = PostgreSQL::Test::Cluster::get_free_port();
my $wrap = PostgreSQL::Test::Cluster->new('wrap');
$wrap->init;
# autovacuum_freeze_max_age at its maximum: no anti-wraparound autovacuum
# at the first jump.
$wrap->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_health'
pg_health.sample_interval = 100ms
pg_health.http_port = $wport
pg_health.accept_probe_interval = 0
autovacuum = off
autovacuum_freeze_max_age = 2000000000
max_prepared_transactions = 2
});
$wrap->start;
$wrap->safe_psql('postgres', 'CREATE EXTENSION pg_health');
my $bindir = $wrap->config_data('--bindir');
sub wq { return $wrap->safe_psql($_[1] // 'postgres', $_[0]); }
sub wrap_row { return check_row($wrap, 'wraparound'); }
sub wrap_wait { wait_for($wrap, $_[0], $_[1], 'wraparound', $_[2]); }

wrap_wait("SELECT status = 'ok' AND value IS NOT NULL FROM health.checks WHERE name = 'wraparound'",
	'a first wraparound row');
like(wrap_row(),
	qr/^ok\|0\.0\|oldest unfrozen XID is \d+ transactions old \(0\.0% of the way to the stop limit; autovacuum forces freezing from 2000000000\) in (database "\w+"|the database with oid \d+); MultiXact 0\.0%$/,
	'wraparound: ok on a new cluster');
# the stop limit: 3,000,000 XIDs short of the wrap limit, 2^31 - 1 after
# the oldest
my $stop_age = 2**31 - 1 - 3_000_000;
my $frozen0 = wq("SELECT datfrozenxid FROM pg_database WHERE datname = 'template0'");

# Move the next XID to $next.  -u: the server's oldest XID just behind it,
# until a VACUUM computes it from pg_database, so that nothing starts an
# anti-wraparound autovacuum before the test is ready for it.  $next is the
# first XID of a pg_xact segment (the server zeroes pages as XIDs advance);
# the segment is created anyway, zero-filled.
sub jump
{
	my ($next) = @_;
	$wrap->stop;
	PostgreSQL::Test::Utils::system_or_bail("$bindir/pg_resetwal", '-x', $next, '-u', $next - 1000,
		$wrap->data_dir);
	my $seg = sprintf('%s/pg_xact/%04X', $wrap->data_dir, int($next / 1048576));
	unless (-e $seg)
	{
		open my $fh, '>', $seg or die "$seg: $!";
		binmode $fh;
		print $fh "\0" x 262144;
		close $fh;
	}
	$wrap->start;
}
sub segment_start { my $x = shift; return (int(($x - 1) / 1048576) + 1) * 1048576; }

my $next1 = segment_start($frozen0 + 1_200_000_000);
jump($next1);
is(wq('SELECT txid_current() >= ' . $next1), 't', "next XID moved to $next1 by pg_resetwal");
# Freeze everything but template0, which is the oldest then.
wq('VACUUM (FREEZE)');
wq('VACUUM (FREEZE)', 'template1');
wrap_wait(q{SELECT status = 'warning' AND detail LIKE '%in database "template0"%' FROM health.checks WHERE name = 'wraparound'},
	'wraparound warning naming template0');
$row = wrap_row();
like($row,
	qr/^warning\|\d+\.\d\|oldest unfrozen XID is \d+ transactions old \(\d+\.\d% of the way to the stop limit\) in database "template0"; MultiXact 0\.0%: VACUUM \(FREEZE\) that database \(vacuumdb --all --freeze\) after ending what holds the horizon back \(long or prepared transactions, stale slots\)$/,
	'template0 ~1.2 billion transactions old: wraparound warning, naming the database and the fix');
my ($pct1, $age1) = $row =~ /^warning\|(\d+\.\d)\|oldest unfrozen XID is (\d+) /;
cmp_ok($age1 // 0, '>=', $next1 - $frozen0, "... the age: from template0's datfrozenxid ($frozen0) to the next XID");
cmp_ok($age1 // 0, '<', $next1 - $frozen0 + 1000, '... (a few XIDs since)');
cmp_ok(abs(($pct1 // 0) - 100 * ($age1 // 0) / $stop_age), '<', 0.1,
	"... the value: that age's share of the way to the stop limit ($stop_age)");
cmp_ok($pct1 // 0, '>', 50, '... over pg_health.wraparound_warning (50%)');
cmp_ok($pct1 // 100, '<', 95, '... under wraparound_critical (95%)');
is((http_get($wport, '/primary'))[0], 200, '... /primary 200 (a warning)');

# Past xidWarnLimit (2^31 - 1 - 40,000,000 transactions after the oldest),
# short of the stop limit.  wraparound_critical = 100 so that only the
# server's own limit can make it critical.  A forgotten prepared transaction
# holds a lock in template0: the anti-wraparound autovacuum that the server
# now starts waits for it instead of freezing template0.
my $next2 = segment_start($frozen0 + 2_120_000_000);
cmp_ok($next2 - $frozen0, '>', 2**31 - 1 - 40_000_000, 'the second jump is past xidWarnLimit');
cmp_ok($next2 - $frozen0, '<', $stop_age - 1000, '... and short of the stop limit');
wq('ALTER SYSTEM SET pg_health.wraparound_critical = 100');
jump($next2);
wq('ALTER DATABASE template0 ALLOW_CONNECTIONS true');
wq(q{BEGIN; LOCK TABLE pg_catalog.pg_description IN SHARE UPDATE EXCLUSIVE MODE; PREPARE TRANSACTION 'forgotten'},
	'template0');
# a VACUUM computes the limits from pg_database
wq('VACUUM pg_catalog.pg_am');
wrap_wait(q{SELECT count(*) > 0 FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'
	AND datname = 'template0' AND query LIKE '%to prevent wraparound%' AND wait_event_type = 'Lock'},
	'the anti-wraparound autovacuum waiting for the lock');
pass('the server starts an anti-wraparound autovacuum of template0, which waits for the forgotten transaction');
wrap_wait(q{SELECT status = 'critical' AND detail LIKE '%in database "template0"%' FROM health.checks WHERE name = 'wraparound'},
	'wraparound critical');
$row = wrap_row();
like($row,
	qr/^critical\|\d+\.\d\|oldest unfrozen XID is \d+ transactions old \(\d+\.\d% of the way to the stop limit\) in database "template0"; MultiXact 0\.0%: VACUUM \(FREEZE\) that database \(vacuumdb --all --freeze\) after ending what holds the horizon back \(long or prepared transactions, stale slots\) \(\/primary answers 503; reads are served\)$/,
	'template0 past xidWarnLimit: wraparound critical, naming the database and the fix');
my ($pct2, $age2) = $row =~ /^critical\|(\d+\.\d)\|oldest unfrozen XID is (\d+) /;
cmp_ok($age2 // 0, '>=', $next2 - $frozen0, '... the age from template0');
cmp_ok($pct2 // 100, '<', 100, '... under wraparound_critical (100): critical by the server\'s xidWarnLimit');
cmp_ok(abs((metric($wport, 'check_value_ratio', 'wraparound') // 0) - ($pct2 // 0) / 100), '<', 0.001,
	'... /metrics: the same share, as a ratio');
is(metric($wport, 'check_status', 'wraparound'), '2', '... critical (2)');
my ($ret, $stdout, $stderr) = $wrap->psql('postgres', 'SELECT txid_current()');
like($stderr, qr/WARNING:  database "template0" must be vacuumed within \d+ transactions/,
	'... where the server itself warns on every new XID');
($st, undef, $body) = http_get($wport, '/primary');
is($st, 503, 'wraparound critical: /primary 503');
is(body_reason($body, 'wraparound')->{status} // '', 'critical', '... naming wraparound');
($st, undef, $body) = http_get($wport, '/ready');
is($st, 200, '... /ready 200');
is(doc($body)->{status}, 'degraded', '... degraded');
is(wq("SELECT health.ready('primary')"), 'f', "health.ready('primary') false");
is(wq('SELECT health.ready()'), 't', 'health.ready() true');

wq(q{ROLLBACK PREPARED 'forgotten'}, 'template0');
my $t_vac = time;
PostgreSQL::Test::Utils::system_or_bail("$bindir/vacuumdb", '--all', '--freeze', '-q',
	'-h', $wrap->host, '-p', $wrap->port);
note(sprintf('vacuumdb --all --freeze: %.1f s', time - $t_vac));
wrap_wait("SELECT status = 'ok' AND value < 1 FROM health.checks WHERE name = 'wraparound'",
	'wraparound ok', 30);
like(wrap_row(), qr/^ok\|0\.0\|oldest unfrozen XID is \d+ transactions old \(0\.0% of the way to the stop limit; /,
	'prepared transaction rolled back, vacuumdb --all --freeze: wraparound ok');
is((poll_http($wport, '/primary', 200, 10))[0], 200, '... /primary 200');
$wrap->stop;

# --- The probe over TCP: no Unix socket at all --------------------------------
# A server with unix_socket_directories empty is probed at its first
# listen address (here the loopback), as a local client would connect.  It
# is read over HTTP only: no client here connects without a socket either.
my $tport = PostgreSQL::Test::Cluster::get_free_port();
my $tcp = PostgreSQL::Test::Cluster->new('tcp_only');
$tcp->init;
$tcp->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_health'
pg_health.sample_interval = 100ms
pg_health.accept_probe_interval = 200ms
pg_health.http_port = $tport
unix_socket_directories = ''
listen_addresses = '127.0.0.1'
});
$tcp->start;
my $tcp_detail = '';
my $tcp_deadline = time + 20;
while (time < $tcp_deadline)
{
	my ($st, undef, $body) = http_get($tport, '/health');
	my $c = body_check($body // '', 'accepting');
	$tcp_detail = $c ? "$c->{status}|$c->{detail}" : '';
	last if $tcp_detail =~ /^ok\|a new connection on /;
	usleep(100_000);
}
like($tcp_detail, qr/^ok\|a new connection on 127\.0\.0\.1 port \d+ was answered in [\d.]+ ms/,
	'no Unix socket: the probe connects to the first listen address over TCP, and is answered');
my $tcp_log = slurp_file($tcp->logfile);
unlike($tcp_log, qr/terminated by signal|server process .* was terminated/,
	'... and no worker crashed on the way');
$tcp->stop;

note(sprintf('036_serving.pl: %.1f s', time - $t_start));
done_testing();
