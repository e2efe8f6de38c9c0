# The documentation against the code: docs/settings.md lists every
# pg_health.* setting a preloaded server defines, with its default and
# context (reload or restart) as pg_settings reports them, and every relative
# link in README.md and docs/*.md resolves (scripts/check-links).
use strict;
use warnings;
use File::Basename qw(dirname);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $root = dirname(__FILE__) . '/../..';
my $doc = "$root/docs/settings.md";

# Units as pg_settings and a person write them: the dimension and the factor
# to its base unit (ms, bytes).
my %unit = (
	ms => [ 'time', 1 ], s => [ 'time', 1000 ], min => [ 'time', 60_000 ],
	h => [ 'time', 3_600_000 ], d => [ 'time', 86_400_000 ],
	B => [ 'memory', 1 ], kB => [ 'memory', 1024 ], MB => [ 'memory', 1024**2 ],
	GB => [ 'memory', 1024**3 ], TB => [ 'memory', 1024**4 ]);
my %base = (time => 'ms', memory => 'bytes');

# pg_settings.unit ('ms', 's', 'kB', '8kB', ...) as [dimension, factor].
sub guc_unit
{
	my ($u) = @_;
	return [ '', 1 ] if !defined $u || $u eq '';
	my ($n, $name) = $u =~ /^(\d*)(\w+)$/ or die "unknown unit $u";
	my $d = $unit{$name} or die "unknown unit $u";
	return [ $d->[0], ($n eq '' ? 1 : $n) * $d->[1] ];
}

# pg_settings.context as the documentation says it.
my %context = (sighup => 'reload', postmaster => 'restart');

# The server's view of one setting, in the form the comparison uses:
# "default X; context Y", numbers in their dimension's base unit.
sub server_row
{
	my ($s) = @_;
	my $ctx = $context{ $s->{context} } // $s->{context};
	my $val = $s->{boot_val};
	if ($s->{vartype} eq 'integer' || $s->{vartype} eq 'real')
	{
		my $u = guc_unit($s->{unit});
		$val = ($val + 0) * $u->[1];
		$val .= " $base{$u->[0]}" if $u->[0];
	}
	else
	{
		$val = "'$val'";
	}
	return "default $val; context $ctx";
}

# The documentation's row of the same setting in that form, or a sentence
# saying why its default cannot be read.
sub doc_row
{
	my ($d, $s) = @_;
	my $val = $d->{default};
	$val =~ s/^`(.*)`$/$1/;
	if ($s->{vartype} eq 'integer' || $s->{vartype} eq 'real')
	{
		my $u = guc_unit($s->{unit});
		my ($num, $name) = $val =~ /^(-?\d+(?:\.\d+)?(?:e\d+)?)\s*([A-Za-z]*)$/
		  or return "default $d->{default} is not a number with an optional unit";
		my $factor;
		if ($name eq '')
		{
			# a bare number is in the setting's own unit, as PostgreSQL reads
			# it; a person should not have to know which, except for 0 and -1
			return "default $d->{default}: write its unit (the setting is in $s->{unit})"
			  if $u->[0] && $num != 0 && $num != -1;
			$factor = $u->[1];
		}
		else
		{
			my $du = $unit{$name};
			return "default $d->{default}: unknown unit $name" unless $du;
			return "default $d->{default}: a $du->[0] unit for a setting "
			  . ($u->[0] ? "in $s->{unit}" : 'without a unit')
			  if $du->[0] ne $u->[0];
			$factor = $du->[1];
		}
		$val = $num * $factor;
		$val .= " $base{$u->[0]}" if $u->[0];
	}
	else
	{
		$val =~ s/^'(.*)'$/$1/;
		$val = "'$val'";
	}
	return "default $val; context $d->{context}";
}

# The rows of the settings table: | `pg_health.x` | default | context | meaning |
open my $fh, '<', $doc or die "$doc: $!";
my (%doc, @dups);
while (my $line = <$fh>)
{
	next unless $line =~ /^\|\s*`(pg_health\.[a-z0-9_]+)`\s*\|([^|]*)\|([^|]*)\|/;
	my ($name, $default, $context) = ($1, $2, $3);
	s/^\s+|\s+$//g for $default, $context;
	push @dups, $name if $doc{$name};
	$doc{$name} = { default => $default, context => $context, line => $. };
}
close $fh;
ok(scalar(keys %doc) > 0, 'docs/settings.md has a table of settings');
is(join(', ', @dups), '', 'no setting has two rows in docs/settings.md');

my $node = PostgreSQL::Test::Cluster->new('docs');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'pg_health'\n");
$node->start;

my %server;
for my $r (split /\n/, $node->safe_psql('postgres', q{
	SELECT name, vartype, boot_val, coalesce(unit, ''), context
	FROM pg_settings WHERE name LIKE 'pg_health.%' ORDER BY name}))
{
	my ($name, $vartype, $boot_val, $unit, $context) = split /\|/, $r, -1;
	$server{$name} = { vartype => $vartype, boot_val => $boot_val, unit => $unit, context => $context };
}
ok(scalar(keys %server) > 0, 'a preloaded server defines pg_health.* settings');

# One line per setting on either side, in one diff: "-" for the
# documentation, "+" for the server.
my @diff;
for my $name (sort keys %{ { %doc, %server } })
{
	my ($d, $s) = ($doc{$name}, $server{$name});
	if (!$s)
	{
		push @diff, "- $name: documented (docs/settings.md line $d->{line}), but the server has no such setting";
		next;
	}
	my $want = server_row($s);
	if (!$d)
	{
		push @diff, "+ $name: $want; not in docs/settings.md";
		next;
	}
	my $got = doc_row($d, $s);
	next if $got eq $want;
	push @diff, "- $name: $got (docs/settings.md line $d->{line}: $d->{default})",
	  "+ $name: $want (pg_settings: boot_val $s->{boot_val}"
	  . ($s->{unit} ne '' ? ", unit $s->{unit}" : '') . ", context $s->{context})";
}
ok(!@diff, 'docs/settings.md matches pg_settings: every setting, its default and context')
  or diag("docs/settings.md (-) against the server's pg_settings (+):\n" . join("\n", @diff));

# Every relative link and anchor in README.md and docs/*.md resolves.
my $out = `$^X $root/scripts/check-links 2>&1`;
is($?, 0, 'scripts/check-links: every relative link in README.md and docs/ resolves')
  or diag($out);

# The package's metadata: PGXN's META.json parses, names the PostgreSQL
# licence that LICENSE holds, and carries the control file's version.
{
	require JSON::PP;
	my $meta = eval { JSON::PP::decode_json(slurp_file("$root/META.json")) };
	ok($meta, 'META.json is JSON') or diag($@);
	my ($default) = slurp_file("$root/pg_health.control") =~ /^default_version\s*=\s*'([^']+)'/m;
	is($meta->{version}, "$default.0", "META.json's version is the control file's ($default)");
	is($meta->{provides}{pg_health}{version}, "$default.0", '... and so is the extension it provides');
	is($meta->{license}, 'postgresql', 'META.json: the PostgreSQL licence');
	like(slurp_file("$root/LICENSE"), qr/Permission to use, copy, modify, and distribute this software/,
		'LICENSE holds it');
	ok(-f "$root/$meta->{provides}{pg_health}{file}", 'the file META.json names exists');
}

$node->stop;
done_testing();
