{{ config(alias='oracle_prices', unique_key='event_key', meta={'lookups': ['asset, stacks_block_height, event_index', 'asset, burn_height']}) }}
-- Event log: every oracle price submission, with the Stacks block's time.
select
    p.event_key, p.stacks_block_height, p.tx_index, p.event_index, p.txid,
    p.asset, p.price, p.previous_price, p.previous_height, p.replaced, p.guard_bypassed, p.submitter,
    p.burn_height, p.stacks_height, b.block_at,
    p.stacks_block_height as last_stacks_height
from {{ ref('stg_oracle') }} as p
join {{ ref('stg_blocks') }} as b using (index_block_hash)
where {{ in_window('p.stacks_block_height') }}
