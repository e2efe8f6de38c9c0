# Helpers shared by pg_health's TAP tests.
package PgHealthTest;
use strict;
use warnings;
use Exporter 'import';
use PostgreSQL::Test::Cluster;
use IO::Socket::INET;
use IO::Select;
use Time::HiRes qw(time usleep);
use PostgreSQL::Test::Utils qw(slurp_file);
our @EXPORT = qw(fill_slots refreshed_until http_raw http_get poll_http streaming_standby worker_pids rss_anon_kb
  http_rss_growth write_pgbouncer_config pgbouncer_pid start_pgbouncer start_prometheus);

# A streaming standby of $primary, from a base backup, with $conf appended to
# its postgresql.conf; started, and caught up with the primary.
sub streaming_standby
{
	my ($primary, $name, $conf) = @_;
	$primary->backup("$name.backup");
	my $standby = PostgreSQL::Test::Cluster->new($name);
	$standby->init_from_backup($primary, "$name.backup", has_streaming => 1);
	$standby->append_conf('postgresql.conf', $conf);
	$standby->start;
	$primary->wait_for_catchup($standby);
	return $standby;
}

# Through one superuser session ($bg, a BackgroundPsql), open dblink
# connections as $role until the server refuses one.  The connections stay
# open, idle, for as long as $bg lives.  Returns how many were opened and the
# server's reason for the refusal.
sub fill_slots
{
	my ($node, $bg, $role) = @_;
	my $connstr = 'host=' . $node->host . ' port=' . $node->port . " dbname=postgres user=$role";
	my $opened = $bg->query_safe(qq{
		DO \$\$
		DECLARE n int := 0; d text;
		BEGIN
		  FOR i IN 1..10000 LOOP
		    BEGIN
		      PERFORM dblink_connect('c' || i, '$connstr');
		      n := n + 1;
		    EXCEPTION WHEN OTHERS THEN
		      GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL;
		      PERFORM set_config('ph.refused', d, false);
		      EXIT;
		    END;
		  END LOOP;
		  PERFORM set_config('ph.opened', n::text, false);
		END \$\$;
		SELECT current_setting('ph.opened');
	});
	my $refused = $bg->query_safe("SELECT current_setting('ph.refused')");
	return ($opened, $refused);
}

# In the background session $bg: health.refresh(), then $sql, until it
# returns $want (up to 10 s); returns its last answer.  For figures that
# follow a step a sample may see half done: a connection refused keeps its
# process slot until its backend has exited, after its client read the
# error.
sub refreshed_until
{
	my ($bg, $sql, $want) = @_;
	my $deadline = time + 10;
	my $got;
	while (1)
	{
		$bg->query_safe('SELECT health.refresh()');
		$got = $bg->query_safe($sql);
		last if $got eq $want || time > $deadline;
		usleep(100_000);
	}
	return $got;
}

