# The Prometheus alerting rules (docs/prometheus/pg_health.rules.yml, issue
# 30) against Prometheus's own tools and against the real metrics:
#  - promtool check rules and promtool test rules (the unit tests beside the
#    rules) pass; every alert has a firing and a silent case there; every
#    alert has a severity, a summary, a description and a runbook_url; the
#    checks PgHealthCheckCritical leaves out are exactly those with an alert
#    of their own;
#  - docs/alerts.md has a section for each alert that links where its
#    runbook_url points (and scripts/check-links resolves it); its two
#    loading recipes work: the prometheus.yml block passes promtool check
#    config with the rules, the PrometheusRule's spec is the rules file;
#    docs/grafana.md and the dashboard point at docs/alerts.md;
#  - a real primary and a streaming standby, both in a cluster
#    (pg_health.cluster_members) with a member that does not answer, a
#    real PgBouncer polled by the primary with a client queueing, a
#    component reporting its own pool with a client waiting, and a custom
#    check that fails on the primary: every metric name and every check
#    name the rules use is in their GET /metrics, with samples (the one
#    exception, filesystem_full_in_seconds, is listed below with its
#    reason), and promtool check metrics accepts both answers;
#  - a real Prometheus (Debian's) loads the rules, scrapes both every second
#    and evaluates every rule without an error; the alerts that state calls
#    for are pending and the ones a healthy server must not raise are not.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use JSON::PP;
use HTTP::Tiny;
use Cwd qw(abs_path);
use Time::HiRes qw(time usleep);
use File::Basename qw(dirname);
use PgHealthTest;

my $root = abs_path(dirname(__FILE__) . '/../..');
my $rules_file = "$root/docs/prometheus/pg_health.rules.yml";
my $tests_file = "$root/docs/prometheus/pg_health.rules.test.yml";

# the tools: a machine without them fails this test, it does not skip it
sub on_path
{
	my ($prog) = @_;
	my ($found) = grep { -x "$_/$prog" } split /:/, $ENV{PATH} // '';
	return $found ? "$found/$prog" : undef;
}
my $promtool = on_path('promtool')
  or die 'promtool is not on PATH (scripts/lib.sh installs it: apt-get install prometheus)';
my ($prometheus) = grep { -x $_ } ('/usr/bin/prometheus');
die 'prometheus is not installed (scripts/lib.sh installs it: apt-get install prometheus)'
  unless $prometheus;
my ($pgbouncer) = grep { -x $_ } ('/usr/sbin/pgbouncer', '/usr/bin/pgbouncer');
die 'pgbouncer is not installed (scripts/lib.sh installs it: apt-get install pgbouncer)'
  unless $pgbouncer;
