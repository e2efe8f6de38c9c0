# What pg_health's workers wait for is named in pg_stat_activity (issue
# 27): on PostgreSQL 17 and later the names worker waits as
# "PgHealthNamesPass" and the checker as "PgHealthCheckerNextCheck"
# (wait_event_type "Extension"), a restarted names worker gets its name
# back, and the waits of the workers that have no pg_stat_activity row
# (the sampler, the pooler worker: no database connection) are registered
# all the same (pg_wait_events).  On 15 and 16 every such wait shows as
# "Extension".
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('wait_events');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_health'
pg_health.sample_interval = 100ms
pg_health.database = 'postgres'
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION pg_health');
my $named = $node->pg_version >= 17;

# Polled: a worker is now and then busy between two waits.
sub waits_as
{
	my ($type, $event) = @_;
	return $node->poll_query_until('postgres', qq{
		SELECT bool_and(wait_event_type = 'Extension' AND wait_event = '$event')
		FROM pg_stat_activity WHERE backend_type = 'pg_health $type'});
}

my %event = $named
  ? (names => 'PgHealthNamesPass', checker => 'PgHealthCheckerNextCheck')
  : (names => 'Extension', checker => 'Extension');
for my $type ('names', 'checker')
{
	ok(waits_as($type, $event{$type}),
		"the $type worker waits as \"$event{$type}\" (wait_event_type Extension)");
}

# The workers without a database connection have no row to show it in.
is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_stat_activity
	WHERE backend_type IN ('pg_health sampler', 'pg_health poller', 'pg_health disk')}),
	'0', 'the sampler, the pooler worker and the disk worker have no pg_stat_activity row');

SKIP:
{
	skip 'named wait events of extensions came with PostgreSQL 17', 2 unless $named;
	# the pooler worker waits for its next round at once, with no pooler;
	# the disk worker after its first pass
	ok($node->poll_query_until('postgres', q{
		SELECT count(*) = 3 FROM pg_wait_events WHERE type = 'Extension'
		AND name IN ('PgHealthSamplerNextSample', 'PgHealthPollerNextRound', 'PgHealthDiskNextPass')}),
		'the sampler\'s, the pooler worker\'s and the disk worker\'s waits are registered by name');

	# a new names worker finds its name (the same event) again
	my $old = $node->safe_psql('postgres',
		q{SELECT pid FROM pg_stat_activity WHERE backend_type = 'pg_health names'});
	$node->safe_psql('postgres', "SELECT pg_terminate_backend($old)");
	ok($node->poll_query_until('postgres', qq{
		SELECT bool_and(pid <> $old AND wait_event = 'PgHealthNamesPass')
		FROM pg_stat_activity WHERE backend_type = 'pg_health names'}),
		'a restarted names worker waits as "PgHealthNamesPass" again');
}

done_testing();
