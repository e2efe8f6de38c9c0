/* pg_health--1.0.sql */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION pg_health" to load this file. \quit

-- The schema "health" is created by CREATE EXTENSION (control file: schema).
-- Everyone may look up names in it; what each object allows is granted below.
GRANT USAGE ON SCHEMA health TO PUBLIC;

------------------------------------------------------------------------
-- Verdicts: booleans only, callable by PUBLIC.
------------------------------------------------------------------------
CREATE FUNCTION health.live()
RETURNS boolean
AS 'MODULE_PATHNAME', 'pg_health_live_1_0'
LANGUAGE C VOLATILE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION health.live() IS
  'true while the server answers and the pg_health worker is sampling; never depends on thresholds';

CREATE FUNCTION health.ready(
    role pg_catalog.text DEFAULT NULL,
    max_lag_bytes pg_catalog.int8 DEFAULT NULL,
    max_delay pg_catalog.interval DEFAULT NULL)
RETURNS boolean
AS 'MODULE_PATHNAME', 'pg_health_ready_1_0'
LANGUAGE C VOLATILE PARALLEL SAFE;
COMMENT ON FUNCTION health.ready(pg_catalog.text, pg_catalog.int8, pg_catalog.interval) IS
  'true when ready to take traffic: started and no critical check; role: primary, replica or NULL (either); max_lag_bytes, max_delay: this call''s replay limits for a standby';

CREATE FUNCTION health.started()
RETURNS boolean
AS 'MODULE_PATHNAME', 'pg_health_started_1_0'
LANGUAGE C VOLATILE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION health.started() IS
  'true once initialization completed: consistent state reached and first sample taken';

------------------------------------------------------------------------
-- Reasons and figures: pg_monitor (or granted).
------------------------------------------------------------------------
CREATE FUNCTION health.checks(
    role pg_catalog.text DEFAULT NULL,
    max_lag_bytes pg_catalog.int8 DEFAULT NULL,
    max_delay pg_catalog.interval DEFAULT NULL,
    OUT name pg_catalog.text,
    OUT status pg_catalog.text,
    OUT value double precision,
    OUT warning_threshold double precision,
    OUT critical_threshold double precision,
    OUT detail pg_catalog.text,
    OUT since timestamp with time zone)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pg_health_checks_1_0'
LANGUAGE C VOLATILE PARALLEL SAFE;
COMMENT ON FUNCTION health.checks(pg_catalog.text, pg_catalog.int8, pg_catalog.interval) IS
  'one row per readiness check, with its status, figure, thresholds and a sentence to act on';

CREATE FUNCTION health.report(
    role pg_catalog.text DEFAULT NULL,
    max_lag_bytes pg_catalog.int8 DEFAULT NULL,
    max_delay pg_catalog.interval DEFAULT NULL)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'pg_health_report_1_0'
LANGUAGE C VOLATILE PARALLEL SAFE;
COMMENT ON FUNCTION health.report(pg_catalog.text, pg_catalog.int8, pg_catalog.interval) IS
  'the whole health report (verdict, checks, connections, replication, components) as one JSON document';

CREATE FUNCTION health.refresh()
RETURNS boolean
AS 'MODULE_PATHNAME', 'pg_health_refresh_1_0'
LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION health.refresh() IS
  'ask the worker for a new sample and wait for it (at most 5 s or 3 intervals); false if none came';

CREATE FUNCTION health.status_row(
    OUT status pg_catalog.text,
    OUT ready boolean,
    OUT live boolean,
    OUT started boolean,
    OUT role pg_catalog.text,
    OUT in_recovery boolean,
    OUT server_started_at timestamp with time zone,
    OUT shmem_initialized_at timestamp with time zone,
    OUT started_at timestamp with time zone,
    OUT worker_pid integer,
    OUT worker_started_at timestamp with time zone,
    OUT generation bigint,
    OUT sampled_at timestamp with time zone,
    OUT sample_age interval,
    OUT sample_duration interval,
    OUT shmem_bytes bigint)
RETURNS record
AS 'MODULE_PATHNAME', 'pg_health_status_1_0'
LANGUAGE C VOLATILE STRICT PARALLEL SAFE;

