-- examples/service.sql: the database side of examples/service.py, once, as a
-- superuser, in the database the service connects to:
--
--   psql -d postgres -f examples/service.sql
--   psql -d postgres -v component=shop -v role=shop_svc -v ttl=30s -f examples/service.sql
--
-- Defaults: component backend, role svc, ttl 10s.
\if :{?component}
\else
\set component backend
\endif
\if :{?role}
\else
\set role svc
\endif
\if :{?ttl}
\else
\set ttl 10s
\endif
\set ON_ERROR_STOP on

CREATE EXTENSION IF NOT EXISTS pg_health;
-- the service's role: it logs in, and may report for its component
SELECT pg_catalog.format('CREATE ROLE %I LOGIN', :'role')
 WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = :'role') \gexec
SELECT health.configure_component(:'component', reporter => :'role', ttl => :'ttl');
-- its /health/ready route returns the report
SELECT pg_catalog.format('GRANT EXECUTE ON FUNCTION health.report TO %I', :'role') \gexec
-- the server is not ready until the component has been ready once
SELECT pg_catalog.format('ALTER SYSTEM SET pg_health.required_components = %L', :'component') \gexec
SELECT pg_catalog.pg_reload_conf();
