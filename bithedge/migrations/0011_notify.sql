-- notify: users by wallet, sessions, channels, subscriptions, and the delivery outbox (notify/README.md).
-- The API (bithedge_api) writes the user-facing tables; the worker (bithedge_notify) reads analytics, writes facts,
-- the outbox, the attempt log and in-app notifications. The worker's role as 0001 creates roles (IF NOT EXISTS, no password); bithedge_api comes from 0009.

CREATE SCHEMA IF NOT EXISTS notify;

DO $$
DECLARE r text;
BEGIN
  FOREACH r IN ARRAY ARRAY['bithedge_notify'] LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
      EXECUTE format('CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE', r);
    END IF;
  END LOOP;
END $$;

CREATE TABLE notify.users (
  user_id bigserial PRIMARY KEY,
  display_name text CHECK (length(display_name) <= 100),
  email text CHECK (length(email) <= 254),
  is_admin boolean NOT NULL DEFAULT false,
  -- NULL: the server's BITHEDGE_NOTIFY_RATE_LIMIT_PER_HOUR
  rate_limit_per_hour integer CHECK (rate_limit_per_hour > 0),
  created_at timestamptz NOT NULL DEFAULT now()
);

-- One user, one or more wallet addresses (canonical c32 text); an address belongs to one user.
CREATE TABLE notify.user_addresses (
  address text PRIMARY KEY,
  user_id bigint NOT NULL REFERENCES notify.users ON DELETE CASCADE,
  added_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX user_addresses_user ON notify.user_addresses (user_id);

-- A SIP-018 sign-in message the server issued: used once, before it expires (the nonce is the replay key,
-- never the signature bytes). link_user_id: a signed-in user adding this address.
CREATE TABLE notify.signin_challenges (
  nonce text PRIMARY KEY,
  address text NOT NULL,
  chain_id bigint NOT NULL,
  domain_hex text NOT NULL,
  message_hex text NOT NULL,
  link_user_id bigint REFERENCES notify.users ON DELETE CASCADE,
  issued_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  used_at timestamptz
);
CREATE INDEX signin_challenges_expiry ON notify.signin_challenges (expires_at);

-- Session tokens and user API keys: only the prefix (lookup) and the sha256 of the whole token are kept.
CREATE TABLE notify.sessions (
  session_id bigserial PRIMARY KEY,
  user_id bigint NOT NULL REFERENCES notify.users ON DELETE CASCADE,
  kind text NOT NULL CHECK (kind IN ('session', 'api_key')),
  label text CHECK (length(label) <= 100),
  prefix text NOT NULL UNIQUE,
  digest bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  revoked_at timestamptz,
  last_used_at timestamptz
);
CREATE INDEX sessions_user ON notify.sessions (user_id);

CREATE TABLE notify.channels (
  channel_id bigserial PRIMARY KEY,
  user_id bigint NOT NULL REFERENCES notify.users ON DELETE CASCADE,
  kind text NOT NULL CHECK (kind IN ('webhook', 'email', 'in_app')),
  target text NOT NULL DEFAULT '' CHECK (length(target) <= 2048),
  -- webhook signing secret: AES-256-GCM nonce ‖ ciphertext under BITHEDGE_NOTIFY_SECRET_KEY
  secret_enc bytea,
  -- the verification code sent in the test message: sha256 only
  verify_digest bytea,
  verify_expires_at timestamptz,
  verified_at timestamptz,
  disabled_at timestamptz,
  -- optional {"subject": …, "text": …} with $placeholders (notify.templates); bounded in size
  template jsonb CHECK (length(template::text) <= 8192),
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (user_id, kind, target)
);

CREATE TABLE notify.subscriptions (
  subscription_id bigserial PRIMARY KEY,
  user_id bigint NOT NULL REFERENCES notify.users ON DELETE CASCADE,
  channel_id bigint NOT NULL REFERENCES notify.channels ON DELETE CASCADE,
  kind text NOT NULL CHECK (kind IN ('policy_created', 'policy_expiring', 'policy_settled', 'policy_voided',
                                     'pool_coverage_low', 'proposal_created', 'proposal_voting_ending',
                                     'proposal_executed', 'price_crossing', 'operator_alert')),
  params jsonb NOT NULL DEFAULT '{}',
  -- canonical text of params (notify.kinds.param_key): facts carry the same key
  param_key text NOT NULL DEFAULT '',
  digest boolean NOT NULL DEFAULT false,
  enabled boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (user_id, channel_id, kind, param_key)
);
CREATE INDEX subscriptions_match ON notify.subscriptions (kind, param_key) WHERE enabled;

-- A triggering fact seen in analytics. fact_key is stable across rebuilds and reorgs of the same transaction
-- (it names txids, not heights); removed_at: no longer in analytics (a reorg took it away).
CREATE TABLE notify.facts (
  fact_key text PRIMARY KEY,
  kind text NOT NULL,
  param_key text NOT NULL DEFAULT '',
  audience text NOT NULL CHECK (audience IN ('owner', 'provider', 'all', 'admin')),
  owner text,
  pool_token text,
  pool_tier text,
  burn_height bigint NOT NULL,
  payload jsonb NOT NULL,
  first_seen_at timestamptz NOT NULL DEFAULT now(),
  decided_at timestamptz,
  removed_at timestamptz
);
CREATE INDEX facts_undecided ON notify.facts (burn_height) WHERE decided_at IS NULL AND removed_at IS NULL;
CREATE INDEX facts_kind ON notify.facts (kind) WHERE removed_at IS NULL;

-- The worker's first scan: facts that exist then are history, recorded as decided (one row, ever).
CREATE TABLE notify.scan_state (
  only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
  baseline_at timestamptz NOT NULL DEFAULT now(),
  baseline_burn_height bigint NOT NULL
);

-- Threshold conditions (pool coverage below a level): each time one starts to hold is a new episode, a new fact.
CREATE TABLE notify.conditions (
  condition_key text PRIMARY KEY,
  holding boolean NOT NULL,
  episode integer NOT NULL,
  changed_at timestamptz NOT NULL DEFAULT now()
);

-- One row per (subscription, fact, purpose): dedupe_key is unique and the row is written in the transaction
-- that decides to notify; delivery_id is derived from it, so every resend carries the same id.
CREATE TABLE notify.outbox (
  delivery_id uuid PRIMARY KEY,
  dedupe_key text NOT NULL UNIQUE,
  purpose text NOT NULL CHECK (purpose IN ('notify', 'correction', 'verification', 'digest')),
  subscription_id bigint REFERENCES notify.subscriptions ON DELETE SET NULL,
  fact_key text REFERENCES notify.facts,
  user_id bigint NOT NULL REFERENCES notify.users ON DELETE CASCADE,
  channel_id bigint NOT NULL REFERENCES notify.channels ON DELETE CASCADE,
  status text NOT NULL DEFAULT 'queued'
    CHECK (status IN ('queued', 'held', 'sent', 'dead', 'cancelled', 'digested')),
  payload jsonb NOT NULL,
  digest_id uuid,
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  created_at timestamptz NOT NULL DEFAULT now(),
  visible_at timestamptz,
  sent_at timestamptz,
  last_error text
);
CREATE INDEX outbox_due ON notify.outbox (next_attempt_at) WHERE status = 'queued';
CREATE INDEX outbox_fact ON notify.outbox (fact_key);
CREATE INDEX outbox_user_sent ON notify.outbox (user_id, sent_at) WHERE status = 'sent';
CREATE INDEX outbox_held ON notify.outbox (user_id, channel_id) WHERE status = 'held';

-- Every attempt: 'started' when the request goes out; a worker killed mid-request leaves it, and the next start
-- marks it 'interrupted'. At most one 'sent' per delivery id.
CREATE TABLE notify.delivery_attempts (
  attempt_id bigserial PRIMARY KEY,
  delivery_id uuid NOT NULL REFERENCES notify.outbox ON DELETE CASCADE,
  attempt integer NOT NULL,
  started_at timestamptz NOT NULL DEFAULT now(),
  status text NOT NULL CHECK (status IN ('started', 'sent', 'failed', 'interrupted')),
  http_status integer,
  latency_ms double precision,
  error text,
  UNIQUE (delivery_id, attempt)
);
CREATE UNIQUE INDEX delivery_attempts_one_success ON notify.delivery_attempts (delivery_id) WHERE status = 'sent';

CREATE TABLE notify.in_app (
  notification_id bigserial PRIMARY KEY,
  delivery_id uuid NOT NULL UNIQUE REFERENCES notify.outbox ON DELETE CASCADE,
  user_id bigint NOT NULL REFERENCES notify.users ON DELETE CASCADE,
  title text NOT NULL,
  body text NOT NULL,
  payload jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  read_at timestamptz,
  archived_at timestamptz
);
CREATE INDEX in_app_user ON notify.in_app (user_id, notification_id DESC) WHERE archived_at IS NULL;

REVOKE ALL ON SCHEMA notify FROM PUBLIC;
GRANT USAGE ON SCHEMA notify TO bithedge_notify, bithedge_api;

-- The API: users, sign-in, sessions, channels, subscriptions; verification messages into the outbox; the
-- in-app list (mark read, archive); delivery logs read-only.
GRANT SELECT, INSERT, UPDATE, DELETE ON notify.users, notify.user_addresses, notify.signin_challenges,
  notify.sessions, notify.channels, notify.subscriptions TO bithedge_api;
GRANT SELECT, INSERT ON notify.outbox TO bithedge_api;
GRANT SELECT, UPDATE ON notify.in_app TO bithedge_api;
GRANT SELECT ON notify.facts, notify.delivery_attempts TO bithedge_api;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA notify TO bithedge_api;

-- The worker: reads who wants what, writes what happened.
GRANT SELECT ON notify.users, notify.user_addresses, notify.subscriptions TO bithedge_notify;
GRANT SELECT, UPDATE ON notify.channels TO bithedge_notify;
GRANT SELECT, INSERT, UPDATE ON notify.facts, notify.conditions, notify.scan_state, notify.outbox, notify.delivery_attempts,
  notify.in_app TO bithedge_notify;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA notify TO bithedge_notify;

-- The worker reads the analytics interface (views the transforms build later get the grant by default).
GRANT USAGE ON SCHEMA analytics TO bithedge_notify;
GRANT SELECT ON ALL TABLES IN SCHEMA analytics TO bithedge_notify;
ALTER DEFAULT PRIVILEGES IN SCHEMA analytics GRANT SELECT ON TABLES TO bithedge_notify;
ALTER DEFAULT PRIVILEGES FOR ROLE bithedge_transform IN SCHEMA analytics GRANT SELECT ON TABLES TO bithedge_notify;
