# pg_health beside a real Patroni cluster (issue 29): Debian's Patroni with
# Debian's etcd as its DCS, three PostgreSQL nodes that Patroni bootstraps
# itself (initdb, then pg_basebackup), pg_health preloaded on each with its
# HTTP endpoint and the same pg_health.cluster_members, and HAProxy in front
# routing writes by pg_health's /primary (the configuration of
# docs/cluster.md, "Running beside Patroni").  Once Patroni has a leader and
# two streaming replicas, every node's /cluster names that leader and a
# write through HAProxy lands on it.  Then patronictl switches over to a
# named replica, and the test polls, every 20 ms, side by side: Patroni's own
# REST /cluster on each node, pg_health's /cluster on each node, /primary on
# each node (a 200 checked against pg_is_in_recovery() of that node), and
# writes through HAProxy; it prints how long each took to name the new
# primary.  Every process it starts (etcd, the Patronis and the servers they
# start, HAProxy, patronictl, its writer) is ended at END, on failure too.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use IO::Socket::INET;
use IO::Select;
use JSON::PP;
use POSIX ();
use Time::HiRes qw(time usleep);
use File::Basename qw(dirname);

# What the test needs, or a failure that says what is missing (never a
# skip; scripts/lib.sh installs the programs)
sub need
{
	my ($ok, $what) = @_;
	return if $ok;
	fail("needed: $what");
	done_testing();
	exit 1;
}
my %prog = (
	patroni => '/usr/bin/patroni',
	patronictl => '/usr/bin/patronictl',
	etcd => '/usr/bin/etcd',
	haproxy => '/usr/sbin/haproxy');
need(-x $prog{$_}, "$prog{$_} (scripts/lib.sh installs patroni, etcd-server, python3-etcd and haproxy)")
  for sort keys %prog;
# Patroni's switchover and failover take a multiprocessing lock (a POSIX
# semaphore in /dev/shm): where /dev/shm is not a writable tmpfs (a chroot
# that binds /dev but not the tmpfs on /dev/shm) Patroni cannot fail over
need(system('/usr/bin/python3', '-c', 'import multiprocessing; multiprocessing.Lock()') == 0,
	"a writable /dev/shm (Python's multiprocessing.Lock(), which Patroni's failover takes, fails here)");
my $bindir = `pg_config --bindir`;
chomp $bindir;
need(-x "$bindir/psql", "psql in $bindir (pg_config --bindir)");

# Nothing may hang: the whole test within 4 minutes, and a signal ends it
# through END like a failure does.
$SIG{ALRM} = sub { die "040_patroni.pl: timed out after 240 s\n" };
$SIG{$_} = sub { die "040_patroni.pl: SIG$_[0]\n" } for qw(INT TERM HUP);
$SIG{PIPE} = 'IGNORE';
alarm(240);

my $root = dirname(__FILE__) . '/../..';
my $tmp = PostgreSQL::Test::Utils::tempdir();
my $sockdir = PostgreSQL::Test::Utils::tempdir_short();
my @names = qw(db1 db2 db3);
my (%pgport, %hport, %rport, %yaml);
for my $n (@names)
{
	$pgport{$n} = PostgreSQL::Test::Cluster::get_free_port();
	$hport{$n} = PostgreSQL::Test::Cluster::get_free_port();
	$rport{$n} = PostgreSQL::Test::Cluster::get_free_port();
}
my $etcd_port = PostgreSQL::Test::Cluster::get_free_port();
my $etcd_peer = PostgreSQL::Test::Cluster::get_free_port();
my $wport = PostgreSQL::Test::Cluster::get_free_port();
my $members = join(',', map { "$_=127.0.0.1:$hport{$_}" } @names);
my $main_pid = $$;

