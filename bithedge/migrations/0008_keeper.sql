-- Keeper (issue 13, keeper/): the signer's nonce ledger, every transaction it signs (stored signed before it is
-- broadcast), settlement intents (exactly once), oracle price rounds, an append-only audit trail and alerts.
-- bithedge_keeper writes them (default privileges of 0001); bithedge_transform reads them for the dbt models.

CREATE TABLE IF NOT EXISTS keeper.signers (
    address       text PRIMARY KEY,
    label         text NOT NULL,                  -- what the key signs: oracle | settler
    next_nonce    bigint NOT NULL CHECK (next_nonce >= 0),   -- the next nonce this ledger hands out
    node_nonce    bigint,                          -- the node's possible_next_nonce at the last reconcile
    reconciled_at timestamptz,
    paused        boolean NOT NULL DEFAULT false,  -- NotEnoughFunds: nothing is signed until it is funded
    paused_reason text,
    balance       numeric,                         -- µSTX at the last check
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS keeper.intents (
    id               bigserial PRIMARY KEY,
    kind             text NOT NULL CHECK (kind IN ('settle', 'void')),
    expiry           bigint NOT NULL,
    policy_ids       bigint[] NOT NULL CHECK (cardinality(policy_ids) > 0),
    btc_price_height bigint,
    stx_price_height bigint,
    -- sent: a transaction carries it; done: its results are read; retry: it may be sent again (same ids)
    status           text NOT NULL CHECK (status IN ('sent', 'done', 'retry')),
    attempts         integer NOT NULL DEFAULT 1,
    results          jsonb,                        -- per policy id: {"outcome": settled|closed|retry, "code"|"payout"}
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (kind, expiry, policy_ids)
);

CREATE TABLE IF NOT EXISTS keeper.transactions (
    id                      bigserial PRIMARY KEY,
    address                 text NOT NULL REFERENCES keeper.signers (address),
    nonce                   bigint NOT NULL CHECK (nonce >= 0),
    kind                    text NOT NULL,           -- submit-price | settle-expired | void-policy | nonce-fill
    intent_id               bigint REFERENCES keeper.intents (id),
    contract_id             text,                    -- NULL for a nonce-fill STX transfer
    function_name           text,
    function_args           jsonb NOT NULL DEFAULT '[]',  -- typed Clarity JSON (stacks/README.md)
    fee                     bigint NOT NULL CHECK (fee > 0),
    txid                    text NOT NULL UNIQUE,     -- the current signed version (0x hex)
    earlier_txids           text[] NOT NULL DEFAULT '{}',  -- versions replaced by a fee bump
    raw_tx                  bytea NOT NULL,           -- the signed transaction: public once broadcast
    status                  text NOT NULL CHECK (status IN ('signed', 'pending', 'confirmed', 'superseded')),
    tx_status               text,                     -- success | abort_by_response | abort_by_post_condition
    result                  jsonb,                    -- typed Clarity JSON of the result
    error                   text,                     -- the node's last rejection reason
    bumps                   integer NOT NULL DEFAULT 0,
    created_at              timestamptz NOT NULL DEFAULT now(),
    broadcast_at            timestamptz,
    first_sent_stacks_height bigint,                  -- Stacks tip at the first broadcast (tx-stuck alert)
    sent_stacks_height      bigint,                   -- Stacks tip when this version was (re)broadcast (fee bump)
    confirmed_txid          text,
    confirmed_block_hash    text,                     -- index block hash of the confirming block (reorg check)
    confirmed_stacks_height bigint,
    confirmed_burn_height   bigint,
    confirmed_at            timestamptz,
    UNIQUE (address, nonce)
);
CREATE INDEX IF NOT EXISTS transactions_open ON keeper.transactions (address, nonce) WHERE status IN ('signed', 'pending');

CREATE TABLE IF NOT EXISTS keeper.price_rounds (
    id             bigserial PRIMARY KEY,
    asset          text NOT NULL,
    at             timestamptz NOT NULL,
    burn_height    bigint NOT NULL,
    stacks_height  bigint NOT NULL,
    median         bigint,                         -- USD×1e8; NULL without quorum
    quorum         boolean NOT NULL,
    reason         text,
    quotes         jsonb NOT NULL,                 -- per source: price, raw, age, latency, status, why excluded
    onchain_price  bigint,
    onchain_height bigint,
    decision       text NOT NULL,                  -- publish | hold | blocked | dry-run
    decision_reason text,
    published_price bigint,
    txid           text
);
CREATE INDEX IF NOT EXISTS price_rounds_asset_at ON keeper.price_rounds (asset, at);

CREATE TABLE IF NOT EXISTS keeper.audit (
    id        bigserial PRIMARY KEY,
    at        timestamptz NOT NULL DEFAULT now(),
    kind      text NOT NULL,                       -- decision | sign | broadcast | bump | confirm | result | ...
    signer    text,
    txid      text,
    intent_id bigint,
    inputs    jsonb NOT NULL DEFAULT '{}',
    outcome   text
);

CREATE TABLE IF NOT EXISTS keeper.alerts (
    id          bigserial PRIMARY KEY,
    kind        text NOT NULL,   -- quorum-lost | oracle-stale | guard-blocks | settlement-lag | balance-low | tx-stuck | ...
    subject     text NOT NULL,   -- what it is about: an asset, an expiry, a signer, a txid
    message     text NOT NULL,
    details     jsonb NOT NULL DEFAULT '{}',
    raised_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    resolved_at timestamptz
);
-- one open alert per (kind, subject): a condition that persists updates last_seen_at
CREATE UNIQUE INDEX IF NOT EXISTS alerts_open ON keeper.alerts (kind, subject) WHERE resolved_at IS NULL;

-- The audit trail is append-only for every role, the owner included: no UPDATE, DELETE or TRUNCATE privilege,
-- and a trigger that refuses them anyway (a superuser bypasses privileges, not triggers).
REVOKE UPDATE, DELETE, TRUNCATE ON keeper.audit FROM PUBLIC, bithedge_indexer, bithedge_transform, bithedge_keeper,
    bithedge_reader;
REVOKE UPDATE, DELETE, TRUNCATE ON keeper.audit FROM CURRENT_USER;
CREATE OR REPLACE FUNCTION keeper.audit_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'keeper.audit is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
DROP TRIGGER IF EXISTS audit_append_only ON keeper.audit;
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON keeper.audit
    FOR EACH ROW EXECUTE FUNCTION keeper.audit_is_append_only();
DROP TRIGGER IF EXISTS audit_no_truncate ON keeper.audit;
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON keeper.audit
    FOR EACH STATEMENT EXECUTE FUNCTION keeper.audit_is_append_only();

-- The transforms read the keeper's tables for analytics.oracle_sources, keeper_transactions and alerts.
GRANT USAGE ON SCHEMA keeper TO bithedge_transform;
GRANT SELECT ON keeper.signers, keeper.intents, keeper.transactions, keeper.price_rounds, keeper.audit,
    keeper.alerts TO bithedge_transform;