CREATE FUNCTION health.connections_row(
    OUT max_connections integer,
    OUT superuser_reserved_connections integer,
    OUT reserved_connections integer,
    OUT usable_slots integer,
    OUT slots_used integer,
    OUT slots_free integer,
    OUT available_to_ordinary_roles integer,
    OUT available_to_reserved_roles integer,
    OUT utilization_pct double precision,
    OUT client_backends integer,
    OUT active integer,
    OUT idle integer,
    OUT idle_in_transaction integer,
    OUT idle_in_transaction_aborted integer,
    OUT fastpath integer,
    OUT disabled integer,
    OUT starting integer,
    OUT waiting_on_locks integer,
    OUT oldest_transaction_age interval,
    OUT oldest_transaction_pid integer,
    OUT oldest_query_age interval,
    OUT oldest_query_pid integer,
    OUT longest_idle_in_transaction interval,
    OUT longest_idle_in_transaction_pid integer,
    OUT background_workers integer,
    OUT autovacuum_workers integer,
    OUT walsenders integer,
    OUT other_processes integer,
    OUT connections_authenticated bigint,
    OUT authentication_failures bigint,
    OUT refused_no_slots bigint,
    OUT refused_starting bigint,
    OUT refusals_in_window integer,
    OUT last_refusal_at timestamp with time zone,
    OUT last_refused_role pg_catalog.text,
    OUT last_refused_database pg_catalog.text,
    OUT sampled_at timestamp with time zone)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pg_health_connections_1_0'
LANGUAGE C VOLATILE STRICT PARALLEL SAFE;

CREATE FUNCTION health.history_rows(
    OUT sampled_at timestamp with time zone,
    OUT generation bigint,
    OUT status pg_catalog.text,
    OUT in_recovery boolean,
    OUT client_backends integer,
    OUT available_to_ordinary_roles integer,
    OUT utilization_pct double precision,
    OUT active integer,
    OUT idle_in_transaction integer,
    OUT waiting_on_locks integer,
    OUT oldest_transaction_age interval,
    OUT warnings integer,
    OUT criticals integer,
    OUT sample_duration interval,
    OUT connections_per_s double precision,
    OUT refusals_per_s double precision,
    OUT authentication_failures_per_s double precision)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pg_health_history_1_0'
LANGUAGE C VOLATILE STRICT PARALLEL SAFE;

CREATE FUNCTION health.event_rows(
    OUT occurred_at timestamp with time zone,
    OUT generation bigint,
    OUT old_status pg_catalog.text,
    OUT new_status pg_catalog.text,
    OUT reasons pg_catalog.text,
    OUT changes jsonb)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pg_health_events_1_0'
LANGUAGE C VOLATILE STRICT PARALLEL SAFE;

CREATE FUNCTION health.pool_rows(
    OUT datid oid,
    OUT datname pg_catalog.text,
    OUT usesysid oid,
    OUT usename pg_catalog.text,
    OUT application_name pg_catalog.text,
    OUT folded_groups integer,
    OUT sessions integer,
    OUT active integer,
    OUT idle integer,
    OUT idle_in_transaction integer,
    OUT idle_in_transaction_aborted integer,
    OUT fastpath integer,
    OUT disabled integer,
    OUT starting integer,
    OUT waiting_on_locks integer,
    OUT oldest_transaction_age interval,
    OUT oldest_transaction_pid integer,
    OUT oldest_query_age interval,
    OUT oldest_query_pid integer,
    OUT longest_idle_in_transaction interval,
    OUT longest_idle_in_transaction_pid integer,
    OUT slot_share_pct double precision,
    OUT superuser boolean,
    OUT database_connections integer,
    OUT datconnlimit integer,
    OUT role_connections integer,
    OUT rolconnlimit integer,
    OUT headroom integer,
    OUT limited_by pg_catalog.text,
    OUT component pg_catalog.text,
    OUT component_min_connections integer,
    OUT sampled_at timestamp with time zone)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pg_health_pools_1_0'
LANGUAGE C VOLATILE STRICT PARALLEL SAFE;

