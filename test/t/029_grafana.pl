# The Grafana dashboard (docs/grafana/pg_health.json) against the real
# metrics:
#  - the dashboard itself: Grafana's model (schemaVersion, the datasource and
#    instance variables), unique panel ids, a layout without overlaps, every
#    query on ${datasource} and filtered by $instance, and a panel for each
#    topic it promises (verdict timeline, checks, slots, pools, sessions,
#    replication, poolers, components);
#  - its page, docs/grafana.md, names each of its rows, variables and
#    families;
#  - a server state in which every family it queries has series: a primary
#    and a streaming standby (through a slot), an inactive slot, Debian's
#    PgBouncer in front of the primary polled through health.configure_pooler
#    and carrying a light write load, a component reporting its own pool with
#    a client waiting, an idle session, and one idle in transaction holding a
#    lock that another session waits for;
#  - every metric name a query or a variable uses is a family of GET /metrics
#    of the primary or the standby, with samples;
#  - a real Prometheus (Debian's) scrapes both every second, and every
#    panel's query, with Grafana's variables filled in as Grafana fills them,
#    answers with at least one series, instant and over a range; the instance
#    variable's query lists both servers.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use JSON::PP;
use HTTP::Tiny;
use Time::HiRes qw(time usleep);
use File::Basename qw(dirname);
use PgHealthTest;

my $root = dirname(__FILE__) . '/../..';
my ($prometheus) = grep { -x $_ } ('/usr/bin/prometheus');
die 'prometheus is not installed (scripts/lib.sh installs it: apt-get install prometheus)'
  unless $prometheus;
my ($pgbouncer) = grep { -x $_ } ('/usr/sbin/pgbouncer', '/usr/bin/pgbouncer');
die 'pgbouncer is not installed (scripts/lib.sh installs it: apt-get install pgbouncer)'
  unless $pgbouncer;
