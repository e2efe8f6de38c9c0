# Extension upgrade: 1.0 still installs and works with the new library; an
# ALTER EXTENSION UPDATE from 1.0 ends with exactly what a fresh CREATE
# EXTENSION makes, object by object.
#
# Database "upgraded": CREATE EXTENSION pg_health VERSION '1.0', used (a
# component configured, a custom check registered and run, every function and
# view called) with the new library loaded, then ALTER EXTENSION UPDATE.
# Database "fresh": CREATE EXTENSION pg_health.  Then every member of the
# extension (pg_depend, deptype 'e') is described the same way in both and
# the descriptions are compared: identity; for functions the signature with
# defaults, result, kind, language, volatility, strictness, parallel safety,
# security definer, leakproof, cost/rows, proconfig, prosrc (the C symbol)
# and probin; for tables, views, sequences and composite types their columns
# (position, type, not-null, default, identity, generated, collation, ACL,
# comment), constraints (pg_get_constraintdef), indexes, triggers, rules,
# policies, view definitions (pg_get_viewdef); for types and domains their
# definition; owners, ACLs (NULL read as the default it means), pg_init_privs
# (what pg_dump treats as the extension's own privileges), comments; objects
# in the schema that are not members; and pg_extension_config_dump's
# extconfig/extcondition, by relation name.  A mismatch prints each
# differing fact with both values.
#
# Database "from11": CREATE EXTENSION pg_health VERSION '1.1' (released),
# used, then updated to 1.2 the same way, and compared the same way.
#
# Today there are only update scripts, so a fresh 1.2 IS 1.0 + the updates
# and this cannot differ; it guards the day a full pg_health--1.2.sql (or
# later) is added beside the update scripts.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('upgrade');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_health'
pg_health.sample_interval = 100ms
pg_health.database = 'upgraded'
});
$node->start;
$node->safe_psql('postgres', q{
	CREATE DATABASE upgraded;
	CREATE DATABASE from11;
	CREATE DATABASE fresh;
	CREATE ROLE app_reporter;
});

sub q1 { my ($db, $sql) = @_; return $node->safe_psql($db, $sql); }

my $default_version = q1('postgres',
	q{SELECT default_version FROM pg_available_extensions WHERE name = 'pg_health'});
is($default_version, '1.2', "the control file's default_version is 1.2");
is(q1('postgres', q{SELECT string_agg(version, ',' ORDER BY version) FROM pg_available_extension_versions
                     WHERE name = 'pg_health' AND version IN ('1.0', '1.1', '1.2')}),
	'1.0,1.1,1.2', 'versions 1.0, 1.1 and 1.2 are available');
is(q1('postgres', qq{SELECT path FROM pg_extension_update_paths('pg_health')
                      WHERE source = '1.1' AND target = '$default_version'}),
	"1.1--$default_version", "an update path from 1.1 to $default_version");
is(q1('postgres', qq{SELECT path FROM pg_extension_update_paths('pg_health')
                      WHERE source = '1.0' AND target = '$default_version'}),
	"1.0--1.1--$default_version", "an update path from 1.0 to $default_version, through 1.1");

# 1.0 installs with the new library.  CREATE FUNCTION ... LANGUAGE C looks
# up its symbol in the library (check_function_bodies is on), so this alone
# proves that every pg_health_*_1_0 entry point the 1.0 script names is
# still exported.
my ($ret, $out, $err) = $node->psql('upgraded', q{CREATE EXTENSION pg_health VERSION '1.0'});
is($ret, 0, "CREATE EXTENSION pg_health VERSION '1.0' with the new library") or diag($err);
is(q1('upgraded', q{SELECT extversion FROM pg_extension WHERE extname = 'pg_health'}), '1.0',
	'... and the installed version is 1.0');
is(q1('upgraded', q{SELECT count(*) FROM pg_proc p JOIN pg_depend d ON d.classid = 'pg_proc'::regclass
                     AND d.objid = p.oid AND d.deptype = 'e'
                    JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'pg_health'
                    WHERE p.prolang = (SELECT oid FROM pg_language WHERE lanname = 'c')
                      AND p.prosrc !~ '_1_0$'}),
	'0', 'every C function of 1.0 names a versioned entry point (pg_health_*_1_0)');

