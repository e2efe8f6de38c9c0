# "Ready means the server can serve" (issue 28): the disk and replay checks
# against faults produced for real.
#
# Disk: a server whose data directory, pg_wal and one tablespace each sit on a
# small tmpfs of their own (scripts/test mounts them, as root, and passes the
# directory in PH_TMPFS_DIR).  A file written next to pg_wal: a warning from
# the growth ("full in"), then from the room used, then critical once
# pg_wal's filesystem has less than pg_health.wal_free_critical free (/ready
# 503), ok once it is removed.  An unlogged table filling the tablespace until
# PostgreSQL refuses to extend it (SQLSTATE 53100): critical for
# pg_health.refusal_window, ok once the table is dropped and the window has
# passed.
#
# A disk worker that hangs (SIGSTOP, standing in for statvfs() on a network
# filesystem that stopped answering): the sampler goes on sampling, the disk
# check warns that its figures are old, and the server stays ready.
#
# Replay, on a streaming standby with max_standby_streaming_delay = -1: a
# transaction there holding a lock on a table the primary drops (the startup
# process waits on Lock:relation), then a snapshot that a VACUUM on the
# primary conflicts with (IPC:RecoveryConflictSnapshot): warning, then
# critical (/replica and /ready 503), the detail naming the startup
# process's wait and the transaction, ok once it ends.  An apply delay is
# not counted as a stall; a paused replay with WAL waiting is a warning, then
# critical, ok once resumed.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use JSON::PP;
use Time::HiRes qw(time usleep);
use PgHealthTest;

# processes this test stopped (SIGSTOP): continued whatever happens
my %stopped;
END { kill 'CONT', keys %stopped if %stopped; }

sub doc { return decode_json($_[0]); }

