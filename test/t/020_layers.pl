# The house's rule on the objects this suite's build made: every call from
# one source file to another goes downward or within its layer, and no files
# call each other in a loop (scripts/check-layers, docs/design.md, "The
# house").  The checker is shown to catch both faults on made-up edges, so
# a check that cannot fail would fail here.
use strict;
use warnings;
use File::Basename qw(dirname);
use File::Temp qw(tempfile);
use Test::More;

my $root = dirname(__FILE__) . '/../..';
my $tool = "$root/scripts/check-layers";

my @objs = glob("$root/src/*.o");
ok(scalar(@objs) >= 20, 'the build left its objects in src/ (' . scalar(@objs) . ')');

my $out = `$^X $tool $root/src 2>&1`;
is($?, 0, 'check-layers: every call downward or within a layer, no loop') or diag($out);
like($out, qr/\d+ file-to-file dependencies/, 'it read the dependencies') or diag($out);

sub edges
{
	my ($text) = @_;
	my ($fh, $name) = tempfile(UNLINK => 1);
	print $fh $text;
	close $fh;
	my $o = `$^X $tool --edges $name 2>&1`;
	return ($? >> 8, $o);
}

my ($rc, $o) = edges("sampler shmem ph_publish\nsql read ph_read_view\n");
is($rc, 0, 'made-up edges that go down pass') or diag($o);

($rc, $o) = edges("shmem sql ph_something\n");
is($rc, 1, 'a call up from ground into the doors fails');
like($o, qr/shmem \(ground\) calls up into sql \(doors\): ph_something/, 'and names it');

($rc, $o) = edges("sampler names a\nnames checker b\nchecker sampler c\n");
is($rc, 1, 'a loop within a layer fails');
like($o, qr/loop: (\w+) -> .* -> \1/, 'and shows the loop');

($rc, $o) = edges("newfile shmem x\n");
is($rc, 0, 'edges alone do not place files') or diag($o);

done_testing();
