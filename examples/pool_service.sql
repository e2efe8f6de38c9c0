-- examples/pool_service.sql: the database side of examples/pool_service.py,
-- once, as a superuser, in the database the service connects to:
--
--   psql -d postgres -f examples/pool_service.sql
--   psql -d postgres -v component=shop -v role=shop_svc -v max_wait=1s -f examples/pool_service.sql
--
-- Defaults: component shop, role shop_svc, pool_max_wait 2s.
\if :{?component}
\else
\set component shop
\endif
\if :{?role}
\else
\set role shop_svc
\endif
\if :{?max_wait}
\else
\set max_wait 2s
\endif
\set ON_ERROR_STOP on

CREATE EXTENSION IF NOT EXISTS pg_health;
SELECT pg_catalog.format('CREATE ROLE %I LOGIN', :'role')
 WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = :'role') \gexec
-- a wait in its own pool longer than max_wait makes its check critical
SELECT health.configure_component(:'component', reporter => :'role', pool_max_wait => :'max_wait');
SELECT pg_catalog.format('GRANT EXECUTE ON FUNCTION health.report TO %I', :'role') \gexec
SELECT pg_catalog.format('ALTER SYSTEM SET pg_health.required_components = %L', :'component') \gexec
SELECT pg_catalog.pg_reload_conf();