# The 1.0 SQL works with the new library, before the update.
is(q1('upgraded', 'SELECT health.refresh()'), 't', '1.0: health.refresh() gets a sample');
ok($node->poll_query_until('upgraded', 'SELECT health.ready()'), '1.0: health.ready() is true');
like(q1('upgraded', q{SELECT health.live(), health.started(), health.ready('primary'),
                              health.report() ->> 'status', health.report('primary') ->> 'role'}),
	qr/^t\|t\|t\|(ready|degraded)\|primary$/, '1.0: live(), started(), ready(role), report() ->> status and role');
is(q1('upgraded', q{SELECT count(*) > 0 AND bool_and(status IN ('ok', 'warning', 'critical', 'unknown'))
                     FROM health.checks(NULL, NULL, NULL)}),
	't', '1.0: health.checks() returns rows');
q1('upgraded', q{
	CREATE TABLE public.gate (closed boolean);
	SELECT health.configure_component('api', reporter => 'app_reporter', ttl => '1h');
	SELECT health.set_component_state('api', 'ready', 'set through the 1.0 SQL');
	SELECT health.heartbeat('api');
	SELECT health.register_check('v10_gate', 'SELECT count(*) = 0 FROM public.gate', run_interval => '100ms');
});
ok($node->poll_query_until('upgraded', q{SELECT health.refresh() AND status = 'ok'
                                         FROM health.checks WHERE name = 'custom:v10_gate'}),
	'1.0: a custom check registered through 1.0 is run by the new checker');
is(q1('upgraded', q{SELECT state || ' ' || status || ' ' || detail FROM health.components WHERE name = 'api'}),
	'ready ok set through the 1.0 SQL', '1.0: a component reported through 1.0');
# every view of 1.0, in full
for my $view (split /\n/, q1('upgraded', q{SELECT c.oid::regclass FROM pg_class c
                                            WHERE c.relnamespace = 'health'::regnamespace AND c.relkind = 'v'
                                            ORDER BY 1::text}))
{
	($ret, $out, $err) = $node->psql('upgraded', "SELECT count(*) FROM $view");
	is($ret, 0, "1.0: SELECT FROM $view") or diag($err);
}
ok(q1('upgraded', q{SELECT health.drop_component('api') AND health.drop_check('v10_gate')}) eq 't',
	'1.0: drop_component() and drop_check()');
q1('upgraded', q{
	SELECT health.configure_component('api', reporter => 'app_reporter', ttl => '1h');
	SELECT health.register_check('v10_gate', 'SELECT count(*) = 0 FROM public.gate', run_interval => '100ms');
});

# The update, and a fresh install.
# 1.1, released: installed as 1.1 and used through its own declarations
($ret, $out, $err) = $node->psql('from11', q{CREATE EXTENSION pg_health VERSION '1.1'});
is($ret, 0, "CREATE EXTENSION pg_health VERSION '1.1' with the new library") or diag($err);
is(q1('from11', q{SELECT extversion FROM pg_extension WHERE extname = 'pg_health'}), '1.1',
	'... and the installed version is 1.1');
like(q1('from11', q{SELECT health.ready(for_user => 'app_reporter'), health.report(for_user => 'app_reporter') ->> 'status'}),
	qr/^[tf]\|(ready|degraded)$/, '1.1: the per-tenant ready() and report()');
for my $view (split /\n/, q1('from11', q{SELECT c.oid::regclass FROM pg_class c
                                          WHERE c.relnamespace = 'health'::regnamespace AND c.relkind = 'v'
                                          ORDER BY 1::text}))
{
	($ret, $out, $err) = $node->psql('from11', "SELECT count(*) FROM $view");
	is($ret, 0, "1.1: SELECT FROM $view") or diag($err);
}
q1('from11', q{SELECT health.configure_component('api', reporter => 'app_reporter', ttl => '1h')});
($ret, $out, $err) = $node->psql('from11', 'ALTER EXTENSION pg_health UPDATE');
is($ret, 0, 'ALTER EXTENSION pg_health UPDATE from 1.1') or diag($err);
is(q1('from11', q{SELECT extversion FROM pg_extension WHERE extname = 'pg_health'}), $default_version,
	"updated from 1.1: version $default_version");
is(q1('from11', q{SELECT string_agg(name || ' ' || reporter, ',') FROM health.component_config}),
	'api app_reporter', '... the configuration table keeps its row');

