-- The verdict on an idle, healthy primary.
SELECT health.refresh();

SELECT health.live(), health.ready(), health.started(),
       health.ready('primary') AS ready_primary,
       health.ready('replica') AS ready_replica,
       health.ready(NULL) AS ready_either;

SELECT status, ready, live, started, role, in_recovery,
       worker_pid IS NOT NULL AS worker_running,
       generation > 0 AS sampled,
       sample_age < interval '5 s' AS fresh,
       sample_duration < interval '1 s' AS quick,
       shmem_initialized_at <= server_started_at + interval '10 s' AS no_crash_restart,
       started_at >= server_started_at AS started_after_start
  FROM health.status;

-- one row per check, all ok; the role row follows the requested role
SELECT name, status,
       value IS NOT NULL AS has_value,
       detail <> '' AS has_detail,
       since <= now() AS since_past
  FROM health.checks ORDER BY name;

SELECT name, status, detail
  FROM health.checks('replica') WHERE status <> 'ok';

SELECT name, status, detail
  FROM health.checks('primary') WHERE name = 'role';

-- thresholds come from the GUCs (NULL when off)
SELECT name, warning_threshold, critical_threshold
  FROM health.checks WHERE name <> 'role' ORDER BY name;

-- the report: one document with the verdict, its reasons and the figures
SELECT jsonb_object_keys(health.report()) AS key ORDER BY 1;

SELECT r->>'status' AS status, r->'ready' AS ready, r->'live' AS live,
       r->'started' AS started, r->>'role' AS role, r->'requested_role' AS requested,
       jsonb_array_length(r->'checks') AS checks,
       jsonb_typeof(r->'connections') AS connections,
       r->'components' AS components,
       (r->>'sample_age_ms')::int BETWEEN 0 AND 5000 AS fresh
  FROM health.report() AS r;

SELECT r->>'status' AS status, r->'ready' AS ready, r->>'requested_role' AS requested,
       (SELECT c->>'detail' FROM jsonb_array_elements(r->'checks') c
         WHERE c->>'status' = 'critical') AS reason
  FROM health.report('replica') AS r;

-- report and checks agree on every check's status
SELECT count(*) AS disagreements
  FROM health.checks c
  JOIN jsonb_array_elements(health.report()->'checks') j ON j->>'name' = c.name
 WHERE j->>'status' <> c.status;

-- slot accounting follows the server's settings, in a sample taken while
-- this statement runs (so this session is in it, active)
CREATE FUNCTION pg_temp.fresh_connections() RETURNS SETOF health.connections AS $$
BEGIN
  PERFORM health.refresh();
  RETURN QUERY SELECT * FROM health.connections;
END $$ LANGUAGE plpgsql;
SELECT max_connections = current_setting('max_connections')::int AS max_ok,
       superuser_reserved_connections = current_setting('superuser_reserved_connections')::int AS reserved_ok,
       usable_slots = max_connections - superuser_reserved_connections
                      - coalesce(reserved_connections, 0) AS usable_ok,
       slots_used + slots_free = max_connections AS slots_add_up,
       available_to_ordinary_roles = greatest(slots_free - superuser_reserved_connections
                      - coalesce(reserved_connections, 0), 0) AS available_ok,
       client_backends >= 1 AS sees_us,
       active >= 1 AS we_are_active,
       client_backends = active + idle + idle_in_transaction + idle_in_transaction_aborted
                         + fastpath + disabled + starting AS states_add_up,
       utilization_pct BETWEEN 0 AND 100 AS pct_ok,
       other_processes >= 1 AS sees_auxiliary
  FROM pg_temp.fresh_connections();

-- turned-away connections: none here, and our own connection counted
SELECT connections_authenticated >= 1 AS counts_us, refused_no_slots,
       authentication_failures, refusals_in_window, last_refusal_at IS NULL AS never_refused
  FROM health.connections;

-- history grows with every regular sample; the first event is the way out
-- of "unknown" (history and status are two reads: the sampler may publish
-- between them, and a sample health.refresh() asked for has no history
-- entry, so the newest entry is compared with the current generation until
-- a pair of reads comes from one regular sample: within an interval)
CREATE FUNCTION pg_temp.newest_is_current() RETURNS boolean AS $$
BEGIN
  FOR i IN 1..100 LOOP
    IF (SELECT max(generation) FROM health.history) = (SELECT generation FROM health.status) THEN
      RETURN true;
    END IF;
    PERFORM pg_sleep(0.02);
  END LOOP;
  RETURN false;
END $$ LANGUAGE plpgsql;
SELECT health.refresh();
SELECT count(*) >= 2 AS has_history,
       bool_and(sample_duration < interval '1 s') AS quick,
       pg_temp.newest_is_current() AS newest_is_current
  FROM health.history;

-- (the first sample may come before or after the server is consistent)
SELECT old_status, new_status IN ('starting', 'ready') AS to_starting_or_ready
  FROM health.events ORDER BY generation LIMIT 1;
SELECT new_status FROM health.events ORDER BY generation DESC LIMIT 1;

-- replication on a primary: the checks describe it, limits of one call do
-- not apply (they judge a standby), health.replication has no standby yet
SELECT name, status, detail FROM health.checks
 WHERE name IN ('replication', 'sync_standbys', 'replication_slots') ORDER BY 1;
SELECT health.ready(NULL, 0, '0 s') AS ready_with_zero_limits,
       health.ready('replica', 0) AS replica;
SELECT count(*) AS standbys FROM health.replication;
SELECT r->'replication'->>'server' AS server, r->'replication'->'standbys' AS standbys,
       r->'replication'->'slots' AS slots
  FROM health.report() AS r;
