-- Installation: the objects the extension creates, and where.
CREATE EXTENSION pg_health;

SELECT extversion, extrelocatable, extnamespace::regnamespace AS schema
  FROM pg_extension WHERE extname = 'pg_health';

-- every function, with its arguments, volatility and parallel safety
SELECT p.oid::regprocedure AS function, p.provolatile, p.proparallel,
       p.prorettype::regtype AS returns
  FROM pg_proc p
 WHERE p.pronamespace = 'health'::regnamespace
 ORDER BY p.oid::regprocedure::text;

SELECT c.relname, c.relkind
  FROM pg_class c
 WHERE c.relnamespace = 'health'::regnamespace
 ORDER BY 1;

-- the schema is fixed
ALTER EXTENSION pg_health SET SCHEMA public;

-- GUCs are registered under the reserved prefix, with their defaults
SELECT name, setting, unit, context
  FROM pg_settings WHERE name LIKE 'pg\_health.%' ORDER BY name;

-- for the tests that follow: the SQLSTATE a statement raises ('ok' if none)
CREATE FUNCTION public.ph_sqlstate_of(query text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE query;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE;
END $$;

-- the worker answers a refresh
SELECT health.refresh();
