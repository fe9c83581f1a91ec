-- Issue 15: the dashboards' login sessions (dashboards/auth.py) live in the database instead of the process, so an
-- analyst stays logged in across a restart of the dashboards and on any of their processes. A row holds the
-- SHA-256 of the session token the browser's cookie carries (never the token), the credential the login was
-- made with (its lookup prefix and digest, as api.keys and notify.sessions hold them) and the expiry.
--
-- bithedge_reader (the dashboards' role) gets no privilege on the table: it may only EXECUTE the three functions
-- below, which run as bithedge_dashboards_sessions, a NOLOGIN role that may read and write just this table.
-- Knowing a session's token is the only way to its row, so a reader without one learns nothing. The session
-- answers with its credential, which the dashboards check on every request through
-- public.bithedge_credential(prefix, digest) (0015, which this file precedes but never calls): a key revoked or
-- expired is refused on the next request and its session deleted then.

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'bithedge_dashboards_sessions') THEN
    CREATE ROLE bithedge_dashboards_sessions NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;
  END IF;
END $$;

CREATE SCHEMA IF NOT EXISTS dashboards;
REVOKE ALL ON SCHEMA dashboards FROM PUBLIC;
GRANT USAGE ON SCHEMA dashboards TO bithedge_dashboards_sessions;

CREATE TABLE dashboards.sessions (
    digest      bytea PRIMARY KEY CHECK (length(digest) = 32),
    key_prefix  text NOT NULL,
    key_digest  bytea NOT NULL CHECK (length(key_digest) = 32),
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL
);
CREATE INDEX sessions_key_prefix ON dashboards.sessions (key_prefix);
CREATE INDEX sessions_expires_at ON dashboards.sessions (expires_at);
GRANT SELECT, INSERT, DELETE ON dashboards.sessions TO bithedge_dashboards_sessions;

-- A login: the new session (lapsed ones are dropped on the way, so the table holds live sessions only).
CREATE FUNCTION public.bithedge_dashboards_session_start(p_digest bytea, p_key_prefix text, p_key_digest bytea,
                                                         p_ttl_s integer)
RETURNS void LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
  DELETE FROM dashboards.sessions WHERE expires_at <= now();
  INSERT INTO dashboards.sessions (digest, key_prefix, key_digest, expires_at)
  VALUES (p_digest, p_key_prefix, p_key_digest, now() + make_interval(secs => p_ttl_s));
$$;

-- Every request: the live session of this token digest and the credential it was opened with (no row: none).
CREATE FUNCTION public.bithedge_dashboards_session(p_digest bytea)
RETURNS TABLE (key_prefix text, key_digest bytea, expires_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT s.key_prefix, s.key_digest, s.expires_at FROM dashboards.sessions s
   WHERE s.digest = p_digest AND s.expires_at > now()
$$;

-- Logout, or a credential refused on a request.
CREATE FUNCTION public.bithedge_dashboards_session_end(p_digest bytea)
RETURNS void LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
  DELETE FROM dashboards.sessions WHERE digest = p_digest;
$$;

ALTER FUNCTION public.bithedge_dashboards_session_start(bytea, text, bytea, integer) OWNER TO bithedge_dashboards_sessions;
ALTER FUNCTION public.bithedge_dashboards_session(bytea) OWNER TO bithedge_dashboards_sessions;
ALTER FUNCTION public.bithedge_dashboards_session_end(bytea) OWNER TO bithedge_dashboards_sessions;
REVOKE ALL ON FUNCTION public.bithedge_dashboards_session_start(bytea, text, bytea, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION public.bithedge_dashboards_session(bytea) FROM PUBLIC;
REVOKE ALL ON FUNCTION public.bithedge_dashboards_session_end(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.bithedge_dashboards_session_start(bytea, text, bytea, integer) TO bithedge_reader;
GRANT EXECUTE ON FUNCTION public.bithedge_dashboards_session(bytea) TO bithedge_reader;
GRANT EXECUTE ON FUNCTION public.bithedge_dashboards_session_end(bytea) TO bithedge_reader;
