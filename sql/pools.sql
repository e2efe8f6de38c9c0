-- health.pools and health.sessions, as seen from this regression session.
-- (The TAP test 006_pools_sessions.pl drives 30 connections, lock waits
-- and connection limits; this file checks shapes, defaults and privacy.)

-- the names worker resolves a role or database the sampler has not seen
-- before within a sample or two: wait for this session's pool to be named
DO $$
BEGIN
  FOR i IN 1..100 LOOP
    PERFORM health.refresh();
    EXIT WHEN EXISTS (SELECT 1 FROM health.pools
                       WHERE datname = current_database() AND usename = current_user
                         AND application_name = current_setting('application_name'));
    PERFORM pg_sleep(0.05);
  END LOOP;
END $$;

-- Read this session's pool beside health.connections from the same sample
-- (the sampler may publish between two reads: retry until both match), a
-- sample taken while this statement runs, so this session is active in it.
CREATE FUNCTION pg_temp.my_pool_vs_server(
    OUT p health.pools, OUT c health.connections, OUT pools_total bigint) AS $$
DECLARE
  all_pools health.pools[];
BEGIN
  PERFORM health.refresh();
  FOR i IN 1..50 LOOP
    SELECT * INTO c FROM health.connections;
    SELECT array_agg(x) INTO all_pools FROM health.pools x;
    SELECT * INTO p FROM unnest(all_pools) x
     WHERE datname = current_database() AND usename = current_user
       AND application_name = current_setting('application_name');
    SELECT sum(sessions) INTO pools_total FROM unnest(all_pools);
    IF p.sampled_at = c.sampled_at THEN
      RETURN;
    END IF;
  END LOOP;
  RAISE EXCEPTION 'no two reads from the same sample';
END $$ LANGUAGE plpgsql;

-- this session's own pool: a superuser, so only the server's free slots
-- (reserved ones included) limit it
SELECT (p).sessions >= 1 AS has_me, (p).active >= 1 AS me_active,
       (p).folded_groups, (p).superuser, (p).datconnlimit, (p).rolconnlimit,
       (p).limited_by, (p).headroom = (c).slots_free AS headroom_is_free_slots,
       (p).database_connections >= (p).sessions AS db_counts_me,
       (p).role_connections >= (p).sessions AS role_counts_me,
       abs((p).slot_share_pct - 100.0 * (p).sessions / (c).usable_slots) < 1e-9 AS share
  FROM pg_temp.my_pool_vs_server();

-- pools add up to the server's client sessions of the same sample
SELECT pools_total = (c).client_backends AS pools_add_up
  FROM pg_temp.my_pool_vs_server();

-- this session, live: active, running this query, not blocked
SELECT state, classification, blocked_by, wait_event_type,
       datname = current_database() AS db, usename = current_user AS me,
       query LIKE '%health.sessions%' AS sees_own_query,
       state_age >= '0'::interval AND transaction_age >= '0'::interval
         AND query_age >= '0'::interval AS ages
  FROM health.sessions
 WHERE pid = pg_backend_pid();

-- privacy: a role granted the view sees the session's state, but not the
-- query text of a role it does not belong to (client addresses: TAP test)
CREATE ROLE ph_viewer;
GRANT SELECT ON health.sessions TO ph_viewer;
GRANT EXECUTE ON FUNCTION health.session_rows() TO ph_viewer;
SET ROLE ph_viewer;
SELECT state, classification, query IS NULL AS query_hidden,
       usename = session_user AS named
  FROM health.sessions
 WHERE pid = pg_backend_pid();
RESET ROLE;
REVOKE ALL ON health.sessions FROM ph_viewer;
REVOKE ALL ON FUNCTION health.session_rows() FROM ph_viewer;
DROP ROLE ph_viewer;
