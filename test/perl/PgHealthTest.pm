# Helpers shared by pg_health's TAP tests.
package PgHealthTest;
use strict;
use warnings;
use Exporter 'import';
our @EXPORT = qw(fill_slots);

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

1;