# One HTTP request over a raw socket to 127.0.0.1:$port.
# Returns (status, headers, body, seconds); status 0 when it could not connect.
sub http_raw
{
	my ($port, $request) = @_;
	my $t0 = time;
	my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Timeout => 5)
	  or return (0, '', "connect: $!", time - $t0);
	print $s $request;
	my $resp = '';
	my $sel = IO::Select->new($s);
	while ($sel->can_read(5))
	{
		my $n = sysread($s, my $chunk, 65536);
		last unless $n;
		$resp .= $chunk;
	}
	close $s;
	my ($head, $body) = split /\r\n\r\n/, $resp, 2;
	my ($status) = ($head // '') =~ m{^HTTP/1\.1 (\d{3})};
	return ($status // 0, $head // '', $body // '', time - $t0);
}

sub http_get
{
	my ($port, $path) = @_;
	return http_raw($port, "GET $path HTTP/1.1\r\nHost: x\r\n\r\n");
}

# GET $path until it answers $want (default: up to 30 s); returns
# (status, body) of the last answer.
sub poll_http
{
	my ($port, $path, $want, $timeout) = @_;
	my $deadline = time + ($timeout // 30);
	my ($status, $body);
	while (1)
	{
		($status, undef, $body) = http_get($port, $path);
		last if $status == $want || time > $deadline;
		usleep(50_000);
	}
	return ($status, $body);
}

# The pids of $node's processes whose title names them ("pg_health
# sampler"): children of its postmaster.  The sampler attaches to no
# database, so it has no row in pg_stat_activity.
sub worker_pids
{
	my ($node, $title) = @_;
	my ($postmaster) = slurp_file($node->data_dir . '/postmaster.pid') =~ /^(\d+)/;
	my @pids;
	for my $dir (glob '/proc/[0-9]*')
	{
		my $status = eval { slurp_file("$dir/status") } // next;
		next unless $status =~ /^PPid:\s+$postmaster$/m;
		my $cmd = eval { slurp_file("$dir/cmdline") } // next;
		push @pids, ($dir =~ m{(\d+)$})[0] if $cmd =~ /\Q$title\E/;
	}
	return @pids;
}

# A process's anonymous resident memory in kB (RssAnon), undef when gone.
sub rss_anon_kb
{
	my ($pid) = @_;
	my $status = eval { slurp_file("/proc/$pid/status") } // return undef;
	return $status =~ /^RssAnon:\s+(\d+) kB/m ? $1 : undef;
}

# The RssAnon of process $pid before and after $n requests to each of
# @$paths, sent by bench/http_probe.c ($probe, 4 clients) to port $port,
# after a warm-up of a tenth of that; asserts every request was answered.
sub http_rss_growth
{
	my ($probe, $port, $pid, $n, $paths) = @_;
	my $send = sub {
		my ($count, $label) = @_;
		for my $path (@$paths)
		{
			# timeout: a server that stopped answering must not hold the test
			my $out = `timeout 60 $probe -p $port -P '$path' -c 4 -n $count`;
			Test::More::like($out, qr/requests=$count ok=$count .* errors=0/, "$label$count x $path answered")
			  or Test::More::diag($out);
		}
	};
	$send->(int($n / 10), 'warm-up: ');
	my $before = rss_anon_kb($pid);
	$send->($n, '');
	return ($before, rss_anon_kb($pid));
}


# A PgBouncer configuration in $dir: pgbouncer.ini for database postgres of
# the server on port $pgport, transaction pooling with 2 server connections a
# pool, listening on 127.0.0.1:$bport, $admin its admin, at most $max_client
# clients; userlist.txt trusting @users.
sub write_pgbouncer_config
{
	my ($dir, $pgport, $bport, $admin, $max_client, @users) = @_;
	open my $fh, '>', "$dir/pgbouncer.ini" or die $!;
	print $fh <<"EOF";
[databases]
postgres = host=127.0.0.1 port=$pgport dbname=postgres pool_size=2

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $bport
unix_socket_dir =
auth_type = trust
auth_file = $dir/userlist.txt
admin_users = $admin
pool_mode = transaction
max_client_conn = $max_client
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
EOF
	close $fh;
	open $fh, '>', "$dir/userlist.txt" or die $!;
	print $fh map { qq{"$_" ""\n} } @users;
	close $fh;
}

# The pid in $dir/pgbouncer.pid, undef while there is none.
sub pgbouncer_pid
{
	my ($dir) = @_;
	open my $fh, '<', "$dir/pgbouncer.pid" or return undef;
	my $pid = <$fh>;
	chomp $pid;
	return $pid;
}

# PgBouncer ($pgbouncer, its binary) with the configuration
# write_pgbouncer_config put in $dir, started and waited for until its
# admin console on port $port answers $user (10 s at most).  Returns its
# IPC::Run handle.
sub start_pgbouncer
{
	my ($pgbouncer, $dir, $bindir, $port, $user) = @_;
	require IPC::Run;
	unlink "$dir/pgbouncer.pid";
	my $h = IPC::Run::start([ $pgbouncer, "$dir/pgbouncer.ini" ],
		'>', "$dir/pgbouncer.out", '2>', "$dir/pgbouncer.err");
	for (1 .. 100)
	{
		last if system("$bindir/pg_isready -q -h 127.0.0.1 -p $port -d pgbouncer -U $user") == 0;
		usleep(100_000);
	}
	return $h;
}

# A real Prometheus ($prometheus, its binary) in $dir scraping the pg_health
# endpoints @$targets ("host:port") as job pg_health every $scrape_s
# seconds, evaluating $rules_file when given.  Returns its IPC::Run handle
# (the caller kills it) and a function of (api path, optional form) that
# returns the HTTP API's decoded answer (or {status, error}).
sub start_prometheus
{
	my ($prometheus, $dir, $scrape_s, $targets, $rules_file) = @_;
	require IPC::Run;
	require HTTP::Tiny;
	require JSON::PP;
	my $rules = defined $rules_file ? "rule_files:\n  - $rules_file\n" : '';
	open my $fh, '>', "$dir/prometheus.yml" or die $!;
	print $fh <<"EOF";
global:
  scrape_interval: ${scrape_s}s
  scrape_timeout: ${scrape_s}s
  evaluation_interval: ${scrape_s}s
${rules}scrape_configs:
  - job_name: pg_health
    static_configs:
      - targets: [@{[ join ', ', map { "'$_'" } @$targets ]}]
EOF
	close $fh;
	my $port = PostgreSQL::Test::Cluster::get_free_port();
	my $h = IPC::Run::start(
		[ $prometheus, "--config.file=$dir/prometheus.yml", "--storage.tsdb.path=$dir/data",
		  "--web.listen-address=127.0.0.1:$port" ],
		'>', "$dir/prometheus.out", '2>', "$dir/prometheus.err");
	my $ua = HTTP::Tiny->new(timeout => 10);
	my $api = sub {
		my ($path, $form) = @_;
		my $url = "http://127.0.0.1:$port/api/v1/$path";
		my $r = $form ? $ua->post_form($url, $form) : $ua->get($url);
		my $doc = eval { JSON::PP::decode_json($r->{content}) };
		return $doc // { status => "HTTP $r->{status}", error => $r->{content} };
	};
	return ($h, $api);
}

1;
