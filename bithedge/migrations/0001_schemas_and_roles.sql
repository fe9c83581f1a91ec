-- Schemas and the four service roles. Roles are cluster-wide (created once, IF NOT EXISTS);
-- grants are per database. Passwords are not set here: on an external server the operator
-- sets them (ALTER ROLE ... PASSWORD), so no secret ever lives in a migration.

CREATE SCHEMA IF NOT EXISTS raw;
CREATE SCHEMA IF NOT EXISTS keeper;
CREATE SCHEMA IF NOT EXISTS analytics;

DO $$
DECLARE r text;
BEGIN
  FOREACH r IN ARRAY ARRAY['bithedge_indexer', 'bithedge_transform', 'bithedge_keeper', 'bithedge_reader'] LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
      EXECUTE format('CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE', r);
    END IF;
  END LOOP;
END $$;

-- Database-level grants live in a function because CREATE DATABASE ... TEMPLATE does not copy
-- a database's ACL: a clone (tests do this) calls it again.
CREATE OR REPLACE FUNCTION public.bithedge_database_grants() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  -- Temporary tables are writes too: only the writing services get them (dbt needs them for incremental models).
  EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
  EXECUTE format('GRANT CONNECT ON DATABASE %I TO bithedge_indexer, bithedge_transform, bithedge_keeper, bithedge_reader',
                 current_database());
  EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO bithedge_indexer, bithedge_transform, bithedge_keeper',
                 current_database());
  -- dbt creates its own schemas (staging, intermediate, marts) next to analytics.
  EXECUTE format('GRANT CREATE ON DATABASE %I TO bithedge_transform', current_database());
END $$;
SELECT public.bithedge_database_grants();

REVOKE CREATE ON SCHEMA public FROM PUBLIC;
REVOKE ALL ON SCHEMA raw, keeper, analytics FROM PUBLIC;

-- raw: written by the indexer, read by the transforms.
GRANT USAGE ON SCHEMA raw TO bithedge_indexer;
GRANT USAGE ON SCHEMA raw TO bithedge_transform;
GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA raw TO bithedge_indexer;
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA raw TO bithedge_indexer;
GRANT SELECT ON ALL TABLES IN SCHEMA raw TO bithedge_transform;
ALTER DEFAULT PRIVILEGES IN SCHEMA raw GRANT SELECT, INSERT, UPDATE ON TABLES TO bithedge_indexer;
ALTER DEFAULT PRIVILEGES IN SCHEMA raw GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO bithedge_indexer;
ALTER DEFAULT PRIVILEGES IN SCHEMA raw GRANT SELECT ON TABLES TO bithedge_transform;

-- analytics: built by the transforms, read by the keeper and downstream apps.
GRANT USAGE, CREATE ON SCHEMA analytics TO bithedge_transform;
GRANT USAGE ON SCHEMA analytics TO bithedge_keeper, bithedge_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA analytics TO bithedge_keeper, bithedge_reader;
ALTER DEFAULT PRIVILEGES IN SCHEMA analytics GRANT SELECT ON TABLES TO bithedge_keeper, bithedge_reader;
ALTER DEFAULT PRIVILEGES FOR ROLE bithedge_transform IN SCHEMA analytics
  GRANT SELECT ON TABLES TO bithedge_keeper, bithedge_reader;

-- keeper: the keeper's own state (submitted transactions, nonces).
GRANT USAGE ON SCHEMA keeper TO bithedge_keeper;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA keeper TO bithedge_keeper;
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA keeper TO bithedge_keeper;
ALTER DEFAULT PRIVILEGES IN SCHEMA keeper GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO bithedge_keeper;
ALTER DEFAULT PRIVILEGES IN SCHEMA keeper GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO bithedge_keeper;
REVOKE EXECUTE ON FUNCTION public.bithedge_database_grants() FROM PUBLIC;