($ret, $out, $err) = $node->psql('upgraded', 'ALTER EXTENSION pg_health UPDATE');
is($ret, 0, 'ALTER EXTENSION pg_health UPDATE') or diag($err);
($ret, $out, $err) = $node->psql('fresh', 'CREATE EXTENSION pg_health');
is($ret, 0, 'CREATE EXTENSION pg_health') or diag($err);
is(q1('upgraded', q{SELECT extversion FROM pg_extension WHERE extname = 'pg_health'}), $default_version,
	"updated: version $default_version");
is(q1('fresh', q{SELECT extversion FROM pg_extension WHERE extname = 'pg_health'}), $default_version,
	"fresh: version $default_version");

# The rows of the configuration tables survive the update, and still work.
is(q1('upgraded', q{SELECT (SELECT string_agg(name || ' ' || reporter || ' ' || ttl, ',') FROM health.component_config)
                         || ' / ' || (SELECT string_agg(name || ' ' || query, ',') FROM health.custom_checks)}),
	'api app_reporter 01:00:00 / v10_gate SELECT count(*) = 0 FROM public.gate',
	'the configuration tables keep their rows');
# the gate closes and opens again: the checker runs the 1.0 check after the update
q1('upgraded', 'INSERT INTO public.gate VALUES (true)');
ok($node->poll_query_until('upgraded', q{SELECT health.refresh() AND status = 'critical'
                                         FROM health.checks WHERE name = 'custom:v10_gate'}),
	'after the update: the check registered under 1.0 still runs (it sees a row inserted after the update)');
q1('upgraded', 'DELETE FROM public.gate');
ok($node->poll_query_until('upgraded', q{SELECT health.refresh() AND status = 'ok'
                                         FROM health.checks WHERE name = 'custom:v10_gate'}),
	'... and passes again once the row is gone');
like(q1('upgraded', q{SELECT health.ready(), health.report() ->> 'status'}), qr/^t\|(ready|degraded)$/,
	'after the update: ready() and report()');

# What an installed extension is, one fact a row:
#   category, object, attribute, value   (newlines in values as \n)
# Nothing in it is an OID (they differ between the databases): objects by
# identity, types with format_type, roles by name.
my $describe = <<'SQL';
WITH ext AS (
  SELECT oid, extnamespace, extconfig, extcondition, extrelocatable
  FROM pg_extension WHERE extname = 'pg_health'),
