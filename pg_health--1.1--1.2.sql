/* pg_health--1.1--1.2.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION pg_health UPDATE TO '1.2'" to load this file. \quit

------------------------------------------------------------------------
-- The pairs the per-tenant question was asked about: who asked first
-- (whose share of the table the entry takes), when, how the lookup went.
------------------------------------------------------------------------
CREATE FUNCTION health.asked_pair_rows(
    OUT role pg_catalog.text,
    OUT database pg_catalog.text,
    OUT asked_by pg_catalog.text,
    OUT asked_at timestamp with time zone,
    OUT asked_by_others_at timestamp with time zone,
    OUT looked_up_at timestamp with time zone,
    OUT lookup pg_catalog.text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pg_health_asked_pairs_1_2'
LANGUAGE C VOLATILE STRICT PARALLEL SAFE;
REVOKE ALL ON FUNCTION health.asked_pair_rows() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION health.asked_pair_rows() TO pg_monitor;
CREATE VIEW health.asked_pairs AS SELECT * FROM health.asked_pair_rows();
COMMENT ON VIEW health.asked_pairs IS 'the (role, database) pairs the per-tenant question was asked about: who asked first (http, component or a login role: whose share of the table it takes), when, and whether the names were found';
GRANT SELECT ON health.asked_pairs TO pg_monitor;

------------------------------------------------------------------------
-- Each worker as it reports itself: pid and what its memory contexts hold
-- (pg_log_backend_memory_contexts() cannot reach the workers without a
-- database connection), and a way to have one log its contexts.
------------------------------------------------------------------------
CREATE FUNCTION health.worker_rows(
    OUT worker pg_catalog.text,
    OUT pid integer,
    OUT context_bytes bigint,
    OUT measured_at timestamp with time zone)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pg_health_workers_1_2'
LANGUAGE C VOLATILE STRICT PARALLEL SAFE;
REVOKE ALL ON FUNCTION health.worker_rows() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION health.worker_rows() TO pg_monitor;
CREATE VIEW health.workers AS SELECT * FROM health.worker_rows();
COMMENT ON VIEW health.workers IS 'each pg_health worker (sampler, http, names, checker, poller, disk) as it reports itself: its pid (NULL: not running) and the bytes its memory contexts hold, renewed as it works';
GRANT SELECT ON health.workers TO pg_monitor;

CREATE FUNCTION health.log_worker_memory_contexts(worker pg_catalog.text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'pg_health_log_worker_memory_contexts_1_2'
LANGUAGE C VOLATILE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION health.log_worker_memory_contexts(pg_catalog.text) IS
  'have a pg_health worker (sampler, http, names, checker, poller) log its memory contexts at its next loop, as pg_log_backend_memory_contexts() does for a backend; false when it does not run';
-- superusers only, as pg_log_backend_memory_contexts(); GRANT it to whom you trust
REVOKE ALL ON FUNCTION health.log_worker_memory_contexts(pg_catalog.text) FROM PUBLIC;

------------------------------------------------------------------------
-- The filesystems that hold the data directory, pg_wal and the tablespaces,
-- as the disk worker measured them (the disk check's figures).
------------------------------------------------------------------------
CREATE FUNCTION health.filesystem_rows(
    OUT path pg_catalog.text,
    OUT holds pg_catalog.text,
    OUT tablespace_oid integer,
    OUT total_bytes bigint,
    OUT free_bytes bigint,
    OUT used_pct double precision,
    OUT growth_bytes_per_s double precision,
    OUT full_in_s double precision,
    OUT error pg_catalog.text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pg_health_filesystems_1_2'
LANGUAGE C VOLATILE STRICT PARALLEL SAFE;
REVOKE ALL ON FUNCTION health.filesystem_rows() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION health.filesystem_rows() TO pg_monitor;
CREATE VIEW health.filesystems AS
SELECT f.path, f.holds, f.tablespace_oid, t.spcname AS tablespace, f.total_bytes, f.free_bytes,
       f.used_pct, f.growth_bytes_per_s, f.full_in_s, f.error
  FROM health.filesystem_rows() AS f
  LEFT JOIN pg_catalog.pg_tablespace AS t ON t.oid OPERATOR(pg_catalog.=) f.tablespace_oid::pg_catalog.oid;
COMMENT ON VIEW health.filesystems IS 'each filesystem that holds the data directory, pg_wal or a tablespace, as the pg_health disk worker last measured it: size, room (f_bavail), growth over the history ring and when it is full at that growth';
GRANT SELECT ON health.filesystems TO pg_monitor;

------------------------------------------------------------------------
-- The cluster's members as this node's poller last asked them for their
-- identity (GET /node): the rows of GET /cluster and of the report's
-- "cluster" (docs/cluster.md).
------------------------------------------------------------------------
CREATE FUNCTION health.cluster_rows(
    OUT name pg_catalog.text,
    OUT address pg_catalog.text,
    OUT resolved_address pg_catalog.text,
    OUT state pg_catalog.text,
    OUT since timestamp with time zone,
    OUT self boolean,
    OUT discovered boolean,
    OUT same_as pg_catalog.text,
    OUT node_name pg_catalog.text,
    OUT role pg_catalog.text,
    OUT timeline bigint,
    OUT lsn pg_catalog.pg_lsn,
    OUT received_lsn pg_catalog.pg_lsn,
    OUT lag_bytes bigint,
    OUT lag interval,
    OUT ready boolean,
    OUT ready_since timestamp with time zone,
    OUT clock_skew_ms double precision,
    OUT poll interval,
    OUT answered_at timestamp with time zone,
    OUT error pg_catalog.text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pg_health_cluster_1_2'
LANGUAGE C VOLATILE STRICT PARALLEL SAFE;
REVOKE ALL ON FUNCTION health.cluster_rows() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION health.cluster_rows() TO pg_monitor;
CREATE VIEW health.cluster AS
SELECT c.name, c.address, c.resolved_address, c.state, c.since, c.self, c.discovered,
       c.same_as, c.node_name, c.role, c.timeline, c.lsn, c.received_lsn, c.lag_bytes, c.lag, c.ready,
       c.ready_since, c.clock_skew_ms, c.poll, c.answered_at, c.error
  FROM health.cluster_rows() AS c;
COMMENT ON VIEW health.cluster IS 'each member of pg_health.cluster_members (and each discovered, with pg_health.cluster_discover) as this node''s pg_health poller last asked it for its identity (GET /node): its state and since when, role, timeline, WAL positions, lag behind the one primary in bytes and time, readiness, clock skew and why its last poll failed';
GRANT SELECT ON health.cluster TO pg_monitor;
