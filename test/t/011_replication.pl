# Replication-aware readiness on a real cluster: a primary and a streaming
# standby from a base backup, both preloaded and serving HTTP.  Roles, lag
# while replay is paused, zero delay on an idle primary (across a WAL
# switch), an inactive slot retaining WAL, flap damping, synchronous
# standbys, a standby whose primary is gone, promotion, and a standby that
# is still starting.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use JSON::PP;
use IPC::Run;
use Time::HiRes qw(time usleep);
use PgHealthTest;

my $pport = PostgreSQL::Test::Cluster::get_free_port();
my $sport = PostgreSQL::Test::Cluster::get_free_port();

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_health'
pg_health.sample_interval = 100ms
pg_health.http_port = $pport
pg_health.replica_stream_grace = 2s
pg_health.slot_retained_warning = 1MB
autovacuum = off
});
$primary->start;
$primary->safe_psql('postgres', 'CREATE EXTENSION pg_health');
my $standby = streaming_standby($primary, 'standby', "pg_health.http_port = $sport\n");

sub doc { return decode_json($_[0]); }
sub reason
{
	my ($body, $check) = @_;
	my ($r) = grep { $_->{check} eq $check } @{ doc($body)->{reasons} // [] };
	return $r;
}
sub check_row
{
	my ($node, $name, $args) = @_;
	$args //= '';
	return $node->safe_psql('postgres',
		"SELECT status || '|' || detail FROM health.checks($args) WHERE name = '$name'");
}

# --- Roles -----------------------------------------------------------------
my ($st, $body) = poll_http($sport, '/replica', 200);
is($st, 200, 'standby: /replica 200');
($st) = http_get($sport, '/primary');
is($st, 503, 'standby: /primary 503');
($st) = http_get($pport, '/primary');
is($st, 200, 'primary: /primary 200');
($st, undef, $body) = http_get($pport, '/replica');
is($st, 503, 'primary: /replica 503');
like(reason($body, 'role')->{detail}, qr/replica was requested, but this server is a primary/,
	'... because of the role');
is($primary->safe_psql('postgres', "SELECT health.ready('replica')"), 'f',
	"primary: health.ready('replica') is false");
like(check_row($primary, 'role', "'replica'"), qr/^critical\|replica was requested/,
	'... with the role check saying why');
is($standby->safe_psql('postgres', "SELECT health.ready('replica')"), 't',
	"standby: health.ready('replica') is true");
is($standby->safe_psql('postgres', "SELECT health.ready('primary')"), 'f',
	"standby: health.ready('primary') is false");

$primary->safe_psql('postgres', 'SELECT health.refresh()');
is($primary->safe_psql('postgres',
	"SELECT kind || ' ' || application_name || ' ' || state || ' ' || sync_state FROM health.replication"),
	'standby standby streaming async', 'primary: health.replication has the standby, streaming');
is($primary->safe_psql('postgres',
	'SELECT sent_lag_bytes >= 0 AND flush_lag_bytes >= sent_lag_bytes AND lag_bytes >= flush_lag_bytes FROM health.replication'),
	't', '... with its sent, flushed and replayed lag in bytes');
is($standby->safe_psql('postgres',
	"SELECT kind || ' ' || state || ' ' || (peer IS NOT NULL) FROM health.replication"),
	'receiver streaming true', 'standby: health.replication has the receiver, streaming');
like(check_row($standby, 'replication'), qr/^ok\|streaming from /, 'standby: replication check ok');
my $rep = doc($standby->safe_psql('postgres', 'SELECT health.report()'))->{replication};
is($rep->{server}, 'standby', "standby: the report's replication section");
is($rep->{receiver_state}, 'streaming', '... says streaming');
is($rep->{wal_source}, 'streaming', '... WAL comes from streaming');
like($rep->{received_lsn}, qr{^[0-9A-F]+/[0-9A-F]+$}, '... with positions');
my (undef, undef, $metrics) = http_get($sport, '/metrics');
like($metrics, qr/^pg_health_replication_streaming 1$/m, 'standby /metrics: streaming 1');
(undef, undef, $metrics) = http_get($pport, '/metrics');
like($metrics, qr/^pg_health_standbys\{state="streaming"\} 1$/m, 'primary /metrics: one standby streaming');
like($metrics, qr/^pg_health_standby_replay_lag_bytes\{application_name="standby",pid="\d+"\} \d+$/m,
	'primary /metrics: its replay lag');
like($metrics, qr/^pg_health_standby_info\{application_name="standby",pid="\d+",client_addr="[^"]*",state="streaming",sync_state="async"\} 1$/m,
	'primary /metrics: the standby, its address and states');

# --- Synchronous standbys ----------------------------------------------------
$primary->safe_psql('postgres', 'ALTER SYSTEM SET pg_health.min_sync_standbys = 1');
$primary->reload;
$primary->poll_query_until('postgres',
	"SELECT status = 'critical' FROM health.checks WHERE name = 'sync_standbys'")
  or die 'sync_standbys did not turn critical';
like(check_row($primary, 'sync_standbys'),
	qr/^critical\|0 synchronous standby\(s\) connected, pg_health.min_sync_standbys requires 1: synchronous_standby_names is empty/,
	'min_sync_standbys = 1 without synchronous_standby_names: critical, says why');
($st) = http_get($pport, '/primary');
is($st, 503, '... and /primary is 503');
$primary->safe_psql('postgres', "ALTER SYSTEM SET synchronous_standby_names = 'standby'");
$primary->reload;
$primary->poll_query_until('postgres',
	"SELECT status = 'ok' FROM health.checks WHERE name = 'sync_standbys'")
  or die 'sync_standbys did not recover';
like(check_row($primary, 'sync_standbys'), qr/^ok\|1 synchronous standby\(s\) connected/,
	'with the standby synchronous: ok');
is($primary->safe_psql('postgres', 'SELECT sync_state FROM health.replication'), 'sync',
	'... and health.replication shows it sync');
$primary->safe_psql('postgres',
	'ALTER SYSTEM RESET synchronous_standby_names; ALTER SYSTEM RESET pg_health.min_sync_standbys');
$primary->reload;
$primary->poll_query_until('postgres',
	"SELECT sync_state = 'async' FROM health.replication") or die 'still sync';

# --- Replay paused: lag grows ------------------------------------------------
$standby->safe_psql('postgres', 'SELECT pg_wal_replay_pause()');
$standby->poll_query_until('postgres', "SELECT pg_get_wal_replay_pause_state() = 'paused'")
  or die 'replay did not pause';
$primary->safe_psql('postgres',
	"CREATE TABLE filler AS SELECT g, repeat('x', 200) AS pad FROM generate_series(1, 20000) g");
my $target = $primary->safe_psql('postgres', 'SELECT pg_current_wal_flush_lsn()');
$standby->poll_query_until('postgres', "SELECT pg_last_wal_receive_lsn() >= '$target'")
  or die 'standby did not receive';
$standby->safe_psql('postgres', 'SELECT health.refresh()');
($st, undef, $body) = http_get($sport, '/replica?lag=1MB');
is($st, 503, 'paused replay, /replica?lag=1MB: 503');
my $r = reason($body, 'replication');
like($r->{detail}, qr/^replay lag \d+ [kM]B \((\d+) bytes\) is over the limit of 1024 kB \(1048576 bytes, this request's\); replay is paused/,
	'... the reason gives the lag and the limit');
my ($lag) = $r->{detail} =~ /\((\d+) bytes\)/;
cmp_ok($lag, '>', 1048576, '... and the figure is over 1 MB');
($st, undef, $body) = http_get($sport, '/replica');
is($st, 200, 'without a limit, /replica still answers 200');
is(doc($body)->{status}, 'degraded', '... degraded: replay is paused (a warning)');
like(check_row($standby, 'replication'), qr/^warning\|replay is paused, .* pg_wal_replay_resume/,
	'... and the check says how to resume');
is($standby->safe_psql('postgres', "SELECT health.ready('replica', 1048576)"), 'f',
	"health.ready('replica', max_lag_bytes => 1 MB) is false");
is($standby->safe_psql('postgres', "SELECT health.ready('replica', pg_size_bytes('1GB'))"), 't',
	'... and true with 1 GB');
like(check_row($standby, 'replication', "'replica', 1048576"), qr/^critical\|replay lag .* this request's/,
	'health.checks with the same limit gives the reason');
my $d1 = doc($standby->safe_psql('postgres', 'SELECT health.report()'))->{replication}{delay_ms};
usleep(600_000);
$standby->safe_psql('postgres', 'SELECT health.refresh()');
my $d2 = doc($standby->safe_psql('postgres', 'SELECT health.report()'))->{replication}{delay_ms};
cmp_ok($d2, '>', $d1, "the delay grows while replay is paused ($d1 ms, then $d2 ms)");
is($standby->safe_psql('postgres', "SELECT health.ready('replica', NULL, interval '1 ms')"), 'f',
	"health.ready('replica', max_delay => 1 ms) is false");
($st, undef, $body) = http_get($sport, '/replica?delay=1ms');
is($st, 503, '/replica?delay=1ms: 503');
like(reason($body, 'replication')->{detail}, qr/^replay delay \d+ ms is over the limit of 1 ms \(this request's\)/,
	'... with the delay in the reason');
$standby->safe_psql('postgres', 'SELECT pg_wal_replay_resume()');
($st) = poll_http($sport, '/replica?lag=1MB', 200);
is($st, 200, 'replay resumed: /replica?lag=1MB 200 again');

# --- Idle primary: the delay stays zero ------------------------------------
# A window counts only if the primary wrote no WAL in it: the standby must
# have replayed all of it first, the first report must come from a sample
# taken after that (health.refresh), and the primary's insert position must
# not move until the window ends.  Real WAL (the bgwriter's running-xacts
# record, a catalog page pruned by a new connection) is real lag, so such a
# window is taken again, up to four times, its records shown (the
# bgwriter logs running-xacts up to 15 s after the last WAL, so the window
# after a busy one may not be idle either).
$primary->safe_psql('postgres', 'SELECT pg_switch_wal()');
$primary->wait_for_catchup($standby);
my ($max_delay, $max_lag, $n, $idle);
for my $attempt (1 .. 4)
{
	my $from = $primary->safe_psql('postgres', 'SELECT pg_current_wal_insert_lsn()');
	$standby->poll_query_until('postgres', "SELECT pg_last_wal_replay_lsn() >= '$from'")
	  or die "standby did not replay up to $from";
	$standby->safe_psql('postgres', 'SELECT health.refresh()');
	($max_delay, $max_lag, $n) = (0, 0, 0);
	my $t_end = time + 10;
	while (time < $t_end)
	{
		my $x = doc($standby->safe_psql('postgres', 'SELECT health.report()'))->{replication};
		$max_delay = $x->{delay_ms} if $x->{delay_ms} > $max_delay;
		$max_lag = $x->{lag_bytes} if $x->{lag_bytes} > $max_lag;
		$n++;
		usleep(250_000);
	}
	my $to = $primary->safe_psql('postgres', 'SELECT pg_current_wal_insert_lsn()');
	$idle = $to eq $from;
	last if $idle;
	my $waldump = join('/', $primary->config_data('--bindir'), 'pg_waldump');
	my @records = split /\n/, `$waldump -p @{[$primary->data_dir]}/pg_wal -s $from -e $to 2>&1`;
	diag("window $attempt was not idle: the primary wrote WAL from $from to $to"
		  . " (lag up to $max_lag bytes, delay up to $max_delay ms), "
		  . scalar(@records) . " records, the first of them:\n"
		  . join("\n", @records[0 .. ($#records < 19 ? $#records : 19)]));
}
ok($idle, 'a window of 10 s in which the primary wrote no WAL (after a WAL switch)');
is($max_delay, 0, "idle primary: the delay stayed 0 in $n reports");
is($max_lag, 0, '... and so did the lag in bytes');
cmp_ok($standby->safe_psql('postgres',
		'SELECT extract(epoch FROM now() - pg_last_xact_replay_timestamp())'), '>', 10,
	'... where now() - pg_last_xact_replay_timestamp() says over 10 s');

# --- An inactive slot retaining WAL, and flap damping -------------------------
# 100 samples at 100 ms: 10 s from the moment the slot retains over 1 MB,
# which comes early in the INSERT, for the rest of it and the read (one
# session, so no connection is opened in between).
$primary->safe_psql('postgres', 'ALTER SYSTEM SET pg_health.hold_samples = 100');
$primary->reload;
$primary->poll_query_until('postgres', "SELECT current_setting('pg_health.hold_samples') = '100'");
$primary->safe_psql('postgres', "SELECT pg_create_physical_replication_slot('forgotten', true)");
like($primary->safe_psql('postgres', qq{
	INSERT INTO filler SELECT g, repeat('y', 200) FROM generate_series(1, 20000) g;
	SELECT health.refresh();
	SELECT status || '|' || detail FROM health.checks WHERE name = 'replication_slots'}),
	qr/^ok\|warning for \d+ of the 100 samples pg_health.hold_samples asks before it counts: inactive replication slot "forgotten"/m,
	'hold_samples = 100: a new warning is pending, the status held at ok');
$primary->poll_query_until('postgres',
	"SELECT status = 'warning' FROM health.checks WHERE name = 'replication_slots'")
  or die 'slot warning did not come';
like(check_row($primary, 'replication_slots'),
	qr/^warning\|inactive replication slot "forgotten" retains \d+ [kM]B of WAL \(over 1024 kB: pg_health.slot_retained_warning\)/,
	'after 100 samples: warning naming the slot');
$primary->safe_psql('postgres',
	"SELECT pg_drop_replication_slot('forgotten'); ALTER SYSTEM RESET pg_health.hold_samples");
$primary->reload;
$primary->poll_query_until('postgres',
	"SELECT status = 'ok' FROM health.checks WHERE name = 'replication_slots'")
  or die 'slot warning did not clear';
pass('slot dropped: replication_slots ok again');

# --- A standby's address over HTTP (issue 26, item 3) ------------------------
# pg_receivewal over TCP is a walsender with a client address (its
# application_name is the test's, from PGAPPNAME); the
# unauthenticated doors show it only with pg_health.http_client_addresses.
$primary->append_conf('postgresql.conf', "listen_addresses = '127.0.0.1'\n");
$primary->append_conf('pg_hba.conf', "host replication all 127.0.0.1/32 trust\n");
$primary->restart;
my $walsdir = PostgreSQL::Test::Utils::tempdir();
my $receiver = IPC::Run::start([ 'pg_receivewal', '-h', '127.0.0.1', '-p', $primary->port, '-D', $walsdir,
		'--no-sync', '-n' ], '<', \undef, '>', \my $rw_out, '2>', \my $rw_err);
$primary->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM health.replication WHERE peer = '127.0.0.1'")
  or die "pg_receivewal did not show in health.replication: $rw_err";
pass('pg_receivewal over TCP: health.replication (pg_monitor) shows its address');
(undef, undef, $metrics) = http_get($pport, '/metrics');
like($metrics, qr/^pg_health_standby_info\{application_name="011_replication.pl",pid="\d+",client_addr="",state="\w+",sync_state="\w+"\} 1$/m,
	'/metrics: pg_health.http_client_addresses off (the default): no address');
my (undef, undef, $page) = http_get($pport, '/');
unlike($page, qr/127\.0\.0\.1/, '... and the status page does not show it either');
$primary->safe_psql('postgres', 'ALTER SYSTEM SET pg_health.http_client_addresses = on');
$primary->reload;
my $deadline = time + 10;
do { (undef, undef, $metrics) = http_get($pport, '/metrics'); usleep(100_000); }
  until $metrics =~ /client_addr="127\.0\.0\.1"/ || time > $deadline;
like($metrics, qr/^pg_health_standby_info\{application_name="011_replication.pl",pid="\d+",client_addr="127\.0\.0\.1",state="\w+",sync_state="\w+"\} 1$/m,
	'pg_health.http_client_addresses on: /metrics shows the address');
(undef, undef, $page) = http_get($pport, '/');
like($page, qr/<td>127\.0\.0\.1<\/td>/, '... and so does the status page');
$receiver->kill_kill;

# --- The primary goes away: not streaming, critical after the grace --------
$primary->stop('fast');
my ($st2, $body2) = poll_http($sport, '/replica', 503, 30);
is($st2, 503, 'primary stopped: standby /replica 503 after the grace period');
like(reason($body2, 'replication')->{detail},
	qr/^not streaming for \d+ s \(WAL receiver \w+; limit pg_health.replica_stream_grace = 2000 ms\)/,
	'... the reason: not streaming, for how long, and the limit');
isnt($standby->safe_psql('postgres', 'SELECT state FROM health.replication'), 'streaming',
	'... and health.replication shows the receiver not streaming');
is(doc($standby->safe_psql('postgres', 'SELECT health.report()'))->{replication}{wal_source}, 'pg_wal',
	'... and the report says replay has only pg_wal (no restore_command)');

# --- Promotion ---------------------------------------------------------------
$standby->promote;
my $gen_at_promotion = doc($standby->safe_psql('postgres', 'SELECT health.report()'))->{generation};
($st, $body) = poll_http($sport, '/primary', 200, 10);
is($st, 200, 'promoted: the former standby answers /primary 200');
($st) = http_get($sport, '/replica');
is($st, 503, '... and /replica 503');
# The sample that saw the new role is the event's, not the one the test's
# next probe happens to read.
my $role_event = q{FROM health.events WHERE changes @> '[{"check": "role", "old": "standby", "new": "primary"}]'};
is($standby->safe_psql('postgres', "SELECT count(*) $role_event"), '1', 'an event records the promotion');
cmp_ok($standby->safe_psql('postgres', "SELECT generation $role_event"), '<=', $gen_at_promotion + 2,
	'... within two samples of the promotion');

# --- A standby still replaying at start-up: starting, not failed ------------
$standby->backup('b2', backup_options => [ '-X', 'none' ]);
my $late = PostgreSQL::Test::Cluster->new('late');
$late->init_from_backup($standby, 'b2', has_streaming => 1);
my $lport = PostgreSQL::Test::Cluster::get_free_port();
my $nowhere = PostgreSQL::Test::Cluster::get_free_port();
$late->append_conf('postgresql.conf', qq{
pg_health.http_port = $lport
primary_conninfo = 'host=127.0.0.1 port=$nowhere'
});
# pg_ctl -w would wait for consistency: start without waiting
PostgreSQL::Test::Utils::system_or_bail('pg_ctl', '-W', '-D', $late->data_dir,
	'-l', $late->logfile, 'start');
usleep(100_000) until -f $late->data_dir . '/postmaster.pid';
$late->_update_pid(1);
($st) = poll_http($lport, '/live', 200);
is($st, 200, 'a standby waiting for WAL to become consistent: /live 200');
($st, undef, $body) = http_get($lport, '/startup');
is($st, 503, '... /startup 503');
is(doc($body)->{status}, 'starting', '... with status starting, not failed');
($st, undef, $body) = http_get($lport, '/ready');
is(doc($body)->{status}, 'starting', '... and /ready says starting too');
$late->append_conf('postgresql.conf',
	"primary_conninfo = 'host=" . $standby->host . ' port=' . $standby->port . " application_name=late'\n");
$late->reload;
($st) = poll_http($lport, '/startup', 200, 60);
is($st, 200, 'WAL arrives, the standby becomes consistent: /startup 200');
($st) = http_get($lport, '/replica');
is($st, 200, '... and /replica 200');

$late->stop;
$standby->stop;
done_testing();
