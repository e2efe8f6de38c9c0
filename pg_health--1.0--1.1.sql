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

-- A component's pool may be counted at a pooler (PgBouncer) instead of by
-- application_name, and its own pool (health.report_pool) may have a wait
-- that turns its check critical.
ALTER TABLE health.component_config
    ADD COLUMN pooler pg_catalog.text
        CHECK (pg_catalog.octet_length(pooler) OPERATOR(pg_catalog.>=) 1
               AND pg_catalog.octet_length(pooler) OPERATOR(pg_catalog.<=) 63),
    ADD COLUMN pooler_database pg_catalog.text
        CHECK (pg_catalog.octet_length(pooler_database) OPERATOR(pg_catalog.>=) 1
               AND pg_catalog.octet_length(pooler_database) OPERATOR(pg_catalog.<=) 63),
    ADD COLUMN pooler_user pg_catalog.text
        CHECK (pg_catalog.octet_length(pooler_user) OPERATOR(pg_catalog.>=) 1
               AND pg_catalog.octet_length(pooler_user) OPERATOR(pg_catalog.<=) 63),
    ADD COLUMN pool_max_wait interval
        CHECK (pool_max_wait OPERATOR(pg_catalog.>=) '0'::interval);
COMMENT ON COLUMN health.component_config.pooler IS
  'the pooler (health.configure_pooler) whose pool for pooler_database and pooler_user (by default for_database, for_user) counts as the component''s pool';
COMMENT ON COLUMN health.component_config.pooler_database IS
  'the database of the component''s pool at the pooler, as SHOW POOLS names it; NULL: for_database';
COMMENT ON COLUMN health.component_config.pooler_user IS
  'the user of the component''s pool at the pooler; NULL: for_user';
COMMENT ON COLUMN health.component_config.pool_max_wait IS
  'a wait in the component''s own pool (health.report_pool) longer than this makes its check critical';

DROP FUNCTION health.configure_component(pg_catalog.text, pg_catalog.name, interval, pg_catalog.text, integer);
CREATE FUNCTION health.configure_component(
    name pg_catalog.text,
    reporter pg_catalog.name DEFAULT NULL,
    ttl interval DEFAULT NULL,
    pool_application_name pg_catalog.text DEFAULT NULL,
    pool_min_connections integer DEFAULT 0,
    for_user pg_catalog.name DEFAULT NULL,
    for_database pg_catalog.name DEFAULT NULL,
    pooler pg_catalog.text DEFAULT NULL,
    pooler_database pg_catalog.text DEFAULT NULL,
    pooler_user pg_catalog.text DEFAULT NULL,
    pool_max_wait interval DEFAULT NULL)
RETURNS void
AS 'MODULE_PATHNAME', 'pg_health_configure_component_1_1'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION health.configure_component(pg_catalog.text, pg_catalog.name, interval, pg_catalog.text, integer, pg_catalog.name, pg_catalog.name, pg_catalog.text, pg_catalog.text, pg_catalog.text, interval) IS
  'set who may report for a component, its TTL, its pool (by application_name, or at a pooler; minimum connections; the longest wait in its own pool), and the role and database it connects with';
REVOKE ALL ON FUNCTION health.configure_component(pg_catalog.text, pg_catalog.name, interval, pg_catalog.text, integer, pg_catalog.name, pg_catalog.name, pg_catalog.text, pg_catalog.text, pg_catalog.text, interval) FROM PUBLIC;

-- An application's own connection pool (psycopg_pool, HikariCP, ...),
-- reported by the component like its state.
CREATE FUNCTION health.report_pool(
    component pg_catalog.text,
    in_use integer,
    idle integer,
    waiting integer,
    max_size integer,
    max_wait interval DEFAULT NULL)
RETURNS void
AS 'MODULE_PATHNAME', 'pg_health_report_pool_1_1'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION health.report_pool(pg_catalog.text, integer, integer, integer, integer, interval) IS
  'report a component''s own connection pool: connections in use and idle, clients waiting, its maximum size and the longest current wait; authorized like set_component_state, and a heartbeat';
REVOKE ALL ON FUNCTION health.report_pool(pg_catalog.text, integer, integer, integer, integer, interval) FROM PUBLIC;
-- who may report is checked inside, as for set_component_state
GRANT EXECUTE ON FUNCTION health.report_pool(pg_catalog.text, integer, integer, integer, integer, interval) TO PUBLIC;

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
    OUT pooler pg_catalog.text,
    OUT pool_max_wait interval,
    OUT pool_in_use integer,
    OUT pool_idle integer,
    OUT pool_waiting integer,
    OUT pool_max_size integer,
    OUT pool_longest_wait interval,
    OUT pool_reported_at timestamp with time zone,
    OUT sampled_at timestamp with time zone)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pg_health_components_1_0'
