-- The shape of every view: column names and types, in order.
SELECT table_name, ordinal_position AS pos, column_name, data_type
  FROM information_schema.columns
 WHERE table_schema = 'health'
 ORDER BY table_name, ordinal_position;

-- the views are thin wrappers: the same rows as their functions
SELECT (SELECT count(*) FROM health.checks) = (SELECT count(*) FROM health.checks()) AS checks_same,
       (SELECT count(*) FROM health.status) = 1 AS one_status_row,
       (SELECT count(*) FROM health.connections) = 1 AS one_connections_row;
