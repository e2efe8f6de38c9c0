# The house's rule on the objects this suite's build made: every call from
# one source file to another goes downward or within its layer, and no files
# call each other in a loop (scripts/check-layers, docs/design.md, "The
# house").  A file's layer is its folder under src/, and a file outside the
# layers' folders fails.  The checker is shown to catch each fault, on
# made-up edges and on real objects (a stray one, one calling up), so a
# check that cannot fail would fail here; and the build itself runs it.
use strict;
use warnings;
use File::Basename qw(dirname);
use File::Temp qw(tempfile);

sub slurp { my ($f) = @_; open my $fh, '<', $f or die "$f: $!"; local $/; return <$fh>; }
use Test::More;

my $root = dirname(__FILE__) . '/../..';
my $tool = "$root/scripts/check-layers";

my @objs = (glob("$root/src/*.o"), glob("$root/src/*/*.o"), glob("$root/src/*/*/*.o"));
ok(scalar(@objs) >= 20, 'the build left its objects in the layers\' folders (' . scalar(@objs) . ')');
for my $layer (qw(ground judge collect read doors))
{
	ok(scalar(grep { m{/src/\Q$layer\E/} } @objs) >= 1, "objects in src/$layer");
}
like(slurp("$root/Makefile"), qr{^layers-checked: \$\(OBJS\)\n\tperl \$\(srcdir\)/scripts/check-layers src$}m,
	'every build runs check-layers on its objects');

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

my ($rc, $o) = edges("collect/sampler ground/shmem ph_publish\ndoors/sql/sql_verdicts read/read ph_read_view\n");
is($rc, 0, 'made-up edges that go down pass') or diag($o);

($rc, $o) = edges("ground/shmem doors/sql/sql_verdicts ph_something\n");
is($rc, 1, 'a call up from ground into the doors fails');
like($o, qr{ground/shmem \(ground\) calls up into doors/sql/sql_verdicts \(doors\): ph_something}, 'and names it');

($rc, $o) = edges("collect/sampler collect/names a\ncollect/names collect/custom_checks b\ncollect/custom_checks collect/sampler c\n");
is($rc, 1, 'a loop within a layer fails');
like($o, qr{loop: (\S+) -> .* -> \1}, 'and shows the loop');

($rc, $o) = edges("stray ground/shmem x\n");
is($rc, 1, 'a file outside the layers\' folders fails');
like($o, qr{src/stray\.c is in no layer}, 'and names it');

# On real objects: a copy of the build's objects, with one more that calls
# up (a ground file using a door's function), then with a stray one.
my $cc = `which cc`;
SKIP:
{
	skip 'no C compiler', 4 unless $cc;
	my $tmp = File::Temp::tempdir(CLEANUP => 1);
	system('cp', '-a', "$root/src", "$tmp/src") == 0 or die 'cp failed';
	open my $c, '>', "$tmp/up.c" or die $!;
	print $c "extern void ph_read_view(void); void ph_test_up(void); void ph_test_up(void) { ph_read_view(); }\n";
	close $c;
	system('cc', '-c', '-o', "$tmp/src/ground/up.o", "$tmp/up.c") == 0 or die 'cc failed';
	my $out2 = `$^X $tool $tmp/src 2>&1`;
	isnt($?, 0, 'a real object in src/ground that calls into src/read fails the check');
	like($out2, qr{ground/up \(ground\) calls up into read/read \(read\): ph_read_view}, '... naming the call');
	unlink "$tmp/src/ground/up.o";
	system('cc', '-c', '-o', "$tmp/src/stray.o", "$tmp/up.c") == 0 or die 'cc failed';
	$out2 = `$^X $tool $tmp/src 2>&1`;
	isnt($?, 0, 'a real object outside the layers\' folders fails the check');
	like($out2, qr{src/stray\.c is in no layer}, '... naming it');
}

done_testing();