m AS (
  SELECT d.classid, d.objid, d.objsubid,
         pg_describe_object(d.classid, d.objid, d.objsubid) AS obj,
         (pg_identify_object(d.classid, d.objid, d.objsubid)).type AS otype,
         (pg_identify_object(d.classid, d.objid, d.objsubid)).identity AS oident
  FROM pg_depend d JOIN ext ON d.refobjid = ext.oid
  WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'),
-- relations with columns: member tables, views, sequences, and the relation
-- behind a member composite type
rel AS (
  SELECT m.obj, c.oid FROM m JOIN pg_class c ON m.classid = 'pg_class'::regclass AND c.oid = m.objid
  UNION ALL
  SELECT m.obj, t.typrelid FROM m JOIN pg_type t ON m.classid = 'pg_type'::regclass AND t.oid = m.objid
  WHERE t.typtype = 'c'),
facts(category, object, attribute, value) AS (
  -- membership and identity
  SELECT 'member', m.obj, 'identity', m.otype || ' ' || m.oident FROM m
  UNION ALL
  -- comments of every member
  SELECT 'comment', m.obj, 'comment', coalesce(ds.description, '(none)')
  FROM m LEFT JOIN pg_description ds
    ON ds.classoid = m.classid AND ds.objoid = m.objid AND ds.objsubid = m.objsubid
  UNION ALL
  -- the initial privileges pg_dump attributes to the extension
  SELECT 'init privs', m.obj, 'pg_init_privs ' || ip.objsubid || ' ' || ip.privtype::text,
         (SELECT string_agg(a::text, ',' ORDER BY a::text) FROM unnest(ip.initprivs) a)
  FROM m JOIN pg_init_privs ip ON ip.classoid = m.classid AND ip.objoid = m.objid
  UNION ALL
  -- functions
  SELECT 'function', m.obj, v.k, v.v
  FROM m JOIN pg_proc p ON m.classid = 'pg_proc'::regclass AND p.oid = m.objid
  JOIN pg_language l ON l.oid = p.prolang
  CROSS JOIN LATERAL (VALUES
    ('arguments', pg_get_function_arguments(p.oid)),
    ('identity arguments', pg_get_function_identity_arguments(p.oid)),
    ('result', pg_get_function_result(p.oid)),
    ('kind', CASE p.prokind WHEN 'f' THEN 'function' WHEN 'p' THEN 'procedure'
                            WHEN 'a' THEN 'aggregate' WHEN 'w' THEN 'window' END),
    ('language', l.lanname),
    ('volatility', CASE p.provolatile WHEN 'i' THEN 'immutable' WHEN 's' THEN 'stable' ELSE 'volatile' END),
    ('strict', p.proisstrict::text),
    ('parallel', CASE p.proparallel WHEN 's' THEN 'safe' WHEN 'r' THEN 'restricted' ELSE 'unsafe' END),
    ('security definer', p.prosecdef::text),
    ('leakproof', p.proleakproof::text),
    ('returns set', p.proretset::text),
    ('cost', p.procost::text),
    ('rows', p.prorows::text),
    ('support', p.prosupport::regproc::text),
    ('proconfig', coalesce(p.proconfig::text, '(none)')),
    ('prosrc (C symbol)', p.prosrc),
    ('probin', coalesce(p.probin, '(none)')),
    ('owner', pg_get_userbyid(p.proowner)),
    ('acl', (SELECT string_agg(a::text, ',' ORDER BY a::text)
             FROM unnest(coalesce(p.proacl, acldefault('f', p.proowner))) a))) v(k, v)
  UNION ALL
  SELECT 'function', m.obj, v.k, v.v
  FROM m JOIN pg_aggregate ag ON m.classid = 'pg_proc'::regclass AND ag.aggfnoid = m.objid
  CROSS JOIN LATERAL (VALUES
    ('aggregate kind', ag.aggkind::text),
    ('transition', ag.aggtransfn::regprocedure::text),
    ('final', ag.aggfinalfn::regproc::text),
    ('combine', ag.aggcombinefn::regproc::text),
    ('state type', format_type(ag.aggtranstype, NULL)),
    ('initial value', coalesce(ag.agginitval, '(none)'))) v(k, v)
  UNION ALL
  -- relations
  SELECT 'relation', r.obj, v.k, v.v
  FROM rel r JOIN pg_class c ON c.oid = r.oid
  LEFT JOIN pg_am am ON am.oid = c.relam
  CROSS JOIN LATERAL (VALUES
    ('kind', c.relkind::text),
    ('persistence', c.relpersistence::text),
    ('access method', coalesce(am.amname, '(none)')),
    ('options', coalesce(c.reloptions::text, '(none)')),
    ('row security', c.relrowsecurity || ' force ' || c.relforcerowsecurity),
    ('replica identity', c.relreplident::text),
    ('tablespace', coalesce((SELECT spcname FROM pg_tablespace WHERE oid = c.reltablespace), '(default)')),
    ('partition key', coalesce(pg_get_partkeydef(c.oid), '(none)')),
    ('owner', pg_get_userbyid(c.relowner)),
    ('acl', (SELECT string_agg(a::text, ',' ORDER BY a::text)
             FROM unnest(coalesce(c.relacl, acldefault((CASE c.relkind WHEN 'S' THEN 's' ELSE 'r' END)::"char",
                                                        c.relowner))) a))) v(k, v)
  UNION ALL
  SELECT 'view', r.obj, 'definition', pg_get_viewdef(c.oid, true)
  FROM rel r JOIN pg_class c ON c.oid = r.oid WHERE c.relkind IN ('v', 'm')
  UNION ALL
  -- columns: logical position (dropped columns do not count), and what each is
  SELECT 'column', r.obj, 'column ' || a.attname,
         'position ' || row_number() OVER (PARTITION BY r.oid ORDER BY a.attnum)
         || ', type ' || format_type(a.atttypid, a.atttypmod)
         || CASE WHEN a.attnotnull THEN ', not null' ELSE '' END
         || coalesce(', default ' || pg_get_expr(ad.adbin, ad.adrelid), '')
         || CASE WHEN a.attidentity <> '' THEN ', identity ' || a.attidentity::text ELSE '' END
         || CASE WHEN a.attgenerated <> '' THEN ', generated ' || a.attgenerated::text ELSE '' END
         || coalesce(', collation ' || co.collname, '')
         || ', storage ' || a.attstorage::text
         || coalesce(', acl ' || (SELECT string_agg(x::text, ',' ORDER BY x::text) FROM unnest(a.attacl) x), '')
         || coalesce(', comment ' || col_description(r.oid, a.attnum), '')
  FROM rel r JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
  LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
  LEFT JOIN pg_collation co ON co.oid = a.attcollation AND a.attcollation <> 0
  UNION ALL
  SELECT 'constraint', r.obj, 'constraint ' || cn.conname,
         pg_get_constraintdef(cn.oid, true)
         || CASE WHEN cn.condeferrable THEN ' deferrable' ELSE '' END
         || CASE WHEN cn.condeferred THEN ' initially deferred' ELSE '' END
         || coalesce(', comment ' || obj_description(cn.oid, 'pg_constraint'), '')
  FROM rel r JOIN pg_constraint cn ON cn.conrelid = r.oid
  UNION ALL
  SELECT 'index', r.obj, 'index ' || i.indexrelid::regclass::text,
         pg_get_indexdef(i.indexrelid)
         || CASE WHEN i.indisclustered THEN ' clustered' ELSE '' END
         || CASE WHEN NOT i.indisvalid THEN ' INVALID' ELSE '' END
         || coalesce(', comment ' || obj_description(i.indexrelid, 'pg_class'), '')
  FROM rel r JOIN pg_index i ON i.indrelid = r.oid
  UNION ALL
  SELECT 'trigger', r.obj, 'trigger ' || t.tgname, pg_get_triggerdef(t.oid, true) || ' enabled ' || t.tgenabled::text
  FROM rel r JOIN pg_trigger t ON t.tgrelid = r.oid AND NOT t.tgisinternal
  UNION ALL
  SELECT 'rule', r.obj, 'rule ' || ru.rulename, pg_get_ruledef(ru.oid, true)
  FROM rel r JOIN pg_rewrite ru ON ru.ev_class = r.oid AND ru.rulename <> '_RETURN'
  UNION ALL
  SELECT 'policy', r.obj, 'policy ' || po.polname,
         po.polcmd::text || ' ' || CASE WHEN po.polpermissive THEN 'permissive' ELSE 'restrictive' END
         || ' to ' || (SELECT string_agg(CASE WHEN x = 0 THEN 'public' ELSE pg_get_userbyid(x) END, ',' ORDER BY 1)
                       FROM unnest(po.polroles) x)
         || coalesce(' using ' || pg_get_expr(po.polqual, po.polrelid), '')
         || coalesce(' with check ' || pg_get_expr(po.polwithcheck, po.polrelid), '')
  FROM rel r JOIN pg_policy po ON po.polrelid = r.oid
  UNION ALL
  SELECT 'relation', r.obj, 'sequence',
         format_type(s.seqtypid, NULL) || ' start ' || s.seqstart || ' increment ' || s.seqincrement
         || ' min ' || s.seqmin || ' max ' || s.seqmax || ' cache ' || s.seqcache || ' cycle ' || s.seqcycle
         || coalesce(' owned by ' || (SELECT pg_describe_object(dd.refclassid, dd.refobjid, dd.refobjsubid)
                                      FROM pg_depend dd
                                      WHERE dd.classid = 'pg_class'::regclass AND dd.objid = s.seqrelid
                                        AND dd.deptype IN ('a', 'i') AND dd.refobjsubid <> 0 LIMIT 1), '')
  FROM rel r JOIN pg_sequence s ON s.seqrelid = r.oid
  UNION ALL
  -- types and domains
  SELECT 'type', m.obj, v.k, v.v
  FROM m JOIN pg_type t ON m.classid = 'pg_type'::regclass AND t.oid = m.objid
  CROSS JOIN LATERAL (VALUES
    ('kind', t.typtype::text),
    ('category', t.typcategory::text),
    ('base type', CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) END),
    ('not null', t.typnotnull::text),
    ('default', coalesce(pg_get_expr(t.typdefaultbin, 0), t.typdefault)),
    ('enum labels', (SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder)
                     FROM pg_enum e WHERE e.enumtypid = t.oid)),
    ('range subtype', (SELECT format_type(rg.rngsubtype, NULL) FROM pg_range rg WHERE rg.rngtypid = t.oid)),
    ('domain constraints', (SELECT string_agg(cn.conname || ' ' || pg_get_constraintdef(cn.oid, true), '; '
                                              ORDER BY cn.conname)
                            FROM pg_constraint cn WHERE cn.contypid = t.oid)),
    ('owner', pg_get_userbyid(t.typowner)),
    ('acl', (SELECT string_agg(a::text, ',' ORDER BY a::text)
             FROM unnest(coalesce(t.typacl, acldefault('T', t.typowner))) a))) v(k, v)
  WHERE v.v IS NOT NULL
  UNION ALL
  -- schemas: the extension's own (CREATE EXTENSION makes it from the control
  -- file's "schema", but not as a member), and any member schema
  SELECT 'schema', 'schema ' || n.nspname, v.k, v.v
  FROM pg_namespace n
  CROSS JOIN LATERAL (VALUES
    ('owner', pg_get_userbyid(n.nspowner)),
    ('acl', (SELECT string_agg(a::text, ',' ORDER BY a::text)
             FROM unnest(coalesce(n.nspacl, acldefault('n', n.nspowner))) a)),
    ('comment', coalesce(obj_description(n.oid, 'pg_namespace'), '(none)'))) v(k, v)
  WHERE n.oid IN (SELECT extnamespace FROM ext)
     OR n.oid IN (SELECT objid FROM m WHERE m.classid = 'pg_namespace'::regclass)
  UNION ALL
  -- casts, operators, event triggers (should the extension ever have them)
  SELECT 'cast', m.obj, 'definition',
         coalesce(ca.castfunc::regprocedure::text, '(none)') || ' context ' || ca.castcontext::text
         || ' method ' || ca.castmethod::text
  FROM m JOIN pg_cast ca ON m.classid = 'pg_cast'::regclass AND ca.oid = m.objid
  UNION ALL
  SELECT 'operator', m.obj, 'definition',
         o.oprcode::regprocedure::text || ' result ' || format_type(o.oprresult, NULL)
         || ' commutator ' || o.oprcom::regoperator::text || ' negator ' || o.oprnegate::regoperator::text
         || ' restrict ' || o.oprrest::regproc::text || ' join ' || o.oprjoin::regproc::text
  FROM m JOIN pg_operator o ON m.classid = 'pg_operator'::regclass AND o.oid = m.objid
  UNION ALL
  SELECT 'event trigger', m.obj, 'definition',
         et.evtevent || ' ' || et.evtfoid::regproc::text || ' enabled ' || et.evtenabled::text
         || coalesce(' tags ' || et.evttags::text, '') || ' owner ' || pg_get_userbyid(et.evtowner)
  FROM m JOIN pg_event_trigger et ON m.classid = 'pg_event_trigger'::regclass AND et.oid = m.objid
  UNION ALL
  -- objects in the extension's schema that are not members of it
  SELECT 'not a member', pg_describe_object('pg_class'::regclass, c.oid, 0), 'in the schema', 'not a member'
  FROM pg_class c, ext
  WHERE c.relnamespace = ext.extnamespace AND c.relkind IN ('r', 'v', 'm', 'S', 'f', 'p', 'c')
    AND NOT EXISTS (SELECT FROM m WHERE m.classid = 'pg_class'::regclass AND m.objid = c.oid)
    AND NOT EXISTS (SELECT FROM pg_depend dd WHERE dd.classid = 'pg_class'::regclass AND dd.objid = c.oid
                    AND dd.deptype IN ('a', 'i'))
  UNION ALL
  SELECT 'not a member', pg_describe_object('pg_proc'::regclass, p.oid, 0), 'in the schema', 'not a member'
  FROM pg_proc p, ext
  WHERE p.pronamespace = ext.extnamespace
    AND NOT EXISTS (SELECT FROM m WHERE m.classid = 'pg_proc'::regclass AND m.objid = p.oid)
  UNION ALL
  SELECT 'not a member', pg_describe_object('pg_type'::regclass, t.oid, 0), 'in the schema', 'not a member'
  FROM pg_type t, ext
  WHERE t.typnamespace = ext.extnamespace AND t.typtype IN ('b', 'd', 'e', 'r', 'm', 'p')
    AND NOT EXISTS (SELECT FROM m WHERE m.classid = 'pg_type'::regclass AND m.objid = t.oid)
    AND NOT EXISTS (SELECT FROM pg_depend dd WHERE dd.classid = 'pg_type'::regclass AND dd.objid = t.oid
                    AND dd.deptype IN ('a', 'i'))
  UNION ALL
  -- the extension: relocatable, schema, and pg_extension_config_dump
  SELECT 'extension', 'extension pg_health', 'relocatable', ext.extrelocatable::text FROM ext
  UNION ALL
  SELECT 'extension', 'extension pg_health', 'schema', ext.extnamespace::regnamespace::text FROM ext
  UNION ALL
  SELECT 'config dump', 'extension pg_health', 'config table ' || cfg.rel::regclass::text,
         'condition ' || quote_literal(cfg.cond)
  FROM ext, unnest(ext.extconfig, ext.extcondition) AS cfg(rel, cond)
)
SELECT category || E'\x1f' || object || E'\x1f' || attribute || E'\x1f'
       || replace(coalesce(value, '(null)'), E'\n', '\n')
