-- Which chain raw.* holds, so rows of two chains are never mixed: the devnet's code hash (sha256 over its
-- deployed contract sources in deploy order) and genesis id, recorded by `bithedge up` at the first start
-- on a devnet, and compared at every later start (bithedge/chain_guard.py). At most one row. The indexer
-- and transform roles get their usual raw privileges through the schema's default privileges (0001).
CREATE TABLE raw.chain_identity (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    code_hash text NOT NULL,
    genesis_id text NOT NULL,
    contracts text[] NOT NULL,                   -- contract ids in deploy order
    recorded_at timestamptz NOT NULL DEFAULT now()
);
