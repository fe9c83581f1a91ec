-- The indexer's canonical tip (one row).
select
    block_height as stacks_height,
    burn_block_height as burn_height,
    block_time,
    to_timestamp(block_time) as block_at,
    burn_block_time,
    last_request_id,
    updated_at
from {{ source('raw', 'chain_tip') }}
