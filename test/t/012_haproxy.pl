# A real load balancer in front of a primary and a streaming standby:
# HAProxy with "option httpchk GET /primary" on a write frontend and
# "GET /replica" on a read frontend (the configuration docs/http.md ships).
# Writes land on the primary, reads on the standby; after the primary is
# stopped and the standby promoted, the write frontend reaches the new
# primary and the read frontend has no standby left to offer.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(time usleep);
use File::Basename qw(dirname);
use PgHealthTest;

my ($haproxy) = grep { -x $_ } ('/usr/sbin/haproxy', '/usr/bin/haproxy');
die 'haproxy is not installed (scripts/lib.sh installs it: apt-get install haproxy)'
  unless $haproxy;

my $h1 = PostgreSQL::Test::Cluster::get_free_port();
my $h2 = PostgreSQL::Test::Cluster::get_free_port();
my $wport = PostgreSQL::Test::Cluster::get_free_port();
my $rport = PostgreSQL::Test::Cluster::get_free_port();

my $primary = PostgreSQL::Test::Cluster->new('pg1');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_health'
pg_health.sample_interval = 100ms
pg_health.http_port = $h1
listen_addresses = '127.0.0.1'
});
$primary->start;
$primary->safe_psql('postgres', 'CREATE EXTENSION pg_health');
my $standby = streaming_standby($primary, 'pg2', "pg_health.http_port = $h2\n");

# The example of docs/http.md ("HAProxy"), as it is written there, with this
# test's addresses and ports put in: pg1 is the primary, pg2 the standby.
my ($p1, $p2) = ($primary->port, $standby->port);
my ($doc_cfg) = slurp_file(dirname(__FILE__) . '/../../docs/http.md')
  =~ /\n## HAProxy\n.*?\n```haproxy\n(.*?)```/s;
ok($doc_cfg, 'docs/http.md has the HAProxy configuration');
my %server = (pg1 => "127.0.0.1:$p1 check port $h1", pg2 => "127.0.0.1:$p2 check port $h2");
my $n_put = ($doc_cfg =~ s/^(\s+server (pg[12])) 10\.0\.0\.1[12]:5432 check port 8008$/$1 $server{$2}/mg);
$n_put += ($doc_cfg =~ s/^(\s+bind) 127\.0\.0\.1:5000$/$1 127.0.0.1:$wport/m);
$n_put += ($doc_cfg =~ s/^(\s+bind) 127\.0\.0\.1:5001$/$1 127.0.0.1:$rport/m);
is($n_put, 6, "... and this test's four servers and two frontends put into it");
# And Patroni's own template (docs/http.md, "Patroni's paths"): its OPTIONS
# checks against pg_health's port, unchanged.
my $pwport = PostgreSQL::Test::Cluster::get_free_port();
my ($patroni_cfg) = slurp_file(dirname(__FILE__) . '/../../docs/http.md')
  =~ /\n### Patroni's paths\n.*?\n```haproxy\n(.*?)```/s;
ok($patroni_cfg, 'docs/http.md has the Patroni template');
my $p_put = ($patroni_cfg =~ s/^(\s+server (pg[12])) 10\.0\.0\.1[12]:5432 maxconn 100 check port 8008$/$1 $server{$2}/mg);
$p_put += ($patroni_cfg =~ s/^(\s+bind) 127\.0\.0\.1:5002$/$1 127.0.0.1:$pwport/m);
is($p_put, 3, "... and this test's two servers and its frontend put into it");
my $cfg = PostgreSQL::Test::Utils::tempdir() . '/haproxy.cfg';
open my $fh, '>', $cfg or die $!;
print $fh "global\n    maxconn 200\n\n$doc_cfg\n$patroni_cfg";
close $fh;
my $hlog = PostgreSQL::Test::Utils::tempdir() . '/haproxy.log';
my $hap = IPC::Run::start([ $haproxy, '-db', '-f', $cfg ], '<', \undef, '>', $hlog, '2>&1');