my $slow = $PostgreSQL::Test::Utils::timeout_default / 180;
$slow = 1 if $slow < 1;
my $scrape_s = ($ENV{PH_INSTRUMENTED} // '') eq 'valgrind' ? 5 : 1;

sub run_out
{
	my (@cmd) = @_;
	my $out = '';
	my $ok = IPC::Run::run(\@cmd, '<', \undef, '>&', \$out);
	return ($ok, $out);
}

# ------------------------------------------------------------------------
# promtool on the rules and their unit tests
# ------------------------------------------------------------------------
my ($ok, $out) = run_out($promtool, 'check', 'rules', $rules_file);
ok($ok, 'promtool check rules docs/prometheus/pg_health.rules.yml') or diag($out);
my ($nrules) = $out =~ /SUCCESS: (\d+) rules found/;
($ok, $out) = run_out($promtool, 'test', 'rules', $tests_file);
ok($ok, 'promtool test rules docs/prometheus/pg_health.rules.test.yml') or diag($out);
like($out, qr/SUCCESS/, '... SUCCESS');
note("promtool: " . (run_out($promtool, '--version'))[1] =~ s/\n.*//sr);

# The rules file, read as its layout writes it: "- alert: Name", then its
# keys; every expression on one line.
my $rules_text = slurp_file($rules_file);
my (@alerts, %alert);
my $cur;
for my $line (split /\n/, $rules_text)
{
	next if $line =~ /^\s*#/;
	if ($line =~ /^\s+- alert: (\w+)\s*$/)
	{
		$cur = { name => $1, annotations => {} };
		push @alerts, $cur;
		$alert{$1} = $cur;
		next;
	}
	next unless $cur;
	if ($line =~ /^\s+expr: (.+?)\s*$/) { $cur->{expr} = $1; }
	elsif ($line =~ /^\s+for: (\S+)/) { $cur->{for} = $1; }
	elsif ($line =~ /^\s+severity: (\S+)/) { $cur->{severity} = $1; }
	elsif ($line =~ /^\s+(summary|description|runbook_url): ?(.*)$/) { $cur->{annotations}{$1} = $2; }
}
is(scalar @alerts, 21, '21 alerts in the rules file');
is($nrules, scalar @alerts, '... as many as promtool found');
is(join(', ', map { $_->{name} } grep { !$_->{expr} } @alerts), '', 'every alert has an expression');
is(join(', ', map { $_->{name} } grep { ($_->{severity} // '') !~ /^(critical|warning)$/ } @alerts), '',
	'every alert has severity critical or warning');
is(join(', ', map { $_->{name} } grep { !defined $_->{for} } @alerts), '', 'every alert has a "for"');
for my $a (qw(summary description runbook_url))
{
	is(join(', ', map { $_->{name} } grep { !defined $_->{annotations}{$a} } @alerts), '',
		"every alert has a $a annotation");
}
is(join(', ', map { $_->{name} } grep { $_->{name} !~ /^PgHealth[A-Z]\w+$/ } @alerts), '',
	'every alert is named PgHealth...');

# every alert fires somewhere and stays silent somewhere in the unit tests
my $tests_text = slurp_file($tests_file);
my (%fires, %silent);
while ($tests_text =~ /^\s+alertname: (\w+)\n\s+exp_alerts:(.*)$/mg)
{
	my ($name, $rest) = ($1, $2);
	if ($rest =~ /^\s*\[\]\s*$/) { $silent{$name}++; }
	else { $fires{$name}++; }
}
is(join(', ', grep { !$fires{$_} } map { $_->{name} } @alerts), '', 'every alert has a firing case in the unit tests');
is(join(', ', grep { !$silent{$_} } map { $_->{name} } @alerts), '', 'every alert has a silent case in the unit tests');
is(join(', ', grep { !$alert{$_} } sort(keys %fires, keys %silent)), '', 'the unit tests name only alerts of the file');

# PgHealthCheckCritical leaves out exactly the checks with a critical alert
# of their own: on their check_status, or (the sampler, the cluster) on the
# figure their critical is made of
my ($excluded) = ($alert{PgHealthCheckCritical}{expr} // '') =~ /check!~"([^"]+)"/;
my %excluded = map { $_ => 1 } split /\|/, $excluded // '';
my %own;
for my $a (@alerts)
{
	next if $a->{name} =~ /^PgHealthCheck(Critical|Warning)$/;
	$own{$1} = $a->{name} while $a->{expr} =~ /pg_health_check_status\{check="([^"]+)"\} == 2/g;
}
for my $f ([ sampler => PgHealthNotLive => qr/^pg_health_live == 0$/ ],
	[ cluster => PgHealthClusterNoPrimary => qr/^pg_health_cluster_primaries == 0\b/ ],
	[ cluster => PgHealthClusterSplitBrain => qr/^pg_health_cluster_primaries > 1\b/ ])
{
	my ($c, $name, $re) = @$f;
	like($alert{$name}{expr} // '', $re, "the check $c has its critical alert $name on its figure");
	$own{$c} //= $name;
}
is(join(' ', sort keys %excluded), join(' ', sort keys %own),
	'PgHealthCheckCritical leaves out exactly the checks with a critical alert of their own');
is(join(', ', map { "$_ ($alert{$own{$_}}{severity})" } grep { ($alert{ $own{$_} }{severity} // '') ne 'critical' } sort keys %own), '',
	'... each of those alerts is critical');

# ------------------------------------------------------------------------
# docs/alerts.md: a section for each alert, linking where its runbook_url
# points; its loading recipes work
# ------------------------------------------------------------------------
my $page = slurp_file("$root/docs/alerts.md");
my %section;
my ($runbooks) = $page =~ /^## At 3 a\.m\.\n(.*?)(?=^## |\z)/ms;
ok($runbooks, 'docs/alerts.md has its "At 3 a.m." part');
while (($runbooks // '') =~ /^### (\w+)\n(.*?)(?=^#{1,3} |\z)/msg)
{
	$section{$1} = $2;
}
for my $a (@alerts)
{
	my $url = $a->{annotations}{runbook_url} // '';
	my ($target) = $url =~ m{^docs/(\S+)$};
	ok($section{ $a->{name} }, "docs/alerts.md has a section for $a->{name}");
	ok($target && ($section{ $a->{name} } // '') =~ /\]\(\Q$target\E\)/,
		"... which links to its runbook_url ($url)");
	like($page, qr/^\| \[`\Q$a->{name}\E`\]\(#\L$a->{name}\E\) \| $a->{severity} \| $a->{for} \|/m,
		"... and its row in the table: severity $a->{severity}, for $a->{for}");
}
is(join(', ', grep { !$alert{$_} } sort keys %section), '', 'docs/alerts.md documents only alerts of the file');
($ok, $out) = run_out('perl', "$root/scripts/check-links", "$root/docs/alerts.md");
ok($ok, 'every link of docs/alerts.md resolves (scripts/check-links)') or diag($out);

# its fenced blocks that 027_doc_blocks.pl leaves to this test
my @blocks;
while ($page =~ /<!-- doc-test: covered by test\/t\/041_alerts\.pl -->\n```(\w+)\n(.*?)^```$/msg)
{
	push @blocks, [ $1, $2 ];
}
is(join(' ', map { $_->[0] } @blocks), 'yaml sh', 'docs/alerts.md: the prometheus.yml and PrometheusRule recipes');
my $tmp = PostgreSQL::Test::Utils::tempdir();
{
	# prometheus.yml: promtool check config checks the rules it names too
	my $conf = $blocks[0][1];
	ok($conf =~ s{^  - /etc/prometheus/rules/pg_health\.rules\.yml$}{  - $rules_file}m,
		'... prometheus.yml names pg_health.rules.yml in rule_files');
	open my $fh, '>', "$tmp/prometheus.yml" or die $!;
	print $fh $conf;
	close $fh;
	($ok, $out) = run_out($promtool, 'check', 'config', "$tmp/prometheus.yml");
	ok($ok, '... promtool check config accepts it, with the rules') or diag($out);
	like($out, qr/SUCCESS: \d+ rules found/, '... and checked the rules') or diag($out);

	# the PrometheusRule, as the recipe writes it (kubectl left out)
	my $sh = $blocks[1][1];
	my @kubectl = grep { /^kubectl / } split /\n/, $sh;
	is(scalar @kubectl, 1, '... the PrometheusRule recipe ends with kubectl apply');
	$sh = join("\n", grep { !/^kubectl / } split /\n/, $sh) . "\n";
	$sh =~ s{docs/prometheus/pg_health\.rules\.yml}{$rules_file}g;
	($ok, $out) = run_out('bash', '-euo', 'pipefail', '-c', "cd '$tmp' && $sh");
	ok($ok, '... its recipe runs') or diag($out);
	my $cr = -f "$tmp/pg_health.prometheusrule.yaml" ? slurp_file("$tmp/pg_health.prometheusrule.yaml") : '';
	like($cr, qr/\AapiVersion: monitoring\.coreos\.com\/v1\nkind: PrometheusRule\nmetadata:\n  name: pg-health\n/,
		'... a PrometheusRule of monitoring.coreos.com/v1');
	my ($spec) = $cr =~ /^spec:\n(.*)\z/ms;
	$spec //= '';
	$spec =~ s/^  //mg;
	my $bare = join('', grep { !/^#/ } split /^/, $rules_text);
	is($spec, $bare, '... whose spec is the rules file (comments aside)');
	open $fh, '>', "$tmp/spec.yml" or die $!;
	print $fh $spec;
	close $fh;
	($ok, $out) = run_out($promtool, 'check', 'rules', "$tmp/spec.yml");
	ok($ok, '... which promtool check rules accepts') or diag($out);
}

# the Grafana side points at the alerts
like(slurp_file("$root/docs/grafana.md"), qr/\]\(alerts\.md(#[^)]*)?\)/, 'docs/grafana.md links docs/alerts.md');
my $dash = JSON::PP->new->decode(slurp_file("$root/docs/grafana/pg_health.json"));
ok(scalar(grep { ($_->{url} // '') =~ /alerts\.md/ } @{ $dash->{links} // [] }),
	'the Grafana dashboard has a link to docs/alerts.md');

# ------------------------------------------------------------------------
# Real servers in the state the rules are about
# ------------------------------------------------------------------------
my $pport = PostgreSQL::Test::Cluster::get_free_port();
my $sport = PostgreSQL::Test::Cluster::get_free_port();
my $gport = PostgreSQL::Test::Cluster::get_free_port();    # a member nobody serves
my $members = "p=127.0.0.1:$pport,s=127.0.0.1:$sport,gone=127.0.0.1:$gport";
my $primary = PostgreSQL::Test::Cluster->new('alerts_primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_health'
pg_health.sample_interval = 100ms
pg_health.pooler_interval = 200ms
pg_health.http_port = $pport
pg_health.cluster_name = 'p'
pg_health.cluster_members = '$members'
pg_health.cluster_interval = 200ms
pg_health.cluster_timeout = 300ms
listen_addresses = '127.0.0.1'
});
$primary->start;
$primary->safe_psql('postgres', 'CREATE EXTENSION pg_health');
my $su = $primary->safe_psql('postgres', 'SELECT pg_catalog.current_user()');
my $bindir = $primary->config_data('--bindir');
my $standby = streaming_standby($primary, 'alerts_standby',
	"pg_health.http_port = $sport\npg_health.cluster_name = 's'\n");

# a custom check that fails where it runs on a primary (critical there)
$primary->safe_psql('postgres', q{
	SELECT health.register_check('gate', 'SELECT pg_catalog.pg_is_in_recovery()',
		severity => 'critical', run_interval => '100ms');
});
# a component whose own pool has a client waiting (a warning)
$primary->safe_psql('postgres', q{
	SELECT health.configure_component('api', ttl => '1h');
	SELECT health.set_component_state('api', 'ready');
	SELECT health.report_pool('api', 2, 3, 1, 10, '250ms');
});

# PgBouncer in front of the primary (2 server connections a pool), polled
# by pg_health, with both connections held and a third client queueing
my $dir = PostgreSQL::Test::Utils::tempdir();
my $bport = PostgreSQL::Test::Cluster::get_free_port();
write_pgbouncer_config($dir, $primary->port, $bport, $su, 50, $su);
my ($bouncer, $prom, @clients);
sub bouncer_pid { return pgbouncer_pid($dir); }
END
{
	$_->kill_kill for @clients;
	$prom->kill_kill if $prom;
	kill 'KILL', bouncer_pid() if $bouncer && bouncer_pid();
}
$bouncer = start_pgbouncer($pgbouncer, $dir, $bindir, $bport, $su);
ok(bouncer_pid(), 'PgBouncer is running');
$primary->safe_psql('postgres',
	"SELECT health.configure_pooler('edge', 'host=127.0.0.1 port=$bport dbname=pgbouncer user=$su')");
ok($primary->poll_query_until('postgres', q{SELECT pg_catalog.bool_and(state = 'answering') FROM health.poolers WHERE name = 'edge'}),
	'pg_health polls PgBouncer "edge"');
for my $i (1 .. 3)
{
	my $sql = $i <= 2 ? 'SELECT pg_catalog.pg_sleep(600)' : 'SELECT 1';
	push @clients, IPC::Run::start(
		[ "$bindir/psql", '-X', '-h', '127.0.0.1', '-p', $bport, '-U', $su, '-d', 'postgres', '-c', $sql ],
		'>', "$dir/client$i.out", '2>', "$dir/client$i.err");
	# the two sleepers first, so that the third is the one that waits
	$primary->poll_query_until('postgres',
		"SELECT pg_catalog.count(*) = $i FROM pg_catalog.pg_stat_activity WHERE query = 'SELECT pg_catalog.pg_sleep(600)'")
	  or die "client $i did not start" if $i <= 2;
}
ok($primary->poll_query_until('postgres',
	q{SELECT pg_catalog.sum(cl_waiting) >= 1 FROM health.pooler_pools WHERE pooler = 'edge'}),
	'a client queues at PgBouncer "edge"');
ok($primary->poll_query_until('postgres', q{SELECT status = 'critical' FROM health.checks WHERE name = 'custom:gate'}),
	'the custom check gate is critical on the primary');
ok($standby->poll_query_until('postgres', q{SELECT status = 'ok' FROM health.checks WHERE name = 'custom:gate'}),
	'... and ok on the standby');

# ------------------------------------------------------------------------
# Every metric and check the rules name is in the real GET /metrics
# ------------------------------------------------------------------------
# families that exist only in a state the servers above are not in, each
# with the reason; they must still be declared (HELP and TYPE)
my %declared_only = (
	pg_health_filesystem_full_in_seconds =>
	  'a filesystem has a "full in" only while it grows over the history span; an idle test server\'s does not',
);
my %used;
{
	my $bare = join('', grep { !/^\s*#/ } split /^/, $rules_text);
	$used{$1}++ while $bare =~ /\b(pg_health_[a-z_]+)/g;
}
cmp_ok(scalar(keys %used), '>=', 20, sprintf('the rules name %d pg_health metrics', scalar keys %used));
my %checks_used = (%excluded, %own);
$checks_used{$1}++ while $rules_text =~ /check="([^"]+)"/g;

my %server = (primary => $pport, standby => $sport);
my (%family, %sampled, %check_seen, %body);
my $deadline = time + 30 * $slow;
while (1)
{
	(%family, %sampled, %check_seen) = ();
	for my $name (sort keys %server)
	{
		my ($status, undef, $body) = http_get($server{$name}, '/metrics');
		next unless $status == 200;
		$body{$name} = $body;
		$family{$1}{$name} = 1 while $body =~ /^# TYPE (pg_health_[a-z_]+) (?:gauge|counter)$/mg;
		$sampled{$1}{$name} = 1 while $body =~ /^(pg_health_[a-z_]+)[{ ]/mg;
		$check_seen{$1}{$name} = 1 while $body =~ /^pg_health_check_status\{check="([^"]+)"\}/mg;
	}
	last if !grep({ !$sampled{$_} && !$declared_only{$_} } keys %used) || time > $deadline;
	usleep(200_000);
}
for my $m (sort keys %used)
{
	ok($family{$m}, "$m is a family of /metrics (declared on " . join(' and ', sort keys %{ $family{$m} // {} }) . ')');
	if ($declared_only{$m})
	{
		note("$m: not required to have samples: $declared_only{$m}");
		next;
	}
	ok($sampled{$m}, '... with samples (on ' . join(' and ', sort keys %{ $sampled{$m} // {} }) . ')');
}
for my $c (sort keys %checks_used)
{
	ok($check_seen{$c}, "the check $c the rules name is in pg_health_check_status");
}
like($body{standby} // '', qr/^pg_health_in_recovery 1$/m, 'the standby says it is one');
for my $name (sort keys %server)
{
	my ($pout, $perr) = ('', '');
	my $ran = IPC::Run::run([ $promtool, 'check', 'metrics' ], '<', \($body{$name} // ''), '>', \$pout, '2>', \$perr);
	ok($ran, "promtool check metrics accepts the ${name}'s /metrics") or diag("$pout$perr");
}

# ------------------------------------------------------------------------
# A real Prometheus evaluates the rules against both servers
# ------------------------------------------------------------------------
my @targets = map { "127.0.0.1:$server{$_}" } sort keys %server;
my $api;
($prom, $api) = start_prometheus($prometheus, $dir, $scrape_s, \@targets, $rules_file);

# both targets up, every rule evaluated at least twice
my (@rules, @unevaluated, $up);
$deadline = time + (30 + 8 * $scrape_s) * $slow;
while (1)
{
	my $t = $api->('targets');
	$up = grep { $_->{health} eq 'up' } @{ $t->{data}{activeTargets} // [] };
	my $r = $api->('rules');
	@rules = map { @{ $_->{rules} // [] } } @{ $r->{data}{groups} // [] };
	@unevaluated = grep { ($_->{health} // '') ne 'ok' } @rules;
	last if ($up == 2 && @rules && !@unevaluated) || time > $deadline;
	usleep(250_000);
}
is($up, 2, 'Prometheus scrapes the primary and the standby') or diag(slurp_file("$dir/prometheus.err"));
is(scalar @rules, scalar @alerts, "Prometheus loaded the $nrules rules");
is(join('; ', map { "$_->{name}: $_->{health} $_->{lastError}" } grep { ($_->{health} // '') ne 'ok' } @rules), '',
	'... and evaluates every one without an error');
my $upq = $api->('query', { query => 'up{job="pg_health"}' });
is(join(' ', sort map { "$_->{metric}{instance}=$_->{value}[1]" } @{ $upq->{data}{result} // [] }),
	join(' ', map { "$_=1" } @targets), q{PgHealthEndpointDown's up{job="pg_health"} selects both servers, up});

# the alerts this state calls for, pending (their "for" has not passed)
my $P = "127.0.0.1:$pport";
my $S = "127.0.0.1:$sport";
my @want = (
	[ 'PgHealthNotReady', { instance => $P } ],
	[ 'PgHealthCheckCritical', { instance => $P, check => 'custom:gate' } ],
	[ 'PgHealthCheckCritical', { instance => $P, check => 'pooler:edge' } ],
	[ 'PgHealthCheckWarning', { instance => $P, check => 'component:api' } ],
	[ 'PgHealthCheckWarning', { instance => $P, check => 'cluster' } ],
	[ 'PgHealthCheckWarning', { instance => $S, check => 'cluster' } ],
	[ 'PgHealthPoolerClientsWaiting', { instance => $P, pooler => 'edge', database => 'postgres', state => 'waiting' } ],
	[ 'PgHealthComponentPoolClientsWaiting', { instance => $P, component => 'api', state => 'waiting' } ],
	[ 'PgHealthClusterMembersUnreachable', { instance => $P, state => 'unreachable' } ],
	[ 'PgHealthClusterMembersUnreachable', { instance => $S, state => 'unreachable' } ],
);
# and those this state must not raise, on either server
my @never = qw(PgHealthEndpointDown PgHealthNotLive PgHealthSampleStale PgHealthNotAccepting
  PgHealthCommitsHanging PgHealthDiskCritical PgHealthArchivingFailing PgHealthWraparound
  PgHealthReplayStuck PgHealthReplicationDelay PgHealthReplicationLagBytes
  PgHealthClusterNoPrimary PgHealthClusterSplitBrain);
my @active;
my $matches = sub {
	my ($name, $labels) = @_;
	return grep {
		my $a = $_;
		$a->{labels}{alertname} eq $name && !grep { ($a->{labels}{$_} // '') ne $labels->{$_} } keys %$labels
	} @active;
};
$deadline = time + 30 * $slow;
while (1)
{
	my $r = $api->('alerts');
	@active = @{ $r->{data}{alerts} // [] };
	last if !grep({ !$matches->(@$_) } @want) || time > $deadline;
	usleep(250_000);
}
for my $w (@want)
{
	my ($name, $labels) = @$w;
	my ($a) = $matches->($name, $labels);
	ok($a, "$name is " . ($a ? $a->{state} : 'not active') . ' for '
		  . join(',', map { "$_=$labels->{$_}" } sort keys %$labels));
	like($a->{annotations}{summary} // '', qr/\S/, '... with its summary: ' . ($a->{annotations}{summary} // ''));
	unlike($a->{annotations}{description} // '', qr/<no value>|\?|\{\{/, '... and a description with every figure filled in')
	  or diag($a->{annotations}{description});
}
my %never = map { $_ => 1 } @never;
is(join(', ', map { "$_->{labels}{alertname} on $_->{labels}{instance}" } grep { $never{ $_->{labels}{alertname} } } @active), '',
	'none of the alerts a healthy server must not raise is active: ' . join(', ', @never));
note('active: ' . join(', ', map {
	my $l = $_->{labels};
	"$l->{alertname}\{" . join(',', map { "$_=$l->{$_}" } grep { $_ ne 'alertname' } sort keys %$l) . "} $_->{state}"
} @active));

# The NotReady description names the critical checks from the live data
my ($nr) = $matches->('PgHealthNotReady', { instance => $P });
like($nr->{annotations}{description} // '', qr/^Status not_ready; critical checks: .*custom:gate/,
	"PgHealthNotReady's description: the status and the critical checks, from Prometheus's own data");

$_->kill_kill for @clients;
@clients = ();
$prom->kill_kill;
$prom = undef;
kill 'TERM', bouncer_pid();
$bouncer->finish;
$bouncer = undef;
$standby->stop;
$primary->stop;
done_testing();
