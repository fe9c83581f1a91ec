-- Issue 14: the API keeps the keys it has checked in its processes and forgets them when api.keys changes.
-- Every change that can refuse or narrow a key (revocation, expiry, scopes, rate, digest, removal) notifies
-- `bithedge_api_keys` with the key's prefix; the API's pool connections LISTEN on it, so a connection's next
-- query answer carries every change committed before it was sent (api/auth.py: KeyCache). `last_used_at`
-- writes do not notify (they change nothing a request is checked against).

CREATE OR REPLACE FUNCTION api.keys_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_LEVEL = 'STATEMENT' THEN
    PERFORM pg_notify('bithedge_api_keys', '');
  ELSE
    PERFORM pg_notify('bithedge_api_keys', OLD.prefix);
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER keys_changed AFTER UPDATE OF prefix, digest, scopes, rate_per_s, expires_at, revoked_at OR DELETE
  ON api.keys FOR EACH ROW EXECUTE FUNCTION api.keys_changed();
CREATE TRIGGER keys_truncated AFTER TRUNCATE ON api.keys FOR EACH STATEMENT EXECUTE FUNCTION api.keys_changed();
