-- API (issue 14, api/): the bithedge_api role and its own schema (keys, audit). The API reads what a downstream
-- reader reads (analytics views and functions, through membership of bithedge_reader, so later grants to the
-- reader reach it too) and writes only the api schema. Route modules add their tables here by later migrations
-- (0010: quotes); each grants the transform role SELECT on the tables it models (never api.keys).

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'bithedge_api') THEN
    CREATE ROLE bithedge_api LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;
  END IF;
END $$;
GRANT bithedge_reader TO bithedge_api;

CREATE SCHEMA IF NOT EXISTS api;
REVOKE ALL ON SCHEMA api FROM PUBLIC;
GRANT USAGE ON SCHEMA api TO bithedge_api, bithedge_transform;
ALTER DEFAULT PRIVILEGES IN SCHEMA api GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO bithedge_api;
ALTER DEFAULT PRIVILEGES IN SCHEMA api GRANT USAGE, SELECT ON SEQUENCES TO bithedge_api;

-- One row per key: the prefix finds it, the SHA-256 of the whole key proves it (the key itself is never stored).
CREATE TABLE api.keys (
    id           bigserial PRIMARY KEY,
    prefix       text NOT NULL UNIQUE CHECK (prefix ~ '^[0-9a-f]{12}$'),
    digest       bytea NOT NULL CHECK (length(digest) = 32),
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    scopes       text[] NOT NULL CHECK (cardinality(scopes) > 0 AND scopes <@ ARRAY['read', 'quote', 'admin']),
    rate_per_s   double precision CHECK (rate_per_s > 0),
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz,
    revoked_at   timestamptz,
    last_used_at timestamptz
);

-- Every quote and admin action, and every key created or revoked: append-only for the API.
CREATE TABLE api.audit (
    id      bigserial PRIMARY KEY,
    at      timestamptz NOT NULL DEFAULT now(),
    key_id  bigint REFERENCES api.keys (id),
    actor   text NOT NULL,
    action  text NOT NULL,
    status  integer,
    detail  jsonb NOT NULL DEFAULT '{}',
    remote  text
);
CREATE INDEX audit_key_at ON api.audit (key_id, at);
REVOKE UPDATE, DELETE ON api.audit FROM bithedge_api;
