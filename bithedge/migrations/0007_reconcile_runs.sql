-- The reconciler's runs (issue 12, transforms/reconcile.py): one row per `bithedge transforms reconcile` run,
-- written by bithedge_transform. Readers do not see this schema; they read it through the analytics view the
-- dbt project puts over it (analytics.reconcile_runs), like every other part of the interface.
CREATE SCHEMA IF NOT EXISTS transforms AUTHORIZATION bithedge_transform;
REVOKE ALL ON SCHEMA transforms FROM PUBLIC;

CREATE TABLE IF NOT EXISTS transforms.reconcile_runs (
    id bigserial PRIMARY KEY,
    started_at timestamptz NOT NULL,
    finished_at timestamptz NOT NULL,
    stacks_height bigint,                        -- the block compared (NULL: no comparison was possible)
    burn_height bigint,
    block_hash text,                             -- hex, no 0x
    attempts integer NOT NULL,                   -- comparisons started (the chain moved during the others)
    checked integer NOT NULL,                    -- entities + fields compared
    mismatch_count integer NOT NULL,
    mismatches jsonb NOT NULL,                   -- [{entity, field, mart, chain}]
    error text                                   -- why no comparison was possible
);
ALTER TABLE transforms.reconcile_runs OWNER TO bithedge_transform;
ALTER SEQUENCE transforms.reconcile_runs_id_seq OWNER TO bithedge_transform;