FROM facts
SQL

# category -> { "object / attribute" -> value }.  ACLs are a category of
# their own, whatever the object.
sub facts_of
{
	my ($db) = @_;
	my %f;
	for my $line (split /\n/, q1($db, $describe))
	{
		my ($cat, $obj, $attr, $val) = split /\x1f/, $line, 4;
		$cat = 'acl' if $attr eq 'acl';
		my $key = "$obj / $attr";
		my $k = $key;
		my $n = 1;
		$k = "$key #" . ++$n while exists $f{$cat}{$k};
		$f{$cat}{$k} = $val;
	}
	return \%f;
}

# A line diff of two multi-line values (view definitions), "-" for the
# updated extension's lines, "+" for the fresh one's.
sub line_diff
{
	my ($a, $b) = @_;
	my @a = split /\\n/, $a, -1;
	my @b = split /\\n/, $b, -1;
	my @l;	# LCS lengths
	for my $i (reverse 0 .. $#a)
	{
		for my $j (reverse 0 .. $#b)
		{
			$l[$i][$j] = $a[$i] eq $b[$j]
			  ? 1 + ($l[ $i + 1 ][ $j + 1 ] // 0)
			  : (($l[ $i + 1 ][$j] // 0) >= ($l[$i][ $j + 1 ] // 0) ? $l[ $i + 1 ][$j] // 0 : $l[$i][ $j + 1 ]);
		}
	}
	my ($i, $j, @out) = (0, 0);
	while ($i < @a || $j < @b)
	{
		if ($i < @a && $j < @b && $a[$i] eq $b[$j]) { push @out, [ ' ', $a[$i] ]; $i++; $j++; }
		elsif ($j >= @b || ($i < @a && ($l[ $i + 1 ][$j] // 0) >= ($l[$i][ $j + 1 ] // 0)))
		{
			push @out, [ '-', $a[$i] ]; $i++;
		}
		else { push @out, [ '+', $b[$j] ]; $j++; }
	}
	# two lines of context around each change
	my @near = map { $out[$_][0] ne ' ' ? ($_ - 2 .. $_ + 2) : () } 0 .. $#out;
	my %keep = map { $_ => 1 } @near;
	my @shown;
	for my $k (0 .. $#out)
	{
		if ($keep{$k}) { push @shown, "      $out[$k][0] $out[$k][1]"; }
		elsif (!@shown || $shown[-1] ne '        ...') { push @shown, '        ...'; }
	}
	return @shown;
}

# The facts of one category that differ, as readable lines.  The facts of an
# object that only one side has are left out (the member category says it).
sub diff_lines
{
	my ($up, $fr, $onesided) = @_;
	my @out;
	my %keys = map { $_ => 1 } (keys %$up, keys %$fr);
	for my $k (sort keys %keys)
	{
		my ($u, $f) = ($up->{$k}, $fr->{$k});
		next if defined $u && defined $f && $u eq $f;
		next if $onesided && $onesided->{ (split m{ / }, $k)[0] };
		if (defined $u && defined $f && ($u =~ /\\n/ || $f =~ /\\n/))
		{
			push @out, "  $k (- after ALTER EXTENSION UPDATE, + after CREATE EXTENSION)", line_diff($u, $f);
			next;
		}
		push @out, "  $k",
		  '    after ALTER EXTENSION UPDATE: ' . ($u // '(absent)'),
		  '    after CREATE EXTENSION:       ' . ($f // '(absent)');
	}
	return @out;
}

my $fresh = facts_of('fresh');

# The description is not vacuous: it sees the objects 1.1 is known to have.
my %members = map { (split m{ / }, $_)[0] => 1 } keys %{ $fresh->{member} };
ok($members{$_}, "the description covers $_")
  for ('function health.ready(text,bigint,interval,text,text)', 'function health.report(text,bigint,interval,text,text)',
	'view health.status', 'view health.checks', 'table health.custom_checks', 'table health.component_config');
my $nfunctions = grep { /^function / } keys %members;
cmp_ok($nfunctions, '>=', 20, "... its $nfunctions functions");
cmp_ok(scalar(keys %{ $fresh->{function} // {} }), '>=', 18 * $nfunctions, '... with every fact of each function');
is(scalar(grep { /^function / } keys %{ $fresh->{acl} }), $nfunctions, '... and its ACL');
ok(exists $fresh->{column}{'table health.custom_checks / column run_interval'}, '... the columns of tables');
ok(exists $fresh->{view}{'view health.status / definition'}, '... view definitions');
ok((grep { /^table health\.component_config \/ constraint / } keys %{ $fresh->{constraint} }), '... constraints');
ok((grep { /^table health\.custom_checks \/ index / } keys %{ $fresh->{index} }), '... indexes');
ok(exists $fresh->{'config dump'}{'extension pg_health / config table health.custom_checks'},
	'... pg_extension_config_dump');
ok(exists $fresh->{'init privs'}, '... pg_init_privs');
like($fresh->{acl}{'schema health / acl'}, qr/(^|,)=U\//, '... the schema\'s privileges (USAGE to PUBLIC)');

# Each updated database against the fresh one, fact by fact.
for my $from ([ 'upgraded', '1.0' ], [ 'from11', '1.1' ])
{
	my ($db, $version) = @$from;
	my $updated = facts_of($db);

	# Members only one side has: their other facts are not listed one by one.
	my %onesided;
	for my $pair ([ $updated, $fresh ], [ $fresh, $updated ])
	{
		for my $k (keys %{ $pair->[0]{member} // {} })
		{
			$onesided{ (split m{ / }, $k)[0] } = 1 unless exists $pair->[1]{member}{$k};
		}
	}

	my @categories = ('member', 'not a member', 'function', 'relation', 'view', 'column', 'constraint', 'index',
		'trigger', 'rule', 'policy', 'type', 'schema', 'cast', 'operator', 'event trigger', 'acl', 'comment',
		'init privs', 'extension', 'config dump');
	my %known = map { $_ => 1 } @categories;
	my @all_diffs;
	for my $cat (@categories, grep { !$known{$_} } sort keys %{ { %$updated, %$fresh } })
	{
		my @d = diff_lines($updated->{$cat} // {}, $fresh->{$cat} // {}, $cat eq 'member' ? undef : \%onesided);
		push @all_diffs, "[$cat]", @d if @d;
		ok(!@d, "$cat: the same after the update from $version as after a fresh install");
	}
	if (@all_diffs)
	{
		diag(join("\n", "the extension updated from $version and the fresh one differ:", @all_diffs));
	}
	else
	{
		note(sprintf('from %s: compared %d facts about %d members', $version,
			scalar(map { keys %$_ } values %$fresh), scalar(keys %{ $fresh->{member} })));
	}
}

# Nothing is left behind: DROP EXTENSION (without CASCADE) removes
# everything in the schema, in both (an object the update made but not as a
# member would stay).  The schema itself stays: CREATE EXTENSION made it,
# but it is not a member.
for my $db ('upgraded', 'from11', 'fresh')
{
	($ret, $out, $err) = $node->psql($db, 'DROP EXTENSION pg_health');
	is($ret, 0, "$db: DROP EXTENSION pg_health without CASCADE") or diag($err);
	is(q1($db, q{SELECT (SELECT count(*) FROM pg_class WHERE relnamespace = 'health'::regnamespace)
	                  + (SELECT count(*) FROM pg_proc WHERE pronamespace = 'health'::regnamespace)
	                  + (SELECT count(*) FROM pg_type WHERE typnamespace = 'health'::regnamespace)}),
		'0', "$db: ... and nothing is left in schema health");
}

$node->stop;
done_testing();
