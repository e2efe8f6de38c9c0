-- The shape of every view: column names and types, in order.
SELECT table_name, ordinal_position AS pos, column_name, data_type
  FROM information_schema.columns
 WHERE table_schema = 'health'
 ORDER BY table_name, ordinal_position;

-- the views are thin wrappers: the same rows as their functions
SELECT (SELECT count(*) FROM health.checks) = (SELECT count(*) FROM health.checks()) AS checks_same,
       (SELECT count(*) FROM health.status) = 1 AS one_status_row,
       (SELECT count(*) FROM health.connections) = 1 AS one_connections_row;

-- Fields described once (src/fields.c): health.connections' columns and the
-- report's "connections" keys differ only where the table says: ages are
-- <name>_ms in JSON; pids and sampled_at are SQL only; the refusal's
-- authentication flag and the rates are JSON only.
WITH cols AS (
  SELECT column_name::text AS c FROM information_schema.columns
   WHERE table_schema = 'health' AND table_name = 'connections'),
keys AS (SELECT pg_catalog.jsonb_object_keys(health.report() -> 'connections') AS k)
SELECT 'sql only' AS side, c AS field FROM cols
 WHERE c NOT IN (SELECT k FROM keys) AND c || '_ms' NOT IN (SELECT k FROM keys)
UNION ALL
SELECT 'json only', k FROM keys
 WHERE k NOT IN (SELECT c FROM cols) AND regexp_replace(k, '_ms$', '') NOT IN (SELECT c FROM cols)
ORDER BY 1, 2;

-- A declaration that does not match the library is refused, not misread.
CREATE FUNCTION pg_temp.misdeclared(OUT max_connections integer, OUT usable_slots integer)
RETURNS SETOF record AS '$libdir/pg_health', 'pg_health_connections_1_0' LANGUAGE C;
SELECT * FROM pg_temp.misdeclared();
CREATE FUNCTION pg_temp.misdeclared_pools(OUT datid oid, OUT datname text)
RETURNS SETOF record AS '$libdir/pg_health', 'pg_health_pools_1_0' LANGUAGE C;
SELECT * FROM pg_temp.misdeclared_pools();

-- the report's replication object on a primary (src/fields.c)
SELECT pg_catalog.jsonb_object_keys(health.report() -> 'replication') AS primary_key ORDER BY 1;

-- ... nor one whose columns have other types, or another number of columns
CREATE FUNCTION pg_temp.mistyped(OUT max_connections text, OUT superuser_reserved_connections integer)
RETURNS SETOF record AS '$libdir/pg_health', 'pg_health_connections_1_0' LANGUAGE C;
SELECT * FROM pg_temp.mistyped();
CREATE FUNCTION pg_temp.short_history(OUT sampled_at timestamptz, OUT generation bigint)
RETURNS SETOF record AS '$libdir/pg_health', 'pg_health_history_1_0' LANGUAGE C;
SELECT * FROM pg_temp.short_history();
