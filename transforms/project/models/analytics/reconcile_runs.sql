-- Every reconciler run (bithedge transforms reconcile, and the daemon's periodic one): the block it compared
-- the marts with the contracts at, and what differed.
select
    id as run_id,
    started_at,
    finished_at,
    stacks_height,
    burn_height,
    block_hash,
    attempts,
    checked,
    mismatch_count,
    mismatches,
    error
from {{ source('transforms', 'reconcile_runs') }}
