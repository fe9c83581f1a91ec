-- raw: what the indexer (indexer/) writes. Hiro stacks-blockchain-api style: every observer request is kept,
-- each block is written in one transaction with its request, reorgs flip `canonical` and never delete.
-- Hashes, txids and wire bytes are bytea (32-byte hashes without 0x); heights and unix times are bigint as the
-- node sends them; token amounts are numeric(39,0) (u128). Decoded Clarity values are the lossless typed JSON of
-- stacks.clarity.to_json ({"type": ..., "value": ...}).

-- Every POST body, verbatim. `payload` is the parsed JSON (NULL when the body is not JSON); `body` holds the exact
-- bytes whenever `payload` cannot represent them (not JSON, a \u0000 escape jsonb refuses, or an oversized body,
-- then truncated and `body_truncated`).
CREATE TABLE raw.observer_requests (
    id bigserial PRIMARY KEY,
    received_at timestamptz NOT NULL DEFAULT now(),
    path text NOT NULL,
    payload jsonb,
    body bytea,
    body_size bigint NOT NULL,
    body_truncated boolean NOT NULL DEFAULT false,
    source text NOT NULL DEFAULT 'observer',     -- observer | tsv:<file name> | backfill
    source_id bigint,                            -- the request id in the source (TSV id column)
    outcome text NOT NULL                        -- block | burn_block | duplicate | stored | dead_letter
);
CREATE UNIQUE INDEX observer_requests_source_id ON raw.observer_requests (source, source_id)
    WHERE source_id IS NOT NULL;
CREATE INDEX observer_requests_path ON raw.observer_requests (path, id);

CREATE TABLE raw.blocks (
    index_block_hash bytea PRIMARY KEY,
    block_hash bytea NOT NULL,
    block_height bigint NOT NULL,
    parent_index_block_hash bytea NOT NULL,
    parent_block_hash bytea,
    parent_microblock_hash bytea,
    parent_microblock_sequence integer,
    burn_block_height bigint,
    burn_block_hash bytea,
    burn_block_time bigint,                      -- unix seconds
    parent_burn_block_hash bytea,
    parent_burn_block_height bigint,
    parent_burn_block_time bigint,
    miner_txid bytea,
    consensus_hash bytea,
    block_time bigint,                           -- Nakamoto header timestamp (unix seconds); NULL before 3.0
    tenure_height bigint,                        -- = block_height for 2.x payloads that lack it
    nakamoto boolean NOT NULL,                   -- signer-approved (payload carries signer_signature)
    signer_signature_hash bytea,
    signer_bitvec text,
    signer_signature jsonb,
    miner_signature bytea,
    cycle_number bigint,
    reward_set jsonb,
    matured_miner_rewards jsonb,
    anchored_cost jsonb,
    confirmed_microblocks_cost jsonb,
    tx_count integer NOT NULL,
    event_count integer NOT NULL,
    canonical boolean NOT NULL,
    request_id bigint NOT NULL,                  -- raw.observer_requests row that first delivered it
    indexed_at timestamptz NOT NULL DEFAULT now()
);
-- At most one canonical block per height: the reorg code relies on it, the database enforces it.
CREATE UNIQUE INDEX blocks_canonical_height ON raw.blocks (block_height) WHERE canonical;
CREATE INDEX blocks_height ON raw.blocks (block_height);
CREATE INDEX blocks_parent ON raw.blocks (parent_index_block_hash);
CREATE INDEX blocks_burn_height ON raw.blocks (burn_block_height) WHERE canonical;
CREATE INDEX blocks_block_hash ON raw.blocks (block_hash);