# psql over TCP through a frontend: (exit code, output).  A connection made
# while a backend has no server waits in HAProxy's queue: connect_timeout
# bounds it, and IPC::Run's timer bounds everything else.
sub via
{
	my ($port, $sql) = @_;
	my ($out, $err) = ('', '');
	my $ok = eval {
		IPC::Run::run([ 'psql', '-X', '-A', '-t', '-d',
				"host=127.0.0.1 port=$port dbname=postgres connect_timeout=3",
				'-v', 'ON_ERROR_STOP=1', '-c', $sql ],
			'<', \undef, '>', \$out, '2>', \$err, IPC::Run::timeout(20));
		1;
	};
	return (1, "psql timed out: $@") unless $ok;
	chomp $out;
	return ($? >> 8, $out . $err);
}

# until $sql through $port answers $want (up to 30 s); returns the last answer
sub until_via
{
	my ($port, $sql, $want) = @_;
	my $deadline = time + 30;
	my ($rc, $out);
	do { ($rc, $out) = via($port, $sql); usleep(100_000) if $out ne $want }
	  while ($out ne $want && time < $deadline);
	return $out;
}

my $where = 'SELECT pg_is_in_recovery() || \' \' || inet_server_port()';
is(until_via($wport, $where, "false $p1"), "false $p1",
	'write frontend: reaches the primary (pg_is_in_recovery false)');
is(until_via($rport, $where, "true $p2"), "true $p2",
	'read frontend: reaches the standby (pg_is_in_recovery true)');
is(until_via($pwport, $where, "false $p1"), "false $p1",
	'Patroni\'s template (OPTIONS /primary): reaches the primary');

# HAProxy starts with every server up and marks one down after "fall 2"
# failed checks (500 ms apart), in each backend at its own offset: until
# then the round robin may still pick the primary for a read, or the
# standby for a write.  Wait for three reads on the standby and three
# writes on the primary in a row.
my $streak = 0;
my $settle = time + 30;
while ($streak < 3 && time < $settle)
{
	$streak = ((via($rport, $where))[1] eq "true $p2" && (via($wport, $where))[1] eq "false $p1")
	  ? $streak + 1 : 0;
	usleep(100_000) if $streak < 3;
}

my @w = map { (via($wport, $where))[1] } 1 .. 6;
is_deeply(\@w, [ ("false $p1") x 6 ], 'six write connections: every one on the primary');
my @r = map { (via($rport, $where))[1] } 1 .. 6;
is_deeply(\@r, [ ("true $p2") x 6 ], 'six read connections: every one on the standby');

my ($rc, $out) = via($wport, 'CREATE TABLE orders (id int); INSERT INTO orders VALUES (1), (2)');
is($rc, 0, 'a write through the write frontend succeeds') or diag($out);
($rc, $out) = via($rport, 'INSERT INTO orders VALUES (3)');
isnt($rc, 0, 'a write through the read frontend is refused');
like($out, qr/read-only transaction/, '... by a read-only standby');
$primary->wait_for_catchup($standby);
is((via($rport, 'SELECT count(*) FROM orders'))[1], '2', 'the standby serves the rows written via HAProxy');

# Failover: the primary stops, the standby is promoted.
$primary->stop('fast');
my $t0 = time;
$standby->promote;
is(until_via($wport, $where, "false $p2"), "false $p2",
	'after promotion: the write frontend reaches the new primary');
diag(sprintf('write frontend moved %.1f s after promotion began', time - $t0));
is(until_via($pwport, $where, "false $p2"), "false $p2",
	'... and Patroni\'s template follows it to the new primary too');
($rc, $out) = via($wport, 'INSERT INTO orders VALUES (4); SELECT count(*) FROM orders');
is($rc, 0, 'a write through the write frontend succeeds on the new primary') or diag($out);
like($out, qr/^3$/m, '... and it has all three rows');
my $deadline = time + 10;
($rc) = via($rport, 'SELECT 1');
while ($rc == 0 && time < $deadline) { usleep(200_000); ($rc) = via($rport, 'SELECT 1'); }
isnt($rc, 0, 'the read frontend no longer offers a standby (the promoted server answers /replica 503)');

$hap->kill_kill;
$standby->stop;
done_testing();
