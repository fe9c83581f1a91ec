-- The dashboards' login (dashboards/auth.py) checks the API's keys (api.keys, 0009) and the notify users'
-- sessions and keys (notify.sessions, 0011) without a second user store, and without letting bithedge_reader read
-- a digest: one SECURITY DEFINER function answers "is this (prefix, sha256 of the presented key) a credential,
-- and what may it do". It runs as bithedge_credential_check, a NOLOGIN role that may read only the columns the
-- answer needs; the reader may only EXECUTE it. It returns a row only when the digest matches, so a caller that
-- does not hold the key learns nothing about a prefix.

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'bithedge_credential_check') THEN
    CREATE ROLE bithedge_credential_check NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;
  END IF;
END $$;

GRANT USAGE ON SCHEMA api, notify TO bithedge_credential_check;
GRANT SELECT (prefix, digest, scopes, expires_at, revoked_at) ON api.keys TO bithedge_credential_check;
GRANT SELECT (user_id, kind, prefix, digest, expires_at, revoked_at) ON notify.sessions TO bithedge_credential_check;
GRANT SELECT (user_id, is_admin) ON notify.users TO bithedge_credential_check;

-- source: 'api' (an api.keys key: its scopes) or 'notify' (a wallet user's session or key: read and admin for an
-- admin user, no scope otherwise: anyone with a wallet can sign in, so a plain user's session opens nothing).
-- state: 'active', 'revoked' or 'expired', checked at the moment of the call (the dashboards call it on every
-- request, so a revocation or expiry takes effect on the next one).
CREATE FUNCTION public.bithedge_credential(p_prefix text, p_digest bytea)
RETURNS TABLE (source text, scopes text[], expires_at timestamptz, state text)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT 'api', k.scopes, k.expires_at,
         CASE WHEN k.revoked_at IS NOT NULL THEN 'revoked'
              WHEN k.expires_at IS NOT NULL AND k.expires_at <= now() THEN 'expired' ELSE 'active' END
    FROM api.keys k
   WHERE k.prefix = p_prefix AND k.digest = p_digest
  UNION ALL
  SELECT 'notify', CASE WHEN u.is_admin THEN ARRAY['read', 'admin'] ELSE ARRAY[]::text[] END, s.expires_at,
         CASE WHEN s.revoked_at IS NOT NULL THEN 'revoked' WHEN s.expires_at <= now() THEN 'expired' ELSE 'active' END
    FROM notify.sessions s JOIN notify.users u USING (user_id)
   WHERE s.prefix = p_prefix AND s.digest = p_digest
$$;

ALTER FUNCTION public.bithedge_credential(text, bytea) OWNER TO bithedge_credential_check;
REVOKE ALL ON FUNCTION public.bithedge_credential(text, bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.bithedge_credential(text, bytea) TO bithedge_reader;