# The reason a /ready-style answer gives for $check, or undef.
sub reason
{
	my ($body, $check) = @_;
	my ($r) = grep { $_->{check} eq $check } @{ (eval { doc($body)->{reasons} }) // [] };
	return $r;
}

# The check $name of $node as "status|value|detail" (the value rounded to a
# tenth).
sub check_row
{
	my ($node, $name) = @_;
	return $node->safe_psql('postgres', qq{
		SELECT status || '|' || coalesce(round(value::numeric, 1)::text, '') || '|' || detail
		FROM health.checks WHERE name = '$name'});
}

# check_row until it matches $want or $timeout seconds have passed (the
# last row then); each row read is pushed onto @$seen.
sub poll_check
{
	my ($node, $name, $want, $timeout, $seen) = @_;
	my $deadline = time + ($timeout // 30);
	my $row;
	while (1)
	{
		$row = check_row($node, $name);
		push @$seen, $row if $seen;
		last if $row =~ $want || time > $deadline;
		usleep(50_000);
	}
	note "$name: $row";
	return $row;
}

# The check $name in /health's document.
sub http_check
{
	my ($port, $name) = @_;
	my (undef, undef, $body) = http_get($port, '/health');
	my ($c) = grep { $_->{name} eq $name } @{ (eval { doc($body)->{checks} }) // [] };
	return $c // {};
}

sub generation
{
	my ($node) = @_;
	return doc($node->safe_psql('postgres', 'SELECT health.report()'))->{generation};
}

# A filesystem's size and the bytes free to an unprivileged user (statvfs).
sub fs_bytes
{
	my ($path) = @_;
	my ($bsize, $blocks, $avail) = split ' ', `stat -f -c '%S %b %a' '$path'`;
	die "stat -f $path failed" unless defined $avail;
	return ($bsize * $blocks, $bsize * $avail);
}

# Append zeros to $file until its filesystem has $want_free bytes free.
sub fill_to_free
{
	my ($file, $want_free) = @_;
	my (undef, $free) = fs_bytes($file =~ s{/[^/]+$}{}r);
	my $n = $free - $want_free;
	return if $n <= 0;
	my $chunk = "\0" x (1 << 20);
	open my $fh, '>>', $file or die "open $file: $!";
	binmode $fh;
	while ($n > 0)
	{
		my $k = $n < length($chunk) ? $n : length($chunk);
		print $fh substr($chunk, 0, $k) or die "write $file: $!";
		$n -= $k;
	}
	close $fh or die "close $file: $!";
}

# SIGSTOP $pid while it sleeps in its wait for the next pass (epoll), not
# in the middle of a pass, where it could hold the shared lock the
# sampler takes too (a real hang in statvfs() holds none).
sub stop_while_waiting
{
	my ($pid) = @_;
	my %epoll = (x86_64 => [ 232, 281, 441 ], aarch64 => [ 22, 441 ]);
	my $arch = `uname -m`;
	chomp $arch;
	for (1 .. 50)
	{
		kill 'STOP', $pid or die "SIGSTOP $pid: $!";
		$stopped{$pid} = 1;
		my $t_end = time + 2;
		my $state;
		do
		{
			($state) = slurp_file("/proc/$pid/stat") =~ /^\d+ \(.*\) (\S)/s;
		} while ($state ne 'T' && time < $t_end && usleep(1_000) >= 0);
		# the system call it was stopped in (unreadable where ptrace is
		# restricted: then taken as it is)
		my ($nr) = split ' ', (eval { slurp_file("/proc/$pid/syscall") } // '');
		return 1
		  if $state eq 'T'
		  && (!$epoll{$arch} || !defined $nr || grep { $_ eq $nr } @{ $epoll{$arch} });
		kill 'CONT', $pid;
		delete $stopped{$pid};
		usleep(20_000);
	}
	return 0;
}

# --- Disk ----------------------------------------------------------------
my $tmpfs = $ENV{PH_TMPFS_DIR};
my $no_tmpfs;
if (!defined $tmpfs || $tmpfs eq '')
{
	$no_tmpfs = 'PH_TMPFS_DIR is not set: filling filesystems needs tmpfs mounts of their own, '
	  . 'which scripts/test, run as root, makes (data, wal and spc under one directory)';
}
else
{
	my %dev;
	for my $m (qw(data wal spc))
	{
		my $type = `stat -f -c %T '$tmpfs/$m' 2>/dev/null`;
		chomp $type;
		$no_tmpfs //= "PH_TMPFS_DIR=$tmpfs: $tmpfs/$m is not a tmpfs the test may write ($type)"
		  unless $type eq 'tmpfs' && -w "$tmpfs/$m";
		$dev{ (stat "$tmpfs/$m")[0] // '' } = 1;
	}
	$no_tmpfs //= "PH_TMPFS_DIR=$tmpfs: data, wal and spc must be three mounts" unless keys %dev == 3;
}

SKIP:
{
	skip $no_tmpfs, 1 if $no_tmpfs;

	my $dport = PostgreSQL::Test::Cluster::get_free_port();
	my $disk = PostgreSQL::Test::Cluster->new('disk');
	my $datadir = $disk->data_dir;
	my $waldir = "$tmpfs/wal/pg_wal";
	my $spcdir = "$tmpfs/spc/ts";
	# the data directory on the data tmpfs: initdb fills the empty directory
	# the node's data directory links to
	mkdir "$tmpfs/data/pgdata", 0700 or die "mkdir: $!";
	symlink "$tmpfs/data/pgdata", $datadir or die "symlink: $!";
	mkdir $spcdir, 0700 or die "mkdir: $!";
	# 1 MB WAL segments, at most a few of them: the 64 MB of the wal tmpfs
	# are the test's to fill
	$disk->init(extra => [ '--waldir', $waldir, '--wal-segsize', '1' ]);
	$disk->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_health'
pg_health.sample_interval = 100ms
pg_health.history_size = 100
pg_health.http_port = $dport
pg_health.disk_used_warning = 75
pg_health.disk_used_critical = 0
pg_health.disk_full_warning = 60s
pg_health.wal_free_critical = 8MB
pg_health.refusal_window = 3s
autovacuum = off
min_wal_size = 2MB
max_wal_size = 8MB
});
	$disk->start;
	$disk->safe_psql('postgres', qq{
		CREATE EXTENSION pg_health;
		CREATE TABLESPACE spc LOCATION '$spcdir';
		CREATE UNLOGGED TABLE big (pad text) TABLESPACE spc;
	});
	my $spc = $disk->safe_psql('postgres', "SELECT oid FROM pg_tablespace WHERE spcname = 'spc'");
	my ($wal_total) = fs_bytes("$tmpfs/wal");

	# Quiet: the growth of the start (WAL, the catalog) is past.
	my $row = poll_check($disk, 'disk', qr/^ok\|.*; 3 filesystem\(s\)$/, 30);
	like($row, qr/^ok\|[\d.]+\|fullest: \Q$datadir\E \(data directory\) [\d.]+% used, [\d.]+ MB free; 3 filesystem\(s\)$/,
		'disk ok: the fullest of the 3 filesystems (data directory, pg_wal, the tablespace) is the data directory');
	my ($st, $body) = poll_http($dport, '/ready', 200, 10);
	is($st, 200, '... /ready 200');

	# Growth: 40% of the wal tmpfs at once: full in seconds at that rate.
	# Each step polls for the row it asserts: a pass of the disk worker in
	# the middle of fill_to_free's writes sees a figure between two steps (a
	# rehearsal caught pg_wal critical at 8x% used on its way to 93.8%).
	fill_to_free("$tmpfs/wal/filler", int($wal_total * 0.55));
	my $want = qr/^warning\|([\d.]+)\|fullest: \Q$waldir\E \(pg_wal\) 4\d\.\d% used, [\d.]+ MB free, full in \d+ s at the growth of the last 10 s \([\d.]+ MB\/s\); 3 filesystem\(s\)$/;
	$row = poll_check($disk, 'disk', $want, 20);
	like($row, $want,
		'pg_wal\'s filesystem filling: warning, full in seconds at the growth of the last 10 s (history_size x sample_interval)');
	my ($value) = $row =~ /^\w+\|([\d.]+)\|/;
	cmp_ok($value, '<', 75, "... while it is only $value% used (below disk_used_warning)");

	# Used: 80% is past disk_used_warning, with 12.8 MB free still above
	# wal_free_critical.
	fill_to_free("$tmpfs/wal/filler", int($wal_total * 0.2));
	$want = qr/^warning\|([\d.]+)\|fullest: \Q$waldir\E \(pg_wal\) [89]\d\.\d% used, 1\d\.\d MB free(, full in [^;]+)?; 3 filesystem\(s\)$/;
	$row = poll_check($disk, 'disk', $want, 20);
	like($row, $want,
		'pg_wal\'s filesystem 80% used: warning, naming it');
	($value) = $row =~ /^\w+\|([\d.]+)\|/;
	cmp_ok($value, '>=', 75, "... the figure is the fullest's share used ($value%)");
	($st, undef, $body) = http_get($dport, '/ready');
	is($st, 200, '... /ready 200');
	is(doc($body)->{status}, 'degraded', '... degraded (a warning)');

	# Critical: pg_wal about to fill.
	fill_to_free("$tmpfs/wal/filler", 4 << 20);
	$want = qr/^critical\|[\d.]+\|pg_wal's filesystem \Q$waldir\E has [\d.]+ MB free, below pg_health\.wal_free_critical \(8 MB\): a full pg_wal stops the server \(PANIC\); free space, or find what retains WAL \(a failing archiver, an inactive slot\): fullest: \Q$waldir\E \(pg_wal\) 9\d\.\d% used, [\d.]+ MB free(, full in [^;]+)?; 3 filesystem\(s\)$/;
	$row = poll_check($disk, 'disk', $want, 20);
	like($row, $want,
		'pg_wal\'s filesystem with 4 MB free: critical, below wal_free_critical; the detail whole, with the figures');
	($st, $body) = poll_http($dport, '/ready', 503, 10);
	is($st, 503, '... /ready 503');
	like(reason($body, 'disk')->{detail} // '', qr/^pg_wal's filesystem \Q$waldir\E has/, '... naming pg_wal\'s filesystem');
	is(http_check($dport, 'disk')->{status}, 'critical', '... /health has it critical');
	my (undef, undef, $metrics) = http_get($dport, '/metrics');
	like($metrics, qr/^pg_health_check_status\{check="disk"\} 2$/m, '... and /metrics too');

	unlink "$tmpfs/wal/filler" or die "unlink: $!";
	$row = poll_check($disk, 'disk', qr/^ok\|/, 20);
	like($row, qr/^ok\|/, 'the file removed: disk ok again');
	($st) = poll_http($dport, '/ready', 200, 10);
	is($st, 200, '... /ready 200');

	# A table filling the tablespace: PostgreSQL refuses with 53100.
	my ($ret, $out, $err) = $disk->psql('postgres',
		"\\set VERBOSITY verbose\nINSERT INTO big SELECT repeat('x', 1500) FROM generate_series(1, 100000)");
	my $t_refused = time;
	note "INSERT: $err";
	isnt($ret, 0, 'an INSERT filling the tablespace fails');
	like($err, qr/ERROR:\s+53100: could not extend file "pg_tblspc\/$spc\/[^"]+"/,
		'... with SQLSTATE 53100, could not extend file');
	# critical once the disk worker's next pass confirms the tablespace is
	# still short of room (the refusal itself is counted at once)
	$row = poll_check($disk, 'disk', qr/^critical\|.*SQLSTATE 53100/, 5);
	like($row, qr/^critical\|[\d.]+\|writes failed for lack of disk space \(SQLSTATE 53100\) \d+ s ago \(1 since the server started; the server log names the file\): .*fullest: \Q$spcdir\E \(tablespace oid $spc\) [\d.]+% used, .*; 3 filesystem\(s\)$/,
		'disk critical: writes failed with 53100, once; the fullest is the tablespace, by its oid');
	($st, $body) = poll_http($dport, '/ready', 503, 3);
	is($st, 503, '... /ready 503');
	like(reason($body, 'disk')->{detail} // '', qr/SQLSTATE 53100/, '... naming the refused writes');

	$disk->safe_psql('postgres', 'DROP TABLE big');
	$row = poll_check($disk, 'disk', qr/^ok\|/, 20);
	like($row, qr/^ok\|[\d.]+\|fullest: \Q$datadir\E \(data directory\)/, 'the table dropped, the refusal window past: disk ok again');
	cmp_ok(time - $t_refused, '>=', 2.5, '... not before refusal_window (3 s) had passed since the refusal');
	($st) = poll_http($dport, '/ready', 200, 10);
	is($st, 200, '... /ready 200');
	$disk->stop;
}

# --- A streaming pair ----------------------------------------------------
my $pport = PostgreSQL::Test::Cluster::get_free_port();
my $sport = PostgreSQL::Test::Cluster::get_free_port();
my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
# the room on the host's own filesystems is not this part's business
$primary->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_health'
pg_health.sample_interval = 100ms
pg_health.stale_after = 2s
pg_health.http_port = $pport
pg_health.disk_used_warning = 0
pg_health.disk_full_warning = 0
pg_health.wal_free_critical = 0
autovacuum = off
});
$primary->start;
$primary->safe_psql('postgres', q{
	CREATE EXTENSION pg_health;
	CREATE TABLE t1 (a int);
	CREATE TABLE t2 (a int, b int) WITH (autovacuum_enabled = off);
	INSERT INTO t2 SELECT g, 0 FROM generate_series(1, 1000) g;
});
my $standby = streaming_standby($primary, 'standby', qq{
pg_health.http_port = $sport
max_standby_streaming_delay = -1
hot_standby_feedback = off
pg_health.replay_stall_warning = 1s
pg_health.replay_stall_critical = 3s
});

# --- The disk worker hangs -------------------------------------------------
my ($dpid) = worker_pids($primary, 'pg_health disk');
ok($dpid, 'the pg_health disk worker runs');
like(poll_check($primary, 'disk', qr/^ok\|/, 10), qr/^ok\|[\d.]+\|fullest: /, 'disk ok');
ok(stop_while_waiting($dpid), 'the disk worker stopped (SIGSTOP) between two passes');
my $gen1 = generation($primary);
my $row = poll_check($primary, 'disk', qr/figures are/, 10);
like($row, qr/^warning\|[\d.]+\|fullest: .*; these figures are \d+ s old: the pg_health disk worker is not keeping up$/,
	'disk warning: its figures are old (pg_health.stale_after, 2 s), the worker is not keeping up');
like(check_row($primary, 'sampler'), qr/^ok\|/, '... while the sampler check is ok');
my $gen2 = generation($primary);
cmp_ok($gen2 - $gen1, '>=', 10, "... and the sampler kept sampling ($gen1 to $gen2)");
my ($st, undef, $body) = http_get($pport, '/ready');
is($st, 200, '... /ready 200');
is(doc($body)->{status}, 'degraded', '... degraded');
kill 'CONT', $dpid;
delete $stopped{$dpid};
like(poll_check($primary, 'disk', qr/^ok\|/, 10), qr/^ok\|/, 'the worker continued (SIGCONT): disk ok again');

# --- Replay waits on a lock held on the standby ---------------------------
my $startup = $standby->safe_psql('postgres',
	"SELECT pid FROM pg_stat_activity WHERE backend_type = 'startup'");
like(poll_check($standby, 'replay', qr/^ok\|0\.0\|replay has nothing waiting/, 10), qr/^ok\|0\.0\|replay has nothing waiting/,
	'standby: replay ok, nothing waiting');
my $holder = $standby->background_psql('postgres');
my $hpid = $holder->query_safe('SELECT pg_backend_pid()');
$holder->query_safe('BEGIN');
$holder->query_safe('SELECT count(*) FROM t1');
$primary->safe_psql('postgres', 'DROP TABLE t1');
my @seen;
$row = poll_check($standby, 'replay', qr/^critical/, 20, \@seen);
my ($warning) = grep { /^warning/ } @seen;
like($warning // '', qr/^warning\|[\d.]+\|\d+ bytes received wait to be replayed; replay has not advanced for \d+ s; the startup process \(pid $startup\) waits on Lock:relation: a query on this standby conflicts with replay; the oldest transaction here is pid $hpid, open for \d+ s: end it \(pg_terminate_backend\), or bound the wait with max_standby_streaming_delay$/,
	'a transaction on the standby holds a lock the primary\'s DROP TABLE needs: warning, naming the startup process\'s wait and the transaction');
like($row, qr/^critical\|([\d.]+)\|\d+ bytes received wait to be replayed; replay has not advanced for \d+ s; the startup process \(pid $startup\) waits on Lock:relation: a query on this standby conflicts with replay; the oldest transaction here is pid $hpid/,
	'... then critical (replay_stall_critical, 3 s)');
my ($stall) = $row =~ /^\w+\|([\d.]+)\|/;
cmp_ok($stall, '>=', 3, "... the figure is the stall in seconds ($stall)");
($st, $body) = poll_http($sport, '/replica', 503, 5);
is($st, 503, '... standby /replica 503');
like(reason($body, 'replay')->{detail} // '', qr/waits on Lock:relation/, '... the reason names the wait');
($st) = http_get($sport, '/ready');
is($st, 503, '... and /ready 503');
($st) = http_get($pport, '/primary');
is($st, 200, '... while the primary answers /primary 200');
$holder->query_safe('COMMIT');
like(poll_check($standby, 'replay', qr/^ok\|0\.0\|replay has nothing waiting/, 10), qr/^ok\|0\.0\|replay has nothing waiting/,
	'the transaction ends: replay catches up, ok');
($st) = poll_http($sport, '/replica', 200, 10);
is($st, 200, '... /replica 200');
($st) = poll_http($sport, '/ready', 200, 10);
is($st, 200, '... /ready 200');
is($standby->safe_psql('postgres', "SELECT to_regclass('t1') IS NULL"), 't', '... and the table is gone there too');

# --- Replay waits on a snapshot held on the standby ------------------------
$holder->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ');
$holder->query_safe('SELECT count(*) FROM t2');
# a VACUUM removes the old row versions (unless something on the primary
# held them back: then once more)
for my $try (1 .. 3)
{
	$primary->safe_psql('postgres', "UPDATE t2 SET b = b + 1;\nVACUUM (TRUNCATE false) t2;");
	$row = poll_check($standby, 'replay', qr/^warning\|.*RecoveryConflictSnapshot/, 5);
	last if $row =~ /RecoveryConflictSnapshot/;
}
like($row, qr/^warning\|[\d.]+\|\d+ bytes received wait to be replayed; replay has not advanced for \d+ s; the startup process \(pid $startup\) waits on IPC:RecoveryConflictSnapshot: a query on this standby conflicts with replay; the oldest transaction here is pid $hpid/,
	'a snapshot on the standby that a VACUUM on the primary conflicts with: warning, the startup process waits on RecoveryConflictSnapshot');
$holder->query_safe('COMMIT');
like(poll_check($standby, 'replay', qr/^ok\|0\.0\|replay has nothing waiting/, 10), qr/^ok\|0\.0\|replay has nothing waiting/,
	'the snapshot released: ok');
$holder->quit;

# --- An apply delay is not a stall ----------------------------------------
$standby->safe_psql('postgres', "ALTER SYSTEM SET recovery_min_apply_delay = '3s'");
$standby->reload;
$standby->poll_query_until('postgres', "SELECT current_setting('recovery_min_apply_delay') = '3s'")
  or die 'recovery_min_apply_delay not set';
$primary->safe_psql('postgres', 'INSERT INTO t2 VALUES (0, 0)');
@seen = ();
$row = poll_check($standby, 'replay', qr/waits on Timeout:RecoveryApplyDelay/, 5, \@seen);
like($row, qr/^ok\|0\.0\|\d+ bytes received wait to be replayed; replay advances; the startup process \(pid $startup\) waits on Timeout:RecoveryApplyDelay \(recovery_min_apply_delay = 3000 ms, not counted\)$/,
	'recovery_min_apply_delay = 3s: the startup process waits on RecoveryApplyDelay, not counted: ok');
# until the commit is applied
my $target = $primary->safe_psql('postgres', 'SELECT pg_current_wal_insert_lsn()');
my $t_end = time + 10;
while (time < $t_end)
{
	push @seen, check_row($standby, 'replay');
	last if $standby->safe_psql('postgres', "SELECT pg_last_wal_replay_lsn() >= '$target'") eq 't';
	usleep(100_000);
}
is(join(',', grep { !/^ok\|/ } @seen), '', '... ok throughout the delay (' . scalar(@seen) . ' reads)');
$standby->safe_psql('postgres', 'ALTER SYSTEM RESET recovery_min_apply_delay');
$standby->reload;
$primary->wait_for_catchup($standby);

# --- Replay paused ----------------------------------------------------------
$standby->safe_psql('postgres', 'SELECT pg_wal_replay_pause()');
$standby->poll_query_until('postgres', "SELECT pg_get_wal_replay_pause_state() = 'paused'")
  or die 'replay did not pause';
$row = poll_check($standby, 'replay', qr/^warning/, 5);
# (the primary's own WAL, hint bits of catalog pages it reads, may trickle in)
like($row, qr/^warning\|[\d.]+\|recovery is paused \(pg_wal_replay_pause\(\)\): resume it with SELECT pg_wal_replay_resume\(\); (replay has nothing waiting|\d+ bytes received wait)/,
	'recovery paused: warning, saying how to resume');
($st, undef, $body) = http_get($sport, '/ready');
is($st, 200, '... /ready 200 (a warning)');
$primary->safe_psql('postgres', 'INSERT INTO t2 SELECT g, 0 FROM generate_series(1, 100) g');
@seen = ();
$row = poll_check($standby, 'replay', qr/^critical/, 15, \@seen);
like($row, qr/^critical\|[\d.]+\|recovery is paused \(pg_wal_replay_pause\(\)\): resume it with SELECT pg_wal_replay_resume\(\); \d+ bytes received wait to be replayed; replay has not advanced for \d+ s; the startup process \(pid $startup\) waits on IPC:RecoveryPause$/,
	'WAL arrives while paused: critical after replay_stall_critical');
ok((grep { /^warning\|[\d.]+\|recovery is paused .* \d+ bytes received wait/ } @seen),
	'... a warning before');
($st, $body) = poll_http($sport, '/replica', 503, 5);
is($st, 503, '... /replica 503');
like(reason($body, 'replay')->{detail} // '', qr/^recovery is paused/, '... the reason says paused');
($st) = http_get($sport, '/ready');
is($st, 503, '... and /ready 503');
$standby->safe_psql('postgres', 'SELECT pg_wal_replay_resume()');
like(poll_check($standby, 'replay', qr/^ok\|0\.0\|replay has nothing waiting/, 10), qr/^ok\|0\.0\|replay has nothing waiting/,
	'resumed: replay ok');
($st) = poll_http($sport, '/ready', 200, 10);
is($st, 200, '... /ready 200');
($st) = poll_http($sport, '/replica', 200, 10);
is($st, 200, '... /replica 200');

$standby->stop;
$primary->stop;
done_testing();