# the waits below, longer where the suite runs the servers slowly (valgrind:
# PG_TEST_TIMEOUT_DEFAULT=900); there, Prometheus scrapes every 5 s instead
# of every second, so that a slow answer is not a failed scrape
my $slow = $PostgreSQL::Test::Utils::timeout_default / 180;
$slow = 1 if $slow < 1;
my $scrape_s = ($ENV{PH_INSTRUMENTED} // '') eq 'valgrind' ? 5 : 1;

# ------------------------------------------------------------------------
# The dashboard, as Grafana reads it
# ------------------------------------------------------------------------
my $dash = JSON::PP->new->decode(slurp_file("$root/docs/grafana/pg_health.json"));
cmp_ok($dash->{schemaVersion} // 0, '>=', 36, "schemaVersion $dash->{schemaVersion} (Grafana 10/11)");
is($dash->{uid}, 'pg-health', 'a fixed uid, so that a re-import replaces the dashboard');

my %var = map { $_->{name} => $_ } @{ $dash->{templating}{list} // [] };
is($var{datasource} && "$var{datasource}{type} $var{datasource}{query}", 'datasource prometheus',
	'a datasource variable of Prometheus data sources');
my $var_query = sub { my $q = $_[0]{query}; ref $q ? $q->{query} : $q };
my ($instance_metric) = ($var{instance} ? $var_query->($var{instance}) : '')
  =~ /^label_values\((pg_health_[a-z_]+), instance\)$/;
ok($instance_metric, 'an instance variable from label_values(<a pg_health family>, instance)');
is($var{instance} && $var{instance}{datasource}{uid}, '${datasource}', '... queried on ${datasource}');
ok($var{instance} && $var{instance}{multi} && $var{instance}{includeAll}, '... multi-valued, with All');

# every panel, rows' collapsed panels included
my @panels;
for my $p (@{ $dash->{panels} })
{
	push @panels, $p;
	push @panels, @{ $p->{panels} // [] };
}
my @rows = grep { $_->{type} eq 'row' } @panels;
my @viz = grep { $_->{type} ne 'row' } @panels;
is(scalar(grep { !defined $_->{id} || $_->{id} !~ /^[1-9]\d*$/ } @panels), 0, 'every panel has a positive integer id');
my %ids;
$ids{ $_->{id} // '' }++ for @panels;
is(join(',', grep { $ids{$_} > 1 } sort keys %ids), '', '... no two the same');
is($dash->{panels}[0]{type}, 'row', 'the dashboard starts with a row');
is(join(',', map { $_->{title} } @rows),
	'Verdict,Checks,Connection slots,Sessions and pools,Replication,Poolers,Components',
	'its rows, in order');

# the layout: inside 24 columns, no two panels on the same cells
my @bad_grid = grep {
	my $g = $_->{gridPos} // {};
	!(defined $g->{x} && defined $g->{y} && $g->{w} && $g->{h}) || $g->{x} + $g->{w} > 24
} @panels;
is(join(', ', map { $_->{title} } @bad_grid), '', 'every panel has a gridPos inside 24 columns');
my @overlaps;
for my $i (0 .. $#{ $dash->{panels} })
{
	for my $j ($i + 1 .. $#{ $dash->{panels} })
	{
		my ($g, $h) = map { $_->{gridPos} } @{ $dash->{panels} }[ $i, $j ];
		push @overlaps, "$dash->{panels}[$i]{title} / $dash->{panels}[$j]{title}"
		  if $g->{x} < $h->{x} + $h->{w} && $h->{x} < $g->{x} + $g->{w}
		  && $g->{y} < $h->{y} + $h->{h} && $h->{y} < $g->{y} + $g->{h};
	}
}
is(join('; ', @overlaps), '', 'no two panels overlap');
my @order = map { sprintf '%05d%02d', $_->{gridPos}{y}, $_->{gridPos}{x} } @{ $dash->{panels} };
is(join(',', @order), join(',', sort @order), 'panels are listed in reading order (by y, then x)');

# the queries: every target on ${datasource}, every pg_health selector filtered by $instance
my (@queries, @unfiltered, @bad_ds);
for my $p (@viz)
{
	push @bad_ds, "$p->{title}" unless ($p->{datasource}{uid} // '') eq '${datasource}';
	ok(@{ $p->{targets} // [] } > 0, "panel \"$p->{title}\" has queries");
	my %refs;
	for my $t (@{ $p->{targets} // [] })
	{
		push @bad_ds, "$p->{title} $t->{refId}" unless ($t->{datasource}{uid} // '') eq '${datasource}';
		$refs{ $t->{refId} // '' }++;
		push @queries, { panel => $p->{title}, type => $p->{type}, ref => $t->{refId},
			expr => $t->{expr} // '', instant => $t->{instant} ? 1 : 0 };
		my $e = $t->{expr} // '';
		while ($e =~ /(pg_health_[a-z_]+)(\{[^}]*\})?/g)
		{
			push @unfiltered, "$p->{title} $t->{refId} $1"
			  unless ($2 // '') =~ /\binstance=~"\$instance"/;
		}
	}
	is(join(',', grep { $_ eq '' || $refs{$_} > 1 } sort keys %refs), '',
		"... each with its own refId");
}
is(join(', ', @bad_ds), '', 'every panel and query uses the ${datasource} variable');
is(join(', ', @unfiltered), '', 'every pg_health selector is filtered by instance=~"$instance"');

# the metric names the dashboard uses
my %used;
for my $q (@queries, { expr => $var_query->($var{instance} // {}) })
{
	$used{$1}++ while $q->{expr} =~ /\b(pg_health_[a-z_]+)/g;
}
cmp_ok(scalar(keys %used), '>=', 40, sprintf('the dashboard queries %d metric families', scalar keys %used));

# a panel for each topic: its title and the family it shows
my @topics = (
	[ 'verdict timeline', qr/verdict/i, qr/pg_health_status\b/, 'state-timeline' ],
	[ 'live, started, ready', qr/ready/i, qr/pg_health_ready\b/, 'state-timeline' ],
	[ 'checks by status', qr/check/i, qr/pg_health_check_status\b/, 'state-timeline' ],
	[ 'check values in seconds', qr/check value/i, qr/pg_health_check_value_seconds\b/ ],
	[ 'check values in bytes', qr/check value/i, qr/pg_health_check_value_bytes\b/ ],
	[ 'check values as ratios', qr/check value/i, qr/pg_health_check_value_ratio\b/ ],
	[ 'check values as counts', qr/check value/i, qr/pg_health_check_value\{/ ],
	[ 'connection slots', qr/slot/i, qr/pg_health_connection_slots\b/ ],
	[ 'slot utilization', qr/slot/i, qr/pg_health_connection_utilization_ratio\b/ ],
	[ 'top pools by sessions', qr/pool/i, qr/topk\(\d+, pg_health_pool_sessions\b/ ],
	[ 'sessions waiting', qr/waiting/i, qr/pg_health_sessions_waiting_on_locks\b/ ],
	[ 'lock waits by mode', qr/lock/i, qr/pg_health_lock_waits\b/ ],
	[ 'sessions by state', qr/sessions/i, qr/pg_health_sessions\{/ ],
	[ 'sessions by database and state', qr/database/i, qr/pg_health_database_sessions\b/ ],
	[ "a standby's lag", qr/lag/i, qr/pg_health_replication_lag_bytes\b/ ],
	[ "the standbys' lag", qr/lag/i, qr/pg_health_standby_replay_lag_seconds\b/ ],
	[ 'standbys', qr/standby/i, qr/pg_health_standbys\b/ ],
	[ 'slots retained bytes', qr/slot/i, qr/pg_health_slot_retained_bytes\b/ ],
	[ 'slot active', qr/slot/i, qr/pg_health_slot_active\b/ ],
	[ 'poolers: clients waiting', qr/pooler/i, qr/pg_health_pooler_clients\{[^}]*state="waiting"/ ],
	[ 'poolers: longest wait', qr/pooler/i, qr/pg_health_pooler_max_wait_seconds\b/ ],
	[ 'poolers: reachability', qr/pooler/i, qr/pg_health_pooler_up\b/ ],
	[ 'components: status', qr/component/i, qr/pg_health_component_status\b/ ],
	[ 'components: pool in_use/idle/waiting', qr/component/i, qr/pg_health_component_pool_connections\b/ ],
);
for my $topic (@topics)
{
	my ($what, $title, $expr, $type) = @$topic;
	my @hits = grep { $_->{panel} =~ $title && $_->{expr} =~ $expr && (!$type || $_->{type} eq $type) } @queries;
	ok(@hits, "a panel for $what" . ($type ? " ($type)" : '')) or diag("none titled $title querying $expr");
}

# its page, docs/grafana.md, says what it shows
my $page = slurp_file("$root/docs/grafana.md");
is(join(', ', grep { $page !~ /^\| \Q$_\E \|/m } map { $_->{title} } @rows), '',
	'docs/grafana.md has a line for each row of the dashboard');
is(join(', ', grep { $page !~ /`\$\Q$_\E`/ } sort keys %var), '',
	'... names each variable');
is(join(', ', grep { my $short = s/^pg_health_//r; $page !~ /`\Q$short\E`/ } sort keys %used), '',
	'... and each family the dashboard queries');

# ------------------------------------------------------------------------
# A server state in which every family has series
# ------------------------------------------------------------------------
my $pport = PostgreSQL::Test::Cluster::get_free_port();
my $sport = PostgreSQL::Test::Cluster::get_free_port();
my $primary = PostgreSQL::Test::Cluster->new('grafana_primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_health'
pg_health.sample_interval = 100ms
pg_health.pooler_interval = 200ms
pg_health.http_port = $pport
listen_addresses = '127.0.0.1'
});
$primary->start;
$primary->safe_psql('postgres', q{
	CREATE EXTENSION pg_health;
	SELECT pg_create_physical_replication_slot('standby_slot');
	SELECT pg_create_physical_replication_slot('idle_slot', true);
	CREATE TABLE load (at timestamptz);
});
my $su = $primary->safe_psql('postgres', 'SELECT current_user');
my $bindir = $primary->config_data('--bindir');
my $standby = streaming_standby($primary, 'grafana_standby',
	"pg_health.http_port = $sport\nprimary_slot_name = 'standby_slot'\n");
is($primary->safe_psql('postgres', q{SELECT string_agg(slot_name || ' ' || active, ',' ORDER BY slot_name) FROM pg_replication_slots}),
	'idle_slot false,standby_slot true', 'the standby streams through its slot; the other slot is inactive');

# PgBouncer in front of the primary, polled by pg_health
my $dir = PostgreSQL::Test::Utils::tempdir();
my $bport = PostgreSQL::Test::Cluster::get_free_port();
write_pgbouncer_config($dir, $primary->port, $bport, $su, 50, $su);

my ($bouncer, $load, $prom, $blocked);
sub bouncer_pid { return pgbouncer_pid($dir); }
# whatever happens to the test, what it started does not outlive it
END
{
	$load->kill_kill if $load;
	$prom->kill_kill if $prom;
	$blocked->kill_kill if $blocked;
	kill 'KILL', bouncer_pid() if $bouncer && bouncer_pid();
}
$bouncer = start_pgbouncer($pgbouncer, $dir, $bindir, $bport, $su);
ok(bouncer_pid(), 'PgBouncer is running');
$primary->safe_psql('postgres',
	"SELECT health.configure_pooler('edge', 'host=127.0.0.1 port=$bport dbname=pgbouncer user=$su')");
ok($primary->poll_query_until('postgres', q{SELECT state = 'answering' FROM health.poolers WHERE name = 'edge'}),
	'pg_health polls PgBouncer "edge"');

# a light write load through PgBouncer: clients and servers at the pooler,
# active sessions, and WAL that keeps the standby's replay lag measured
open my $fh, '>', "$dir/load.sql" or die $!;
print $fh "INSERT INTO load VALUES (now());\n";
close $fh;
$load = IPC::Run::start(
	[ "$bindir/pgbench", '-n', '-h', '127.0.0.1', '-p', $bport, '-U', $su, '-c', '2', '-R', '20',
	  '-T', '600', '-f', "$dir/load.sql", 'postgres' ],
	'>', "$dir/pgbench.out", '2>', "$dir/pgbench.err");

# a component with its own pool: one client waiting (a warning: a check not ok)
$primary->safe_psql('postgres', q{
	SELECT health.configure_component('api', ttl => '1h');
	SELECT health.set_component_state('api', 'ready');
	SELECT health.report_pool('api', 2, 3, 1, 10, '250ms');
});
ok($primary->poll_query_until('postgres', q{SELECT status = 'warning' FROM health.checks WHERE name = 'component:api'}),
	'component api reports its pool, a client waiting: a warning');

# sessions: one idle; one idle in transaction, holding a lock that another
# waits for (AccessShareLock)
my $idle = $primary->background_psql('postgres');
$idle->query_safe('SELECT 1');
$primary->safe_psql('postgres', 'CREATE TABLE locked (i int)');
my $in_xact = $primary->background_psql('postgres');
$in_xact->query_safe('BEGIN; LOCK TABLE locked IN ACCESS EXCLUSIVE MODE; SELECT txid_current()');
$blocked = IPC::Run::start(
	[ "$bindir/psql", '-X', '-h', $primary->host, '-p', $primary->port, '-d', 'postgres',
	  '-c', 'SELECT count(*) FROM locked' ],
	'>', "$dir/blocked.out", '2>', "$dir/blocked.err");
ok($primary->poll_query_until('postgres',
	q{SELECT count(*) = 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%FROM locked'}),
	'a session waits for the lock');
$primary->safe_psql('postgres', 'SELECT health.refresh()');

# ------------------------------------------------------------------------
# Every name the dashboard uses is a family of GET /metrics, with samples
# ------------------------------------------------------------------------
my %server = (primary => $pport, standby => $sport);
my (%family, %sampled);
my $deadline = time + 30 * $slow;
while (1)
{
	(%family, %sampled) = ();
	for my $name (sort keys %server)
	{
		my ($status, undef, $body) = http_get($server{$name}, '/metrics');
		next unless $status == 200;
		$family{$1}{$name} = 1 while $body =~ /^# TYPE (pg_health_[a-z_]+) (?:gauge|counter)$/mg;
		$sampled{$1}{$name} = 1 while $body =~ /^(pg_health_[a-z_]+)[{ ]/mg;
	}
	last if !grep({ !$sampled{$_} } keys %used) || time > $deadline;
	usleep(200_000);
}
for my $m (sort keys %used)
{
	ok($family{$m}, "$m is a family of /metrics (declared on " . join(' and ', sort keys %{ $family{$m} // {} }) . ')');
	ok($sampled{$m}, '... with samples');
}
my @unused = grep { !$used{$_} } sort keys %family;
note('families the dashboard does not show: ' . (join(', ', @unused) || 'none'));

# ------------------------------------------------------------------------
# A real Prometheus: every panel's query answers with series
# ------------------------------------------------------------------------
my @targets = map { "127.0.0.1:$server{$_}" } sort keys %server;
my $api;
($prom, $api) = start_prometheus($prometheus, $dir, $scrape_s, \@targets);

# both targets up, and a few scrapes of each stored
my ($up, $scrapes) = (0, 0);
$deadline = time + (20 + 8 * $scrape_s) * $slow;
while (time < $deadline)
{
	my $t = $api->('targets');
	$up = grep { $_->{health} eq 'up' } @{ $t->{data}{activeTargets} // [] };
	my $q = $api->('query', { query => 'min(count_over_time(pg_health_samples_total[1m]))' });
	$scrapes = $q->{data}{result}[0]{value}[1] // 0;
	last if $up == 2 && $scrapes >= 8;
	usleep(250_000);
}
is($up, 2, 'Prometheus scrapes the primary and the standby') or diag(slurp_file("$dir/prometheus.err"));
cmp_ok($scrapes, '>=', 8, "... $scrapes scrapes of each stored");

# the instance variable's query, as Grafana runs it
my $values = $api->('label/instance/values?match%5B%5D=' . $instance_metric);
is(join(' ', sort @{ $values->{data} // [] }), join(' ', sort @targets),
	"the instance variable (label_values($instance_metric, instance)) lists both servers");

# Grafana's variables as Grafana fills them: All selected, each value escaped
# for a regular expression inside a PromQL string (as its Prometheus data
# source does: \\ before each of $^*{}[]'+?.()|)
my $all = '(' . join('|', map { (my $v = $_) =~ s/([\$^*{}\[\]'+?.()|])/\\\\$1/g; $v } @targets) . ')';
sub grafana_expr
{
	my ($e) = @_;
	$e =~ s/\$\{?instance\}?/$all/g;
	$e =~ s/\$\{?__rate_interval\}?/30s/g;
	$e =~ s/\$\{?__interval\}?/5s/g;
	$e =~ s/\$\{?__range\}?/1m/g;
	return $e;
}
for my $q (@queries)
{
	my $expr = grafana_expr($q->{expr});
	my $what = "\"$q->{panel}\" $q->{ref}";
	unlike($expr, qr/\$/, "$what: no variable left unfilled");
	# a query whose series are not there yet: the state above makes them, so
	# wait for a scrape that has them, up to 30 s
	my ($r, $range);
	my $until = time + 30 * $slow;
	while (1)
	{
		$r = $api->('query', { query => $expr });
		if (!$q->{instant})
		{
			my $now = time;
			$range = $api->('query_range', { query => $expr, start => $now - 20, end => $now, step => 2 });
		}
		last if ($r->{status} // '') ne 'success';
		my $has = grep { $_->{value}[1] ne 'NaN' } @{ $r->{data}{result} // [] };
		last if $has && ($q->{instant} || @{ $range->{data}{result} // [] });
		last if time > $until;
		usleep(500_000);
	}
	is($r->{status}, 'success', "$what: Prometheus accepts the query") or diag("$expr\n$r->{error}");
	my @result = @{ $r->{data}{result} // [] };
	ok(scalar(grep { $_->{value}[1] ne 'NaN' } @result), "... instant: " . scalar(@result) . ' series, with a value')
	  or diag($expr);
	if (!$q->{instant})
	{
		is($range->{status}, 'success', '... over a range: accepted') or diag($range->{error});
		ok(scalar @{ $range->{data}{result} // [] }, '... with series');
	}
}

# the verdict timeline says what the servers say, through its own value
# mappings: the primary degraded (the component's waiting client)
my ($vpanel) = grep { $_->{title} eq 'Verdict timeline' } @viz;
my %code_of = map {
	my $opts = $_->{options};
	map { $opts->{$_}{text} => $_ } keys %$opts
} @{ $vpanel->{fieldConfig}{defaults}{mappings} // [] };
is(join(' ', map { $code_of{$_} // '?' } qw(ready degraded not_ready starting unknown)), '0 1 2 3 4',
	'the verdict timeline maps each overall status to a value of its own');
my $codes = $api->('query', { query => grafana_expr($vpanel->{targets}[0]{expr}) });
my %code = map { $_->{metric}{instance} => $_->{value}[1] } @{ $codes->{data}{result} // [] };
my %report = map {
	$_ => ($_ eq 'primary' ? $primary : $standby)->safe_psql('postgres', q{SELECT health.report()->>'status'})
} keys %server;
is($report{primary}, 'degraded', 'the primary is degraded (a warning: the waiting client)');
for my $name (sort keys %server)
{
	is($code{"127.0.0.1:$server{$name}"}, $code_of{ $report{$name} },
		"the verdict timeline shows the $name $report{$name}, as health.report() says");
}

$in_xact->quit;
$blocked->finish;
$blocked = undef;
$idle->quit;
$load->kill_kill;
$load = undef;
$prom->kill_kill;
$prom = undef;
kill 'TERM', bouncer_pid();
$bouncer->finish;
$bouncer = undef;
$standby->stop;
$primary->stop;
done_testing();
