-- Signed premium quotes (issue 14, api/quotes.py): one row per quote, written before its signature is returned,
-- so every quote id the signer ever signed is known and never reused. The transforms read it
-- (transforms/project/models/api/: analytics.quote_conversion, analytics.pricing_model_performance).

-- The api schema and the bithedge_api role come from 0009.

-- Quote ids are one namespace per registry (contracts/README.md, I-5). This service's ids start at 2^48; lower
-- ids stay free for other signers (the simulator's locally signed quotes use ids below 2^41).
CREATE SEQUENCE IF NOT EXISTS api.quote_ids AS bigint START WITH 281474976710656 MINVALUE 281474976710656;

CREATE TABLE IF NOT EXISTS api.quotes (
    quote_id bigint PRIMARY KEY,
    created_at timestamptz NOT NULL DEFAULT now(),
    -- the signed tuple (contracts/README.md, Quotes): prices USD×1e8, amount sats, premium in token base units,
    -- heights burn heights
    chain_id bigint NOT NULL,
    registry text NOT NULL,
    buyer text NOT NULL,
    token text NOT NULL,
    buyer_tier text NOT NULL,
    pool_tier text NOT NULL,
    strike numeric NOT NULL,
    amount numeric NOT NULL,
    expiry bigint NOT NULL,
    premium numeric NOT NULL CHECK (premium > 0),
    issued_at bigint NOT NULL,
    spot numeric NOT NULL,
    valid_until bigint NOT NULL CHECK (valid_until >= issued_at),
    -- what the buyer is shown beside it (policy-terms at the quote's prices), token base units / USD×1e8
    collateral_price numeric NOT NULL,
    max_payout numeric NOT NULL,
    collateral numeric NOT NULL,
    min_premium numeric NOT NULL,
    max_premium numeric NOT NULL,
    -- the signature (65 bytes r ‖ s ‖ recovery-id) over digest = sha256(consensus serialization of the tuple)
    signer text NOT NULL,
    digest bytea NOT NULL CHECK (length(digest) = 32),
    signature bytea NOT NULL CHECK (length(signature) = 65),
    -- the pricing model (api/pricing.py) and every input and intermediate it used
    model_name text NOT NULL,
    model_version text NOT NULL,
    pricing jsonb NOT NULL,
    -- who asked (the API key's public prefix; NULL when the caller was not identified)
    requested_by text
);
CREATE INDEX IF NOT EXISTS quotes_buyer ON api.quotes (buyer, created_at);
CREATE INDEX IF NOT EXISTS quotes_model ON api.quotes (model_name, model_version);

-- A stored quote is a record of what was signed: the API inserts and reads, never changes or deletes one.
GRANT USAGE ON SCHEMA api TO bithedge_api, bithedge_transform;
GRANT SELECT, INSERT ON api.quotes TO bithedge_api;
REVOKE UPDATE, DELETE, TRUNCATE ON api.quotes FROM bithedge_api;
GRANT USAGE ON SEQUENCE api.quote_ids TO bithedge_api;
GRANT SELECT ON api.quotes TO bithedge_transform;
