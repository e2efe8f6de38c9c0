/* pg_health--1.0--1.1.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION pg_health UPDATE TO '1.1'" to load this file. \quit

------------------------------------------------------------------------
-- Custom checks run with search_path pinned to pg_catalog, pg_temp, or to
-- the search_path their registering role stored with them.
------------------------------------------------------------------------
ALTER TABLE health.custom_checks ADD COLUMN search_path pg_catalog.text
    CHECK (pg_catalog.octet_length(search_path) OPERATOR(pg_catalog.<=) 1024);
COMMENT ON COLUMN health.custom_checks.search_path IS
  'search_path the check runs with; NULL: pg_catalog, pg_temp (qualify every name)';

DROP FUNCTION health.register_check(pg_catalog.text, pg_catalog.text, pg_catalog.text, interval, interval);
CREATE FUNCTION health.register_check(
    name pg_catalog.text,
    query pg_catalog.text,
    severity pg_catalog.text DEFAULT 'critical',
    run_interval interval DEFAULT '10s',
    timeout interval DEFAULT '1s',
    search_path pg_catalog.text DEFAULT NULL)
RETURNS void
AS 'MODULE_PATHNAME', 'pg_health_register_check_1_1'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION health.register_check(pg_catalog.text, pg_catalog.text, pg_catalog.text, interval, interval, pg_catalog.text) IS
  'register (or replace) a custom check: one SELECT returning one boolean, run read-only as its registering role with search_path pinned to pg_catalog, pg_temp unless one is given; database owner or superuser, in pg_health.database';
REVOKE ALL ON FUNCTION health.register_check(pg_catalog.text, pg_catalog.text, pg_catalog.text, interval, interval, pg_catalog.text) FROM PUBLIC;
-- the database owner manages custom checks (checked inside)
GRANT EXECUTE ON FUNCTION health.register_check(pg_catalog.text, pg_catalog.text, pg_catalog.text, interval, interval, pg_catalog.text) TO PUBLIC;

-- Checks registered under 1.0 ran with the database's search_path; from 1.1
-- on they run with pg_catalog, pg_temp.  Say which ones may now miss names.
DO $$
DECLARE
    n pg_catalog.int8;
BEGIN
    SELECT pg_catalog.count(*) INTO n FROM health.custom_checks;
    IF n OPERATOR(pg_catalog.>) 0 THEN
        RAISE NOTICE 'pg_health 1.1: % custom check(s) now run with search_path = pg_catalog, pg_temp', n
            USING HINT = 'A check whose query names objects without their schema fails with "does not exist": qualify the names, or register it again with search_path => ''app''.';
    END IF;
END
$$;

------------------------------------------------------------------------
-- The per-tenant verdict: "would a new connection for this role to this
-- database be admitted now?", added after the existing arguments so that
-- every existing call still works.
------------------------------------------------------------------------
DROP FUNCTION health.ready(pg_catalog.text, pg_catalog.int8, pg_catalog.interval);
CREATE FUNCTION health.ready(
    role pg_catalog.text DEFAULT NULL,
    max_lag_bytes pg_catalog.int8 DEFAULT NULL,
    max_delay pg_catalog.interval DEFAULT NULL,
    for_user pg_catalog.text DEFAULT NULL,
    for_database pg_catalog.text DEFAULT NULL)
RETURNS boolean
AS 'MODULE_PATHNAME', 'pg_health_ready_1_1'
LANGUAGE C VOLATILE PARALLEL SAFE;
COMMENT ON FUNCTION health.ready(pg_catalog.text, pg_catalog.int8, pg_catalog.interval, pg_catalog.text, pg_catalog.text) IS
  'true when ready to take traffic: started and no critical check; role: primary, replica or NULL (either); max_lag_bytes, max_delay: this call''s replay limits for a standby; for_user, for_database: and a new connection of that role to that database would be admitted now';
REVOKE ALL ON FUNCTION health.ready(pg_catalog.text, pg_catalog.int8, pg_catalog.interval, pg_catalog.text, pg_catalog.text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION health.ready(pg_catalog.text, pg_catalog.int8, pg_catalog.interval, pg_catalog.text, pg_catalog.text) TO PUBLIC;

DROP FUNCTION health.report(pg_catalog.text, pg_catalog.int8, pg_catalog.interval);
CREATE FUNCTION health.report(
    role pg_catalog.text DEFAULT NULL,
    max_lag_bytes pg_catalog.int8 DEFAULT NULL,
    max_delay pg_catalog.interval DEFAULT NULL,
    for_user pg_catalog.text DEFAULT NULL,
    for_database pg_catalog.text DEFAULT NULL)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'pg_health_report_1_1'
LANGUAGE C VOLATILE PARALLEL SAFE;
COMMENT ON FUNCTION health.report(pg_catalog.text, pg_catalog.int8, pg_catalog.interval, pg_catalog.text, pg_catalog.text) IS
  'the whole health report (verdict, checks, connections, replication, components) as one JSON document; with for_user or for_database, an admission section for them';
REVOKE ALL ON FUNCTION health.report(pg_catalog.text, pg_catalog.int8, pg_catalog.interval, pg_catalog.text, pg_catalog.text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION health.report(pg_catalog.text, pg_catalog.int8, pg_catalog.interval, pg_catalog.text, pg_catalog.text) TO pg_monitor;

-- Components may name the role and database they connect with: their check
-- then says when a new connection of theirs would be refused.
ALTER TABLE health.component_config
    ADD COLUMN for_user pg_catalog.name
        CHECK (for_user OPERATOR(pg_catalog.<>) ''::pg_catalog.name),
    ADD COLUMN for_database pg_catalog.name
        CHECK (for_database OPERATOR(pg_catalog.<>) ''::pg_catalog.name);
COMMENT ON COLUMN health.component_config.for_user IS
  'the role the component connects as; its check says when a new connection of it would be refused';
COMMENT ON COLUMN health.component_config.for_database IS
  'the database the component connects to';

DROP FUNCTION health.configure_component(pg_catalog.text, pg_catalog.name, interval, pg_catalog.text, integer);
CREATE FUNCTION health.configure_component(
    name pg_catalog.text,
    reporter pg_catalog.name DEFAULT NULL,
    ttl interval DEFAULT NULL,
    pool_application_name pg_catalog.text DEFAULT NULL,
    pool_min_connections integer DEFAULT 0,
    for_user pg_catalog.name DEFAULT NULL,
    for_database pg_catalog.name DEFAULT NULL)
RETURNS void
AS 'MODULE_PATHNAME', 'pg_health_configure_component_1_1'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION health.configure_component(pg_catalog.text, pg_catalog.name, interval, pg_catalog.text, integer, pg_catalog.name, pg_catalog.name) IS
  'set who may report for a component, its TTL, its pool (application_name, minimum connections) and the role and database it connects with';
REVOKE ALL ON FUNCTION health.configure_component(pg_catalog.text, pg_catalog.name, interval, pg_catalog.text, integer, pg_catalog.name, pg_catalog.name) FROM PUBLIC;

-- health.components shows them, and the per-tenant answer for them.  (A
-- 1.0 declaration, before this update runs, is still served: the library
-- leaves these columns out for it.)
DROP VIEW health.components;
DROP FUNCTION health.component_rows();
CREATE FUNCTION health.component_rows(
    OUT name pg_catalog.text,
    OUT required boolean,
    OUT state pg_catalog.text,
    OUT status pg_catalog.text,
    OUT detail pg_catalog.text,
    OUT state_since timestamp with time zone,
    OUT last_heartbeat timestamp with time zone,
    OUT heartbeat_age interval,
    OUT ttl interval,
    OUT registered_at timestamp with time zone,
    OUT first_ready_at timestamp with time zone,
    OUT pool_application_name pg_catalog.text,
    OUT pool_connections integer,
    OUT pool_min_connections integer,
    OUT for_user pg_catalog.text,
    OUT for_database pg_catalog.text,
    OUT admission pg_catalog.text,
    OUT sampled_at timestamp with time zone)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pg_health_components_1_0'
LANGUAGE C VOLATILE STRICT PARALLEL SAFE;
REVOKE ALL ON FUNCTION health.component_rows() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION health.component_rows() TO pg_monitor;
CREATE VIEW health.components AS SELECT * FROM health.component_rows();
COMMENT ON VIEW health.components IS 'application components as the latest sample judged them';
GRANT SELECT ON health.components TO pg_monitor;