CREATE FUNCTION health.session_rows(
    OUT pid integer,
    OUT datid oid,
    OUT datname pg_catalog.text,
    OUT usesysid oid,
    OUT usename pg_catalog.text,
    OUT application_name pg_catalog.text,
    OUT client_addr inet,
    OUT backend_start timestamp with time zone,
    OUT state pg_catalog.text,
    OUT state_age interval,
    OUT transaction_age interval,
    OUT query_age interval,
    OUT wait_event_type pg_catalog.text,
    OUT wait_event pg_catalog.text,
    OUT blocked_by integer[],
    OUT classification pg_catalog.text,
    OUT query pg_catalog.text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pg_health_sessions_1_0'
LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED;

------------------------------------------------------------------------
-- Application components.
------------------------------------------------------------------------
-- What is configured per component survives restarts and replicates to
-- standbys; runtime state lives in shared memory.
CREATE TABLE health.component_config (
    name pg_catalog.text PRIMARY KEY
        CHECK (name OPERATOR(pg_catalog.~) '^[a-z0-9_.-]{1,63}$'),
    reporter pg_catalog.name,
    ttl interval CHECK (ttl OPERATOR(pg_catalog.>=) '0'::interval),
    pool_application_name pg_catalog.text
        CHECK (pg_catalog.octet_length(pool_application_name) OPERATOR(pg_catalog.<) 64),
    pool_min_connections integer NOT NULL DEFAULT 0
        CHECK (pool_min_connections OPERATOR(pg_catalog.>=) 0)
);
SELECT pg_catalog.pg_extension_config_dump('health.component_config', '');
COMMENT ON TABLE health.component_config IS
  'who may report for each component (reporter), its TTL and its pool; written by health.configure_component()';

CREATE FUNCTION health.set_component_state(
    name pg_catalog.text, state pg_catalog.text, detail pg_catalog.text DEFAULT NULL)
RETURNS void
AS 'MODULE_PATHNAME', 'pg_health_set_component_state_1_0'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION health.set_component_state(pg_catalog.text, pg_catalog.text, pg_catalog.text) IS
  'report a component''s state (starting, ready, degraded, failed, stopped); also a heartbeat';

CREATE FUNCTION health.heartbeat(name pg_catalog.text)
RETURNS void
AS 'MODULE_PATHNAME', 'pg_health_heartbeat_1_0'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION health.heartbeat(pg_catalog.text) IS
  'say a component is still alive, keeping its state';

CREATE FUNCTION health.configure_component(
    name pg_catalog.text,
    reporter pg_catalog.name DEFAULT NULL,
    ttl interval DEFAULT NULL,
    pool_application_name pg_catalog.text DEFAULT NULL,
    pool_min_connections integer DEFAULT 0)
RETURNS void
AS 'MODULE_PATHNAME', 'pg_health_configure_component_1_0'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION health.configure_component(pg_catalog.text, pg_catalog.name, interval, pg_catalog.text, integer) IS
  'set who may report for a component, its TTL and its pool (application_name, minimum connections)';

CREATE FUNCTION health.drop_component(name pg_catalog.text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'pg_health_drop_component_1_0'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION health.drop_component(pg_catalog.text) IS
  'forget a component: its configuration and its runtime state';

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
    OUT sampled_at timestamp with time zone)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pg_health_components_1_0'
LANGUAGE C VOLATILE STRICT PARALLEL SAFE;

------------------------------------------------------------------------
-- Custom checks (initialization gates), run by the checker worker in the
-- database named by pg_health.database.
------------------------------------------------------------------------
CREATE TABLE health.custom_checks (
    name pg_catalog.text PRIMARY KEY
        CHECK (name OPERATOR(pg_catalog.~) '^[a-z0-9_.-]{1,63}$'),
    query pg_catalog.text NOT NULL,
    severity pg_catalog.text NOT NULL DEFAULT 'critical'
        CHECK (severity OPERATOR(pg_catalog.=) ANY (ARRAY['critical', 'warning'])),
    run_interval interval NOT NULL DEFAULT '10s',
    timeout interval NOT NULL DEFAULT '1s',
    registered_by pg_catalog.name NOT NULL,
    registered_at timestamp with time zone NOT NULL DEFAULT pg_catalog.now()
);
SELECT pg_catalog.pg_extension_config_dump('health.custom_checks', '');
COMMENT ON TABLE health.custom_checks IS
  'custom checks: a query returning one boolean, run by the checker worker as registered_by';

CREATE FUNCTION health.register_check(
    name pg_catalog.text,
    query pg_catalog.text,
    severity pg_catalog.text DEFAULT 'critical',
    run_interval interval DEFAULT '10s',
    timeout interval DEFAULT '1s')
RETURNS void
AS 'MODULE_PATHNAME', 'pg_health_register_check_1_0'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION health.register_check(pg_catalog.text, pg_catalog.text, pg_catalog.text, interval, interval) IS
  'register (or replace) a custom check: one SELECT returning one boolean; database owner or superuser, in pg_health.database';

CREATE FUNCTION health.drop_check(name pg_catalog.text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'pg_health_drop_check_1_0'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION health.drop_check(pg_catalog.text) IS
  'drop a custom check; false if there was none';

CREATE FUNCTION health.replication_rows(
    OUT kind pg_catalog.text,
    OUT pid pg_catalog.int4,
    OUT application_name pg_catalog.text,
    OUT peer pg_catalog.text,
    OUT state pg_catalog.text,
    OUT since timestamp with time zone,
    OUT sync_state pg_catalog.text,
    OUT sent_lsn pg_catalog.pg_lsn,
    OUT received_lsn pg_catalog.pg_lsn,
    OUT replayed_lsn pg_catalog.pg_lsn,
    OUT sent_lag_bytes pg_catalog.int8,
    OUT flush_lag_bytes pg_catalog.int8,
    OUT lag_bytes pg_catalog.int8,
    OUT replay_delay interval,
    OUT replay_paused boolean,
    OUT last_message_at timestamp with time zone,
    OUT sampled_at timestamp with time zone)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pg_health_replication_1_0'
LANGUAGE C VOLATILE PARALLEL SAFE;
COMMENT ON FUNCTION health.replication_rows() IS
  'health.replication: the standbys of a primary, or the WAL receiver of a standby, from the latest sample';

-- Views for DBAs: thin wrappers over the functions above.
CREATE VIEW health.checks AS SELECT * FROM health.checks();
CREATE VIEW health.status AS SELECT * FROM health.status_row();
CREATE VIEW health.connections AS SELECT * FROM health.connections_row();
CREATE VIEW health.history AS SELECT * FROM health.history_rows();
CREATE VIEW health.events AS SELECT * FROM health.event_rows();
CREATE VIEW health.pools AS SELECT * FROM health.pool_rows();
CREATE VIEW health.sessions AS SELECT * FROM health.session_rows();
CREATE VIEW health.components AS SELECT * FROM health.component_rows();
CREATE VIEW health.replication AS SELECT * FROM health.replication_rows();

COMMENT ON VIEW health.checks IS 'readiness checks for either role, with reasons';
COMMENT ON VIEW health.status IS 'the verdict, initialization state and the sampler''s own figures';
COMMENT ON VIEW health.connections IS 'connection slots as PostgreSQL enforces them, and sessions by state';
COMMENT ON VIEW health.history IS 'ring buffer of past samples (pg_health.history_size)';
COMMENT ON VIEW health.events IS 'ring buffer of status transitions with their reasons (pg_health.events_size)';
COMMENT ON VIEW health.pools IS 'client sessions per (database, role, application_name) and their connection limits, from the latest sample';
COMMENT ON VIEW health.components IS 'application components as the latest sample judged them';
COMMENT ON VIEW health.replication IS 'one row per physical standby on a primary; the WAL receiver''s row on a standby';
COMMENT ON VIEW health.sessions IS 'one row per client session, live, classified; query text and client address only where pg_stat_activity would show them';

------------------------------------------------------------------------
-- Privileges: least by default.
------------------------------------------------------------------------
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA health FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA health FROM PUBLIC;

GRANT EXECUTE ON FUNCTION health.live() TO PUBLIC;
GRANT EXECUTE ON FUNCTION health.ready(pg_catalog.text, pg_catalog.int8, pg_catalog.interval) TO PUBLIC;
GRANT EXECUTE ON FUNCTION health.started() TO PUBLIC;
-- reporting is authorized per component inside (superusers, or members of
-- the component's reporter role)
GRANT EXECUTE ON FUNCTION health.set_component_state(pg_catalog.text, pg_catalog.text, pg_catalog.text) TO PUBLIC;
GRANT EXECUTE ON FUNCTION health.heartbeat(pg_catalog.text) TO PUBLIC;
-- the database owner manages custom checks (checked inside)
GRANT EXECUTE ON FUNCTION
    health.register_check(pg_catalog.text, pg_catalog.text, pg_catalog.text, interval, interval),
    health.drop_check(pg_catalog.text)
  TO PUBLIC;

GRANT EXECUTE ON FUNCTION
    health.checks(pg_catalog.text, pg_catalog.int8, pg_catalog.interval),
    health.report(pg_catalog.text, pg_catalog.int8, pg_catalog.interval),
    health.refresh(),
    health.status_row(),
    health.connections_row(),
    health.history_rows(),
    health.event_rows(),
    health.pool_rows(),
    health.session_rows(),
    health.component_rows(),
    health.replication_rows()
  TO pg_monitor;
GRANT SELECT ON health.checks, health.status, health.connections,
                health.history, health.events, health.pools,
                health.sessions, health.components, health.replication,
                health.component_config,
                health.custom_checks
  TO pg_monitor;