LANGUAGE C VOLATILE STRICT PARALLEL SAFE;
REVOKE ALL ON FUNCTION health.component_rows() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION health.component_rows() TO pg_monitor;
CREATE VIEW health.components AS SELECT * FROM health.component_rows();
COMMENT ON VIEW health.components IS 'application components as the latest sample judged them';
GRANT SELECT ON health.components TO pg_monitor;

------------------------------------------------------------------------
-- Connection poolers in front of the server (PgBouncer): configured here,
-- polled by the pooler worker, judged into the verdict as pooler:<name>.
------------------------------------------------------------------------
CREATE TABLE health.pooler_config (
    name pg_catalog.text PRIMARY KEY
        CHECK (name OPERATOR(pg_catalog.~) '^[a-z0-9_.-]{1,63}$'),
    conninfo pg_catalog.text NOT NULL
        CHECK (pg_catalog.octet_length(conninfo) OPERATOR(pg_catalog.<) 1024),
    configured_at timestamp with time zone NOT NULL DEFAULT pg_catalog.now(),
    configured_by pg_catalog.name NOT NULL DEFAULT CURRENT_USER
);
SELECT pg_catalog.pg_extension_config_dump('health.pooler_config', '');
COMMENT ON TABLE health.pooler_config IS
  'connection poolers (PgBouncer admin consoles) pg_health polls; the conninfo may hold a password: superusers only';
REVOKE ALL ON health.pooler_config FROM PUBLIC;

CREATE FUNCTION health.configure_pooler(name pg_catalog.text, conninfo pg_catalog.text)
RETURNS void
AS 'MODULE_PATHNAME', 'pg_health_configure_pooler_1_1'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION health.configure_pooler(pg_catalog.text, pg_catalog.text) IS
  'add or change a connection pooler to poll: its admin console''s conninfo (dbname=pgbouncer); superusers, in pg_health.database';
REVOKE ALL ON FUNCTION health.configure_pooler(pg_catalog.text, pg_catalog.text) FROM PUBLIC;

CREATE FUNCTION health.drop_pooler(name pg_catalog.text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'pg_health_drop_pooler_1_1'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION health.drop_pooler(pg_catalog.text) IS
  'stop polling a connection pooler; false when there was none; superusers, in pg_health.database';
REVOKE ALL ON FUNCTION health.drop_pooler(pg_catalog.text) FROM PUBLIC;

CREATE FUNCTION health.pooler_rows(
    OUT name pg_catalog.text,
    OUT host pg_catalog.text,
    OUT port integer,
    OUT state pg_catalog.text,
    OUT version pg_catalog.text,
    OUT error pg_catalog.text,
    OUT answered_at timestamp with time zone,
    OUT failing_since timestamp with time zone,
    OUT client_connections integer,
    OUT max_client_conn integer,
    OUT clients_waiting integer,
    OUT longest_wait interval,
    OUT pools integer,
    OUT pool_mode pg_catalog.text,
    OUT default_pool_size integer,
    OUT configured_at timestamp with time zone,
    OUT polled_at timestamp with time zone,
    OUT poll_duration interval,
    OUT polls bigint,
    OUT failures bigint,
    OUT status pg_catalog.text,
    OUT detail pg_catalog.text,
    OUT sampled_at timestamp with time zone)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pg_health_poolers_1_1'
LANGUAGE C VOLATILE STRICT PARALLEL SAFE;
REVOKE ALL ON FUNCTION health.pooler_rows() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION health.pooler_rows() TO pg_monitor;
CREATE VIEW health.poolers AS SELECT * FROM health.pooler_rows();
COMMENT ON VIEW health.poolers IS 'connection poolers as the latest sample saw them: the last poll of each, and its check';
GRANT SELECT ON health.poolers TO pg_monitor;

CREATE FUNCTION health.pooler_pool_rows(
    OUT pooler pg_catalog.text,
    OUT database pg_catalog.text,
    OUT user_name pg_catalog.text,
    OUT folded_pools integer,
    OUT cl_active integer,
    OUT cl_waiting integer,
    OUT sv_active integer,
    OUT sv_idle integer,
    OUT sv_used integer,
    OUT sv_tested integer,
    OUT sv_login integer,
    OUT maxwait interval,
    OUT pool_size integer,
    OUT pool_mode pg_catalog.text,
    OUT answered_at timestamp with time zone)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pg_health_pooler_pools_1_1'
LANGUAGE C VOLATILE STRICT PARALLEL SAFE;
REVOKE ALL ON FUNCTION health.pooler_pool_rows() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION health.pooler_pool_rows() TO pg_monitor;
CREATE VIEW health.pooler_pools AS SELECT * FROM health.pooler_pool_rows();
COMMENT ON VIEW health.pooler_pools IS 'each pool (database, user) at each connection pooler, as its last answered poll said; the worst first';
GRANT SELECT ON health.pooler_pools TO pg_monitor;
