-- Bad input gets a clear error, a hint and a proper SQLSTATE.
SELECT health.ready('master');
SELECT * FROM health.checks('standby');
SELECT health.report('');

SELECT query, public.ph_sqlstate_of(query) AS sqlstate
  FROM (VALUES ('SELECT health.ready(''master'')'),
               ('SELECT health.ready(''PRIMARY'')'),
               ('SELECT health.ready('''')'),
               ('SELECT * FROM health.checks(''standby'')'),
               ('SELECT health.report(''x'')'),
               ('SELECT health.ready(NULL)'),
               ('SELECT health.report(NULL)'),
               ('SET pg_health.sample_interval = ''5s'''),
               ('SET pg_health.no_such_setting = 1'),
               ('SELECT health.refresh()')) AS q(query)
 ORDER BY 1;

-- GUCs are reloadable, not settable per session
SET pg_health.sample_interval = '5s';
SET pg_health.no_such_setting = 1;
