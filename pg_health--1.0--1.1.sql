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
