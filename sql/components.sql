-- Application components: reporting, authorization, bad input, the limit.
-- (test/conf/preload.conf sets pg_health.max_components = 4; the TAP test
-- 007_components.pl covers required components, TTLs, pools and restarts.)

CREATE ROLE ph_svc_a;
CREATE ROLE ph_svc_b;
CREATE ROLE ph_svc_a_member IN ROLE ph_svc_a;

-- an administrator says who reports for what
SELECT health.configure_component('svc-a', reporter => 'ph_svc_a');
SELECT health.configure_component('svc-b', reporter => 'ph_svc_b', ttl => '1 min',
                                  pool_application_name => 'svc-b', pool_min_connections => 2);
SELECT name, reporter, ttl, pool_application_name, pool_min_connections
  FROM health.component_config ORDER BY name;

-- a member of the reporter role reports; another service's role cannot
SET ROLE ph_svc_a_member;
SELECT health.set_component_state('svc-a', 'starting', 'loading caches');
SELECT health.set_component_state('svc-a', 'ready');
SELECT health.heartbeat('svc-a');
SELECT public.ph_sqlstate_of($$SELECT health.set_component_state('svc-b', 'ready')$$) AS other_service;
SELECT public.ph_sqlstate_of($$SELECT health.set_component_state('unconfigured', 'ready')$$) AS unconfigured;
SELECT public.ph_sqlstate_of($$SELECT health.configure_component('svc-a', reporter => 'ph_svc_a_member')$$)
       AS configure_needs_admin;
RESET ROLE;
\set VERBOSITY default
SET ROLE ph_svc_b;
SELECT health.set_component_state('svc-a', 'ready');
RESET ROLE;
\set VERBOSITY terse

-- what the sampler made of them: not required, so a bad state only warns
SELECT health.set_component_state('svc-b', 'failed', 'cannot reach the payment API');
SELECT health.refresh();
SELECT name, required, state, status, detail, ttl, first_ready_at IS NOT NULL AS ready_once,
       pool_application_name, pool_connections, pool_min_connections
  FROM health.components ORDER BY name;
SELECT name, status, detail FROM health.checks WHERE name LIKE 'component:%' ORDER BY name;
SELECT health.ready() AS ready_despite_warnings, status FROM health.status;
SELECT c->>'name' AS name, c->>'state' AS state, c->>'status' AS status, c->'required' AS required
  FROM jsonb_array_elements(health.report()->'components') AS c ORDER BY 1;

-- bad input: clear errors, nothing stored
\set VERBOSITY default
SELECT health.set_component_state('', 'ready');
SELECT health.set_component_state('Svc A', 'ready');
SELECT health.set_component_state(repeat('x', 64), 'ready');
SELECT health.set_component_state('svc-a', 'sleeping');
SELECT health.set_component_state(NULL, 'ready');
SELECT health.set_component_state('svc-a', NULL);
SELECT health.set_component_state('svc-a', 'ready', repeat('d', 200));
SELECT health.heartbeat('never-reported');
SELECT health.configure_component('svc-c', reporter => 'no_such_role');
SELECT health.configure_component('svc-c', pool_min_connections => -1);
\set VERBOSITY terse
SELECT public.ph_sqlstate_of(q) AS sqlstate, q
  FROM (VALUES ($$SELECT health.set_component_state('', 'ready')$$),
               ($$SELECT health.set_component_state('svc-a', 'sleeping')$$),
               ($$SELECT health.set_component_state(NULL, 'ready')$$),
               ($$SELECT health.set_component_state('svc-a', 'ready', repeat('d', 200))$$),
               ($$SELECT health.heartbeat('never-reported')$$)) AS t(q);
-- required components are checked when set
\set VERBOSITY default
ALTER SYSTEM SET pg_health.required_components = 'backend, Bad';
\set VERBOSITY terse

-- the limit: 4 places (pg_health.max_components in the test config)
SELECT health.set_component_state('svc-c', 'ready'), health.set_component_state('svc-d', 'ready');
\set VERBOSITY default
SELECT health.set_component_state('svc-e', 'ready');
\set VERBOSITY terse
SELECT health.refresh();
SELECT count(*) AS components FROM health.component_rows() WHERE NOT required;

-- drop_component frees a place and forgets the configuration
SELECT health.drop_component('svc-c'), health.drop_component('svc-d'), health.drop_component('svc-none');
SELECT health.set_component_state('svc-e', 'ready');
SELECT health.drop_component('svc-a'), health.drop_component('svc-b'), health.drop_component('svc-e');
SELECT health.refresh();
SELECT count(*) AS left_over FROM health.components;
SELECT count(*) AS config_rows FROM health.component_config;
DROP ROLE ph_svc_a_member, ph_svc_a, ph_svc_b;

-- Fields described once (src/fields.c): health.components' columns and the
-- keys of each of the report's components differ only where the table says
-- (heartbeat_age, ttl, registered_at and first_ready_at SQL only; ttl_s and
-- ready_once JSON only; the pool waits in JSON also under <name>_ms, since
-- 1.2, beside 1.1's keys without the unit), and the values agree.
SELECT health.set_component_state('svc-f', 'degraded', 'cache cold'), health.refresh();
WITH cols AS (
  SELECT column_name::text AS c FROM information_schema.columns
   WHERE table_schema = 'health' AND table_name = 'components'),
keys AS (SELECT DISTINCT pg_catalog.jsonb_object_keys(e) AS k
           FROM pg_catalog.jsonb_array_elements(health.report() -> 'components') AS e)
SELECT 'sql only' AS side, c AS field FROM cols WHERE c NOT IN (SELECT k FROM keys)
UNION ALL
SELECT 'json only', k FROM keys WHERE k NOT IN (SELECT c FROM cols)
ORDER BY 1, 2;
SELECT c.name = e ->> 'name' AND c.state = e ->> 'state' AND c.status = e ->> 'status'
       AND c.detail = e ->> 'detail' AND c.required = (e ->> 'required')::boolean
       AND (c.ttl IS NULL) = (e -> 'ttl_s' = 'null') AS same
  FROM health.components c
  JOIN pg_catalog.jsonb_array_elements(health.report() -> 'components') AS e ON e ->> 'name' = c.name
 WHERE c.name = 'svc-f';
SELECT health.drop_component('svc-f');