CREATE TABLE raw.burn_blocks (
    burn_block_hash bytea PRIMARY KEY,
    burn_block_height bigint NOT NULL,
    parent_burn_block_hash bytea,
    consensus_hash bytea,
    burn_amount numeric(39, 0),
    reward_recipients jsonb,
    reward_slot_holders jsonb,
    pox_transactions jsonb,
    canonical boolean NOT NULL,
    request_id bigint NOT NULL,
    indexed_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX burn_blocks_canonical_height ON raw.burn_blocks (burn_block_height) WHERE canonical;

CREATE TABLE raw.transactions (
    index_block_hash bytea NOT NULL,
    txid bytea NOT NULL,
    tx_index integer NOT NULL,
    block_height bigint NOT NULL,
    tx_type text,                                -- token_transfer | smart_contract | contract_call | coinbase |
                                                 -- tenure_change | poison_microblock | burnchain_op; NULL: undecodable
    burnchain_op_type text,                      -- transfer_stx | stack_stx | delegate_stx | ... (raw_tx 0x00)
    sender text,
    sponsor text,
    sponsored boolean,
    nonce bigint,
    fee numeric(20, 0),
    sponsor_nonce bigint,
    sponsor_fee numeric(20, 0),
    chain_id bigint,
    anchor_mode smallint,
    post_condition_mode smallint,
    contract_id text,                            -- called contract (contract_call) or deployed one (smart_contract)
    function_name text,
    function_args jsonb,                         -- array of typed Clarity JSON
    recipient text,                              -- token_transfer
    amount numeric(39, 0),                       -- token_transfer
    status text NOT NULL,                        -- success | abort_by_response | abort_by_post_condition | ...
    result jsonb,                                -- typed Clarity JSON of raw_result
    raw_result bytea,
    raw_tx bytea NOT NULL,
    vm_error text,
    contract_interface jsonb,                    -- `contract_interface`, or the older `contract_abi`
    burnchain_op jsonb,
    execution_cost jsonb,
    microblock_sequence integer,
    microblock_hash bytea,
    microblock_parent_hash bytea,
    decode_error text,                           -- why raw_tx/raw_result could not be decoded (row kept, bytes kept)
    canonical boolean NOT NULL,
    request_id bigint NOT NULL,
    PRIMARY KEY (index_block_hash, txid)
);
CREATE INDEX transactions_txid ON raw.transactions (txid);
CREATE INDEX transactions_contract ON raw.transactions (contract_id, block_height) WHERE canonical;
CREATE INDEX transactions_sender ON raw.transactions (sender, block_height) WHERE canonical;
CREATE INDEX transactions_height ON raw.transactions (block_height, tx_index) WHERE canonical;

CREATE TABLE raw.events (
    index_block_hash bytea NOT NULL,
    event_index integer NOT NULL,
    txid bytea NOT NULL,
    tx_index integer,
    block_height bigint NOT NULL,
    event_type text NOT NULL,                    -- the node's type: contract_event, stx_transfer_event, ft_mint_event, ...
    contract_identifier text,                    -- emitting contract (print), asset contract (ft/nft), pox (stx_lock)
    topic text,                                  -- print events: "print"
    asset_identifier text,                       -- ft/nft: ADDR.contract::asset
    sender text,
    recipient text,
    amount numeric(39, 0),                       -- stx/ft amounts, stx_lock locked_amount
    memo text,
    value jsonb,                                 -- typed Clarity JSON of raw_value (print, nft); other types: the event body
    raw_value bytea,
    committed boolean NOT NULL DEFAULT true,
    decode_error text,
    canonical boolean NOT NULL,
    request_id bigint NOT NULL,
    PRIMARY KEY (index_block_hash, event_index)
);
CREATE INDEX events_txid ON raw.events (txid);
CREATE INDEX events_contract ON raw.events (contract_identifier, topic, block_height, event_index) WHERE canonical;
CREATE INDEX events_asset ON raw.events (asset_identifier, block_height) WHERE canonical AND asset_identifier IS NOT NULL;
CREATE INDEX events_height ON raw.events (block_height, event_index) WHERE canonical;

CREATE TABLE raw.mempool_txs (
    txid bytea PRIMARY KEY,
    raw_tx bytea NOT NULL,
    received_at timestamptz NOT NULL,
    request_id bigint NOT NULL,
    dropped_at timestamptz,
    drop_reason text,
    replaced_by bytea
);

-- What could not be processed (and was acknowledged so the node does not stall), with the reason.
CREATE TABLE raw.dead_letters (
    id bigserial PRIMARY KEY,
    request_id bigint,
    path text NOT NULL,
    reason text NOT NULL,                        -- short class: bad_json | invalid_payload | too_large | database_rejected
    detail text NOT NULL,                        -- the full error message
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX dead_letters_request ON raw.dead_letters (request_id);

-- Every reorg the indexer saw (depth = blocks orphaned).
CREATE TABLE raw.reorgs (
    id bigserial PRIMARY KEY,
    detected_at timestamptz NOT NULL DEFAULT now(),
    depth integer NOT NULL,
    restored integer NOT NULL,
    fork_height bigint NOT NULL,
    old_tip bytea,
    new_tip bytea NOT NULL,
    request_id bigint NOT NULL
);

-- One row: the canonical tip after the last committed write.
CREATE TABLE raw.chain_tip (
    id boolean PRIMARY KEY DEFAULT true CHECK (id),
    index_block_hash bytea,
    block_hash bytea,
    block_height bigint,
    block_time bigint,
    burn_block_hash bytea,
    burn_block_height bigint,
    burn_block_time bigint,
    last_request_id bigint,
    updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO raw.chain_tip (id) VALUES (true);

-- Resumable pull paths (replay per file, rebuild, backfill): the last position committed with its rows.
CREATE TABLE raw.checkpoints (
    name text PRIMARY KEY,
    position bigint NOT NULL,
    info jsonb NOT NULL DEFAULT '{}',
    updated_at timestamptz NOT NULL DEFAULT now()
);

