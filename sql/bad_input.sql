-- Bad input gets a clear error, a hint and a proper SQLSTATE.
SELECT health.ready('master');
SELECT * FROM health.checks('standby');
SELECT health.report('');
-- replay limits of one call: non-negative, and a delay without months
SELECT health.ready('replica', -1);
SELECT health.ready('replica', NULL, interval '-1 second');
SELECT * FROM health.checks(NULL, NULL, interval '1 month');
SELECT health.ready('replica', NULL, interval '200000000 days');
-- intervals out of range name their argument (22023), before anything is written
SELECT health.configure_component('svc', ttl => '1000000 years');
SELECT health.configure_component('svc', ttl => '-1 s');
SELECT health.register_check('x', 'SELECT true', run_interval => '100 years');
SELECT health.register_check('x', 'SELECT true', run_interval => '1 ms');
SELECT health.register_check('x', 'SELECT true', timeout => '1 hour');
SELECT health.register_check('x', 'SELECT true', search_path => repeat('s,', 600));
SELECT count(*) AS configured FROM health.component_config;
-- the per-tenant question: a name, as a connection would give it
SELECT health.ready(for_user => '');
SELECT health.report(for_database => repeat('d', 64));

SELECT query, public.ph_sqlstate_of(query) AS sqlstate
  FROM (VALUES ('SELECT health.ready(''master'')'),
               ('SELECT health.ready(''PRIMARY'')'),
               ('SELECT health.ready('''')'),
               ('SELECT * FROM health.checks(''standby'')'),
               ('SELECT health.report(''x'')'),
               ('SELECT health.ready(NULL)'),
               ('SELECT health.report(NULL)'),
               ('SELECT health.ready(''replica'', -1)'),
               ('SELECT health.ready(max_delay => ''-1 s'')'),
               ('SELECT health.report(NULL, NULL, ''1 month'')'),
               ('SELECT health.ready(''replica'', 0, ''0 s'')'),
               ('SELECT health.configure_component(''svc'', ttl => ''1000000 years'')'),
               ('SELECT health.register_check(''x'', ''SELECT true'', run_interval => ''100 years'')'),
               ('SET pg_health.sample_interval = ''5s'''),
               ('SET pg_health.no_such_setting = 1'),
               ('SELECT health.refresh()'),
               ('SELECT health.ready(for_user => '''')'),
               ('SELECT health.ready(for_database => repeat(''d'', 64))'),
               ('SELECT health.ready(for_database => repeat(''d'', 63)) IS NOT NULL')) AS q(query)
 ORDER BY 1;

-- GUCs are reloadable, not settable per session
SET pg_health.sample_interval = '5s';
SET pg_health.no_such_setting = 1;

-- health.log_worker_memory_contexts(): a name that is no worker
SELECT health.log_worker_memory_contexts('nope');
SELECT health.log_worker_memory_contexts(NULL) IS NULL AS strict;