# --- Cleanup: everything this test starts, at END, whatever happened ---------
# Each program runs in a session of its own (setsid), its output in a file;
# %pid holds them by name until they are reaped.
my %pid;
sub spawn
{
	my ($name, $log, @cmd) = @_;
	my $pid = fork() // die "fork: $!";
	if ($pid == 0)
	{
		POSIX::setsid();
		delete @ENV{ grep { /^PG/ } keys %ENV };	# none of the test's own
		open STDIN, '<', '/dev/null';
		open STDOUT, '>>', $log;
		open STDERR, '>&', \*STDOUT;
		{ exec @cmd; }
		POSIX::_exit(127);
	}
	$pid{$name} = $pid;
	return $pid;
}
# still running (not yet reaped): 1; its exit status is then in $status{name}
my %status;
sub running
{
	my ($name) = @_;
	return 0 unless $pid{$name};
	my $r = waitpid($pid{$name}, POSIX::WNOHANG());
	return 1 if $r == 0;
	$status{$name} = $?;
	delete $pid{$name};
	return 0;
}
# SIGTERM (or $sig), up to $grace seconds, then SIGKILL to its session
sub stop
{
	my ($name, $sig, $grace) = @_;
	return unless running($name);
	kill $sig // 'TERM', $pid{$name};
	my $deadline = time + ($grace // 5);
	usleep(50_000) while running($name) && time < $deadline;
	return unless running($name);
	kill 'KILL', -$pid{$name}, $pid{$name};
	waitpid($pid{$name}, 0);
	delete $pid{$name};
}
sub stop_all
{
	return unless defined $tmp && $tmp ne '';	# nothing started yet
	# the writer and patronictl, then the Patronis (a SIGTERM makes each stop
	# its server and leave), HAProxy, etcd
	for my $name (grep { /^(writer|patronictl)$/ } keys %pid)
	{
		kill 'KILL', -$pid{$name} if running($name);
		stop($name, 'KILL');
	}
	kill 'TERM', $pid{$_} for grep { /^patroni / && running($_) } keys %pid;
	stop($_, 'TERM', 20) for grep { /^patroni / } keys %pid;
	stop('haproxy', 'KILL');
	stop('etcd', 'TERM', 5);
	# a server a Patroni left behind (the postmaster runs in a session of
	# its own)
	for my $n (@names)
	{
		my $pidfile = "$tmp/$n/data/postmaster.pid";
		next unless -f $pidfile;
		my ($pm) = (eval { slurp_file($pidfile) } // '') =~ /^(\d+)/;
		next unless $pm && kill(0, $pm);
		system("$bindir/pg_ctl", '-D', "$tmp/$n/data", '-m', 'immediate', '-t', '10', 'stop');
		kill 'KILL', $pm if kill(0, $pm);
	}
	# and anything else still running from this test's directory
	for my $dir (glob '/proc/[0-9]*')
	{
		my ($p) = $dir =~ m{(\d+)$};
		next if $p == $$;
		my $cmd = eval { slurp_file("$dir/cmdline") } // next;
		kill 'KILL', $p if index($cmd, $tmp) >= 0;
	}
}
END
{
	local $?;
	alarm(0);
	stop_all() if defined $main_pid && $$ == $main_pid;
}

# --- Helpers -----------------------------------------------------------------

# GET $path from 127.0.0.1:$port, all of it within $timeout seconds:
# (status, body); status 0 when nothing came.
sub get
{
	my ($port, $path, $timeout) = @_;
	$timeout //= 2;
	my $deadline = time + $timeout;
	my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Timeout => $timeout)
	  or return (0, '');
	syswrite($s, "GET $path HTTP/1.1\r\nHost: 127.0.0.1:$port\r\nConnection: close\r\n\r\n");
	my $resp = '';
	my $sel = IO::Select->new($s);
	while ((my $left = $deadline - time) > 0)
	{
		last unless $sel->can_read($left);
		my $n = sysread($s, my $chunk, 65536);
		last unless $n;
		$resp .= $chunk;
	}
	close $s;
	my ($head, $body) = split /\r\n\r\n/, $resp, 2;
	my ($status) = ($head // '') =~ m{^HTTP/1\.[01] (\d{3})};
	return ($status // 0, $body // '');
}

sub get_json
{
	my ($port, $path) = @_;
	my ($st, $body) = get($port, $path);
	return ($st, eval { decode_json($body) } // {});
}

# psql (the test's PostgreSQL's, not a wrapper) over TCP to $port as the
# superuser: (exit code, output); -1 when it timed out.
sub psql_at
{
	my ($port, $sql, $timeout) = @_;
	my ($out, $err) = ('', '');
	my $ok = eval {
		IPC::Run::run([ "$bindir/psql", '-X', '-A', '-t', '-q', '-v', 'ON_ERROR_STOP=1', '-d',
				"host=127.0.0.1 port=$port dbname=postgres user=postgres connect_timeout=2", '-c', $sql ],
			'<', \undef, '>', \$out, '2>', \$err, IPC::Run::timeout($timeout // 10));
		1;
	};
	return (-1, "timed out: $@") unless $ok;
	chomp $out;
	return ($? >> 8, $? ? $err : $out);
}

# Until $cond->() returns true, every $pause seconds, at most $timeout
# seconds: the seconds it took, or undef.
sub wait_for
{
	my ($cond, $timeout, $pause) = @_;
	my $t0 = time;
	while (time - $t0 < $timeout)
	{
		return time - $t0 if $cond->();
		usleep(($pause // 0.2) * 1e6);
	}
	return undef;
}

# Patroni's view (its REST API on node $n, GET /cluster): the leader's name
# and the members by name.
sub patroni_cluster
{
	my ($n) = @_;
	my ($st, $d) = get_json($rport{$n}, '/cluster');
	my %m = map { $_->{name} => $_ } @{ $d->{members} // [] };
	my ($leader) = grep { ($m{$_}{role} // '') eq 'leader' } sort keys %m;
	return ($leader, \%m);
}

sub pg_health_cluster
{
	my ($n) = @_;
	return get_json($hport{$n}, '/cluster');
}

# --- etcd ----------------------------------------------------------------------
spawn('etcd', "$tmp/etcd.log",
	$prog{etcd}, '--name', 'ph040', '--data-dir', "$tmp/etcd",
		'--listen-client-urls', "http://127.0.0.1:$etcd_port",
		'--advertise-client-urls', "http://127.0.0.1:$etcd_port",
		'--listen-peer-urls', "http://127.0.0.1:$etcd_peer",
		'--initial-advertise-peer-urls', "http://127.0.0.1:$etcd_peer",
		'--initial-cluster', "ph040=http://127.0.0.1:$etcd_peer",
		'--initial-cluster-token', 'ph040', '--initial-cluster-state', 'new');
ok(defined wait_for(sub { (get($etcd_port, '/health'))[1] =~ /"health":\s*"true"/ }, 30),
	'etcd is up (GET /health)')
  or BAIL_OUT('etcd did not start: ' . slurp_file("$tmp/etcd.log"));

# --- Patroni's configuration, one file per node --------------------------------
# pg_health's settings come from the block of docs/cluster.md (its addresses
# and names replaced by this node's), the suite's server settings from
# test/conf/tap.conf (what PostgreSQL::Test::Cluster appends at initdb).
my ($doc_yaml) = slurp_file("$root/docs/cluster.md")
  =~ /\n## Running beside Patroni\n.*?\n```yaml\n(.*?)```/s;
ok($doc_yaml, 'docs/cluster.md has the Patroni parameters for pg_health');
my %doc_param = $doc_yaml =~ /^    (\S+): (.*)$/mg;
is(join(' ', sort keys %doc_param),
	'pg_health.cluster_interval pg_health.cluster_members pg_health.cluster_name pg_health.http_listen_addresses '
	  . 'pg_health.http_port shared_preload_libraries',
	'... the settings this test puts its own values into, and the others');
my %tap = slurp_file("$root/test/conf/tap.conf") =~ /^(pg_health\.\w+) = (\S+)$/mg;

for my $n (@names)
{
	my %param = (
		%doc_param, %tap,
		'pg_health.http_port' => $hport{$n},
		'pg_health.http_listen_addresses' => "'127.0.0.1'",
		'pg_health.cluster_name' => $n,
		'pg_health.cluster_members' => "'$members'",
		'pg_health.cluster_timeout' => '300ms',
		unix_socket_directories => "'$sockdir'");
	my $params = join('', map { "    $_: $param{$_}\n" } sort keys %param);
	mkdir "$tmp/$n";
	$yaml{$n} = "$tmp/$n/patroni.yml";
	open my $fh, '>', $yaml{$n} or die $!;
	print $fh <<"EOF";
scope: ph040
namespace: /ph040/
name: $n
log:
  level: INFO
restapi:
  listen: 127.0.0.1:$rport{$n}
  connect_address: 127.0.0.1:$rport{$n}
etcd3:
  hosts: 127.0.0.1:$etcd_port
bootstrap:
  dcs:
    ttl: 20
    loop_wait: 1
    retry_timeout: 5
    maximum_lag_on_failover: 1048576
    postgresql:
      use_pg_rewind: false
      use_slots: true
      parameters:
        max_connections: 50
        max_wal_senders: 10
        max_replication_slots: 10
        wal_keep_size: 128MB
  initdb:
    - encoding: UTF8
    - locale: C
postgresql:
  listen: 127.0.0.1:$pgport{$n}
  connect_address: 127.0.0.1:$pgport{$n}
  data_dir: $tmp/$n/data
  bin_dir: $bindir
  pgpass: $tmp/$n/pgpass
  authentication:
    superuser:
      username: postgres
      password: ph040-superuser
    replication:
      username: replicator
      password: ph040-replicator
  pg_hba:
    - local all all trust
    - local replication all trust
    - host all all 127.0.0.1/32 trust
    - host replication all 127.0.0.1/32 trust
  parameters:
$params
watchdog:
  mode: off
tags:
  nofailover: false
  noloadbalance: false
  clonefrom: false
  nosync: false
EOF
	close $fh;
}

# --- Patroni: three nodes -------------------------------------------------------
for my $n (@names)
{
	spawn("patroni $n", "$tmp/$n/patroni.log", $prog{patroni}, $yaml{$n});
	usleep(500_000) if $n eq 'db1';	# db1 most likely initializes
}
sub patroni_logs
{
	return join('', map { "---- $_\n" . (eval { slurp_file("$tmp/$_/patroni.log") } // '') } @names);
}

# the leader, then the extension on it (it replicates to the others)
my $leader;
ok(defined wait_for(sub { ($leader) = patroni_cluster('db1'); defined $leader }, 90),
	'Patroni bootstrapped a leader')
  or BAIL_OUT("no leader:\n" . patroni_logs());
my ($rc, $out);
ok(defined wait_for(sub {
	($rc, $out) = psql_at($pgport{$leader}, 'CREATE EXTENSION IF NOT EXISTS pg_health', 5);
	$rc == 0 }, 60), "CREATE EXTENSION pg_health on the leader, $leader")
  or diag($out);
my @replicas = grep { $_ ne $leader } @names;

# two replicas streaming: Patroni's view, and the leader's pg_stat_replication
my $t = wait_for(sub {
	my ($l, $m) = patroni_cluster($leader);
	return 0 unless ($l // '') eq $leader && ($m->{$leader}{state} // '') eq 'running';
	return 0 if grep { ($m->{$_}{role} // '') ne 'replica' || ($m->{$_}{state} // '') !~ /^(running|streaming)$/ } @replicas;
	($rc, $out) = psql_at($pgport{$leader},
		q{SELECT pg_catalog.count(*) FROM pg_catalog.pg_stat_replication WHERE state OPERATOR(pg_catalog.=) 'streaming'}, 5);
	return $rc == 0 && $out eq '2';
}, 120, 0.5);
ok(defined $t, "Patroni: $leader the leader, @replicas replicas, both streaming")
  or BAIL_OUT("the cluster did not form:\n" . patroni_logs());

# every node's /cluster: 200, the leader the one primary, 3 of 3 reachable
$t = wait_for(sub {
	for my $n (@names)
	{
		my ($st, $d) = pg_health_cluster($n);
		return 0 unless $st == 200 && ($d->{primary} // '') eq $leader && ($d->{reachable} // 0) == 3;
	}
	return 1;
}, 30);
ok(defined $t, "pg_health's /cluster on every node: 200, primary $leader, 3 of 3 reachable");
for my $n (@names)
{
	my ($st, $d) = pg_health_cluster($n);
	my %role = map { $_->{name} => $_->{role} // '' } @{ $d->{members} // [] };
	is(join(' ', map { "$_=$role{$_}" } @names), join(' ', map { "$_=" . ($_ eq $leader ? 'primary' : 'standby') } @names),
		"... $n sees the roles Patroni gave");
}
my %primary_status = map { $_ => (get($hport{$_}, '/primary'))[0] } @names;
is(join(' ', map { "$_=$primary_status{$_}" } @names),
	join(' ', map { "$_=" . ($_ eq $leader ? 200 : 503) } @names), '/primary: 200 on the leader only');

# --- HAProxy: the configuration of docs/cluster.md ------------------------------
my ($doc_cfg) = slurp_file("$root/docs/cluster.md")
  =~ /\n## Running beside Patroni\n.*?\n```haproxy\n(.*?)```/s;
ok($doc_cfg, 'docs/cluster.md has the HAProxy configuration');
my $put = ($doc_cfg =~ s/^(\s+server (db[123])) 10\.0\.0\.1[123]:5432 check port 8008$/$1 127.0.0.1:$pgport{$2} check port $hport{$2}/mg);
$put += ($doc_cfg =~ s/^(\s+bind) 127\.0\.0\.1:5000$/$1 127.0.0.1:$wport/m);
is($put, 4, "... and this test's three servers and its port put into it");
open my $hfh, '>', "$tmp/haproxy.cfg" or die $!;
print $hfh "global\n    maxconn 100\n\n$doc_cfg";
close $hfh;
spawn('haproxy', "$tmp/haproxy.log", $prog{haproxy}, '-db', '-f', "$tmp/haproxy.cfg");

sub via_haproxy { return psql_at($wport, $_[0], $_[1] // 10); }
my $where = q{SELECT pg_catalog.concat_ws(' ', pg_catalog.inet_server_port(), pg_catalog.pg_is_in_recovery())};
# HAProxy starts with every server up, and marks one down after "fall 2"
# failed checks: until then a connection may reach a replica.  Six in a row
# on the leader.
my $streak = 0;
ok(defined wait_for(sub {
	($rc, $out) = via_haproxy($where, 5);
	$streak = ($rc == 0 && $out eq "$pgport{$leader} f") ? $streak + 1 : 0;
	$streak >= 6 }, 30, 0.05),
	"through HAProxy (GET /primary checks): the leader $leader, six connections in a row")
  or diag($out);
($rc, $out) = via_haproxy(q{CREATE TABLE public.ph040_writes (n int, port int);
	INSERT INTO public.ph040_writes VALUES (0, pg_catalog.inet_server_port()) RETURNING port});
is("$rc $out", "0 $pgport{$leader}", '... a write through it lands on the leader');

# --- The switchover, measured ---------------------------------------------------
my $old = $leader;
my ($new) = sort @replicas;
my ($other) = grep { $_ ne $new } @replicas;

# writes through HAProxy, from a child process, until one lands on the new
# primary: each "started ended exit port" on a line
my $wlog = "$tmp/writes.txt";
my $t0 = time;
my $wpid = fork() // die "fork: $!";
if ($wpid == 0)
{
	POSIX::setsid();	# its psql with it, when it is ended
	$SIG{ALRM} = 'DEFAULT';
	alarm(60);
	open my $fh, '>', $wlog or POSIX::_exit(1);
	$fh->autoflush(1);
	for (my $i = 1; time < $t0 + 40; $i++)
	{
		my $a = time;
		my ($wrc, $wout) = via_haproxy("INSERT INTO public.ph040_writes VALUES ($i, pg_catalog.inet_server_port()) RETURNING port", 5);
		printf $fh "%.4f %.4f %d %s\n", $a, time, $wrc, $wrc == 0 ? $wout : '-';
		last if $wrc == 0 && $wout eq $pgport{$new};
		usleep(20_000);
	}
	close $fh;
	POSIX::_exit(0);
}
$pid{writer} = $wpid;

spawn('patronictl', "$tmp/patronictl.log", $prog{patronictl}, '-c', $yaml{$old},
	'switchover', '--leader', $old, '--candidate', $new, '--force');
my (%first, %was200, %checked_at, @violations);
my ($recovery_checks, $max_primaries, $ctl_done) = (0, 0, undef);
my $mark = sub { $first{ $_[0] } //= time - $t0 };
my ($done_at, $old_not200);
while (time < $t0 + 40)
{
	my $it = time;
	for my $n (@names)
	{
		my ($l) = patroni_cluster($n);
		$mark->("patroni $n") if ($l // '') eq $new;
	}
	for my $n (@names)
	{
		my ($st, $d) = pg_health_cluster($n);
		$max_primaries = $d->{primaries} if ($d->{primaries} // 0) > $max_primaries;
		$mark->("cluster $n") if $st == 200 && ($d->{primary} // '') eq $new;
	}
	for my $n (@names)
	{
		my ($st) = get($hport{$n}, '/primary');
		if ($st == 200)
		{
			push @violations, sprintf('%.3f s: %s /primary 200 after it had left', time - $t0, $n)
			  if $n eq $old && defined $first{'old left'};
			# a primary becomes a standby only by a restart (seconds, not the
			# milliseconds between the two questions): in recovery now, it
			# was at the 200 too
			if (!$was200{$n} || time - ($checked_at{$n} // 0) > 0.25)
			{
				my ($prc, $pout) = psql_at($pgport{$n}, 'SELECT pg_catalog.pg_is_in_recovery()', 3);
				$checked_at{$n} = time;
				$recovery_checks++ if $prc == 0;
				push @violations, sprintf('%.3f s: %s /primary 200 while pg_is_in_recovery()', time - $t0, $n)
				  if $prc == 0 && $pout eq 't';
			}
			$mark->('primary new') if $n eq $new;
		}
		elsif ($n eq $old)
		{
			# it has left: two answers in a row that are not 200 (not one
			# that a busy machine timed out), as of the first
			$first{'old left'} //= $old_not200 if defined $old_not200;
			$old_not200 //= time - $t0;
			$mark->('old 503') if $st == 503;
		}
		$old_not200 = undef if $n eq $old && $st == 200;
		$was200{$n} = $st == 200;
	}
	$ctl_done //= time - $t0 unless running('patronictl');
	# all seen: a second more of it, for what follows
	$done_at //= time if 7 == grep { defined $first{$_} }
	  ((map { "patroni $_" } @names), (map { "cluster $_" } @names), 'primary new');
	last if defined $done_at && defined $first{'old 503'} && time - $done_at > 1;
	my $left = 0.020 - (time - $it);
	usleep($left * 1e6) if $left > 0;
}
my $deadline = time + 30;
usleep(100_000) while running('patronictl') && time < $deadline;
stop('patronictl', 'KILL');
my $ctl_out = eval { slurp_file("$tmp/patronictl.log") } // '';
is($status{patronictl}, 0, "patronictl switchover --leader $old --candidate $new --force: done")
  or diag($ctl_out);
like($ctl_out, qr/Successfully (switched over|failed over)/, '... and says so') or diag($ctl_out);

# the writer, within its own 40 s
$deadline = time + 50;
usleep(100_000) while running('writer') && time < $deadline;
stop('writer', 'KILL');
my @writes = map { [split / /] } split /\n/, (eval { slurp_file($wlog) } // '');
my ($landed) = grep { $_->[2] == 0 && $_->[3] eq $pgport{$new} } @writes;
my @on_old = grep { $_->[2] == 0 && $_->[3] eq $pgport{$old} } @writes;
ok($landed, "a write through HAProxy landed on the new primary $new")
  or diag(join("\n", map { "@$_" } @writes));
$first{write} = $landed->[1] - $t0 if $landed;

my @patroni_t = map { $first{"patroni $_"} } @names;
ok(!grep({ !defined } @patroni_t), "Patroni's /cluster names $new the leader on every node");
my ($patroni_first) = sort { $a <=> $b } grep { defined } @patroni_t;
# within 5 s of Patroni naming the new leader, or, on the old leader, which
# Patroni restarts as a replica, of its server answering again
for my $n (@names)
{
	my $tc = $first{"cluster $n"};
	my $from = $patroni_first // 0;
	$from = $first{'old 503'} if $n eq $old && ($first{'old 503'} // 0) > $from;
	ok(defined $tc && defined $patroni_first && $tc - $from < 5,
		"pg_health's /cluster on $n names $new the one primary within 5 s of Patroni naming it"
		  . ($n eq $old ? ' (and of its restart as a replica)' : ''))
	  or diag(defined $tc ? sprintf('after %.2f s', $tc - $from) : 'never');
}
ok(defined $first{'primary new'}, "/primary on $new: 200");
ok(defined $first{'old 503'}, "/primary on $old: 503 (a standby now)");
is(join("\n", @violations), '',
	"/primary never 200 on a node in recovery ($recovery_checks answers checked against pg_is_in_recovery()), nor on $old once it had left");
cmp_ok($max_primaries, '<=', 1, '... and no node\'s /cluster saw two primaries during the switchover');

my $f = sub { defined $_[0] ? sprintf('%.2f', $_[0]) : 'never' };
# seconds from the command; each node by its part: the new primary, the
# other replica, the old leader
my @by_part = ($new, $other, $old);
note(sprintf('switchover %s -> %s, seconds from patronictl (it returned after %s): '
	  . 'Patroni /cluster names %s on %s %s; pg_health /cluster names %s on %s %s; '
	  . '/primary 200 on %s %s; /primary not 200 on %s %s, 503 %s; a write through HAProxy on %s %s '
	  . '(%d tried, %d on %s); sample_interval 1s, cluster_interval %s',
	$old, $new, $f->($ctl_done),
	$new, join('/', @by_part), join('/', map { $f->($first{"patroni $_"}) } @by_part),
	$new, join('/', @by_part), join('/', map { $f->($first{"cluster $_"}) } @by_part),
	$new, $f->($first{'primary new'}), $old, $f->($first{'old left'}), $f->($first{'old 503'}),
	$new, $f->($first{write}), scalar(@writes), scalar(@on_old), $old, $doc_param{'pg_health.cluster_interval'}));

# --- After: the old leader streams from the new one, every node agrees ----------
$t = wait_for(sub {
	my ($l, $m) = patroni_cluster($other);
	return 0 unless ($l // '') eq $new;
	return 0 if grep { ($m->{$_}{state} // '') !~ /^(running|streaming)$/ } @names;
	($rc, $out) = psql_at($pgport{$new},
		q{SELECT pg_catalog.count(*) FROM pg_catalog.pg_stat_replication WHERE state OPERATOR(pg_catalog.=) 'streaming'}, 5);
	return $rc == 0 && $out eq '2';
}, 60, 0.5);
ok(defined $t, "after: $old and $other stream from $new");
is(join(' ', map { (psql_at($pgport{$_}, 'SELECT pg_catalog.pg_is_in_recovery()'))[1] } @names),
	join(' ', map { $_ eq $new ? 'f' : 't' } @names), "... pg_is_in_recovery(): only $new is a primary");
%primary_status = map { $_ => (get($hport{$_}, '/primary'))[0] } @names;
is(join(' ', map { "$_=$primary_status{$_}" } @names),
	join(' ', map { "$_=" . ($_ eq $new ? 200 : 503) } @names), '... /primary: 200 on it only');
$t = wait_for(sub {
	for my $n (@names)
	{
		my ($st, $d) = pg_health_cluster($n);
		return 0 unless $st == 200 && ($d->{primary} // '') eq $new && ($d->{reachable} // 0) == 3;
	}
	return 1;
}, 15);
ok(defined $t, "... every node's /cluster: 200, primary $new, 3 of 3 reachable");
# a graceful switchover loses nothing: every write acknowledged through
# HAProxy, on the old primary or the new, is there (and one that failed
# may have committed before its connection was cut)
my $acknowledged = 1 + grep { $_->[2] == 0 } @writes;
($rc, $out) = via_haproxy(q{SELECT pg_catalog.count(*) FROM public.ph040_writes});
ok($rc == 0 && $out >= $acknowledged && $out <= 1 + @writes,
	"... and HAProxy reaches it, with every write acknowledged before and after ($acknowledged of "
	  . (1 + @writes) . " tried: $out rows)");

if (!PostgreSQL::Test::Utils::all_tests_passing())
{
	for my $log ((map { "$_/patroni.log" } @names), 'haproxy.log', 'patronictl.log')
	{
		my @lines = split /\n/, (eval { slurp_file("$tmp/$log") } // '');
		diag("---- $log, last 40 lines\n" . join("\n", @lines[ ($#lines > 39 ? $#lines - 39 : 0) .. $#lines ]));
	}
}
stop_all();
done_testing();
