{{ config(alias='chain_blocks', unique_key='stacks_height', meta={'lookups': ['burn_height']}) }}
-- The canonical chain: Stacks height -> burn height and time (for ages and annualization by time).
select
    stacks_height, index_block_hash, burn_height, block_time, block_at, tx_count, event_count,
    stacks_height as last_stacks_height
from {{ ref('stg_blocks') }}
where {{ in_window('stacks_height') }}
