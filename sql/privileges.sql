-- Least privilege: booleans for everyone, reasons for pg_monitor.
CREATE ROLE ph_app;
CREATE ROLE ph_monitor IN ROLE pg_monitor;

SET ROLE ph_app;
SELECT health.live(), health.ready(), health.started(), health.ready('primary');
SELECT * FROM health.checks;
SELECT health.report();
-- each entry point's SQLSTATE for an ordinary role
SELECT query, public.ph_sqlstate_of(query) AS sqlstate
  FROM (VALUES ('SELECT * FROM health.checks'),
               ('SELECT * FROM health.checks()'),
               ('SELECT health.report()'),
               ('SELECT health.refresh()'),
               ('SELECT * FROM health.status'),
               ('SELECT * FROM health.connections'),
               ('SELECT * FROM health.history'),
               ('SELECT * FROM health.events'),
               ('SELECT * FROM health.pools'),
               ('SELECT * FROM health.sessions'),
               ('SELECT * FROM health.replication'),
               ('SELECT * FROM health.asked_pairs'),
               ('SELECT * FROM health.workers'),
               ('SELECT * FROM health.filesystems'),
               ('SELECT health.log_worker_memory_contexts(''http'')'),
               ('SELECT health.ready()'),
               ('SELECT health.ready(''replica'', 1048576, ''10 s'')')) AS q(query)
 ORDER BY 1;
RESET ROLE;

-- pg_monitor members read everything (a sample taken since this session
-- began, so that its own pool is in it)
SET ROLE ph_monitor;
SELECT health.refresh();
SELECT (SELECT count(*) FROM health.checks) > 0 AS checks,
       health.report() ? 'status' AS report,
       (SELECT count(*) FROM health.status) = 1 AS status,
       (SELECT count(*) FROM health.connections) = 1 AS connections,
       (SELECT count(*) FROM health.history) >= 0 AS history,
       (SELECT count(*) FROM health.events) >= 0 AS events,
       (SELECT count(*) FROM health.pools) > 0 AS pools,
       (SELECT count(*) FROM health.sessions WHERE pid = pg_backend_pid()) = 1 AS sessions,
       (SELECT count(*) FROM health.replication) >= 0 AS replication,
       (SELECT count(*) FROM health.asked_pairs) >= 0 AS asked_pairs,
       (SELECT count(*) FROM health.workers) = 6 AS workers,
       (SELECT count(*) FROM health.filesystems WHERE holds LIKE 'data%') = 1 AS filesystems,
       health.refresh() AS refresh;
-- logging a worker's memory contexts is for superusers (and whom they grant)
SELECT public.ph_sqlstate_of('SELECT health.log_worker_memory_contexts(''http'')') AS log_worker_memory;
RESET ROLE;

-- PUBLIC holds EXECUTE on exactly the three verdicts and the two reporting
-- functions (which authorize per component themselves)
SELECT p.oid::regprocedure AS function
  FROM pg_proc p
 WHERE p.pronamespace = 'health'::regnamespace
   AND has_function_privilege('public', p.oid, 'EXECUTE')
 ORDER BY p.oid::regprocedure::text;

DROP ROLE ph_app;
DROP ROLE ph_monitor;
