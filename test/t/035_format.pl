# The house's formatter (issue 27): every C source and header under src/ is
# as scripts/indent leaves it -- PostgreSQL's own indenter, pg_bsd_indent
# 2.1.2, with pgindent's options and the type names of src/typedefs.list,
# and our own includes sorted.  The formatter is shown to catch a file that
# is not formatted, so a check that cannot fail would fail here.
#
# pg_bsd_indent 2.1.2 ships with the server headers of PostgreSQL 16 to 18
# (pg_config --bindir); Debian bookworm's PostgreSQL 15 has only the
# pg-bsd-indent package's 2.1.1, which indents continuation lines
# differently, and 19 has 2.1.3.  So this runs in the suite's PostgreSQL 17
# and 18 runs (and any 16), and says so where it does not.
use strict;
use warnings;
use File::Basename qw(dirname);
use File::Temp qw(tempdir);
use Test::More;

my $root = dirname(__FILE__) . '/../..';
my $tool = "$root/scripts/indent";

my $indenter = `PH_INDENT_PROBE=1 $^X $tool`;
chomp $indenter;
plan skip_all => 'no pg_bsd_indent 2.1.2 here (PostgreSQL ' . `pg_config --version` =~ s/\s+$//r
  . ' ships none): the formatting is checked in the PostgreSQL 16+ runs of this suite'
  unless $indenter;
# PostgreSQL 19 ships pg_bsd_indent 2.1.3 (its pgindent's INDENT_VERSION),
# which spaces designated initializers and "..." otherwise than 2.1.2 does:
# the house's format is 2.1.2's, checked in the 17 and 18 runs.
my ($indenter_version) = `$indenter --version 2>&1` =~ /pg_bsd_indent (\d+\.\d+\.\d+)/;
plan skip_all => "pg_bsd_indent $indenter_version here, not 2.1.2: the formatting is checked in the "
  . 'PostgreSQL 17 and 18 runs of this suite'
  if defined $indenter_version && $indenter_version ne '2.1.2';
ok(-x $indenter, "pg_bsd_indent 2.1.2: $indenter");
my $out = `cd $root && $^X $tool --check 2>&1`;
is($?, 0, 'every source under src/ is formatted (perl scripts/indent --check)') or diag($out);
like($out, qr/indent: \d+ files, all formatted/, '... and it read them') or diag($out);

# A copy of the tree with one file misformatted (its tabs turned into
# spaces, two includes swapped): the check fails and names it.
my $tmp = tempdir(CLEANUP => 1);
system('cp', '-a', "$root/src", "$root/scripts", $tmp) == 0 or die 'cp failed';
my $victim = "$tmp/src/ground/clock.c";
open my $in, '<', $victim or die $!;
my $text = do { local $/; <$in> };
close $in;
$text =~ s/^\t/    /mg;
open my $o, '>', $victim or die $!;
print $o $text;
close $o;
$out = `cd $tmp && $^X scripts/indent --check 2>&1`;
isnt($?, 0, 'a file indented with spaces fails the check');
like($out, qr{indent: src/ground/clock\.c is not formatted}, '... naming it') or diag($out);

done_testing();
