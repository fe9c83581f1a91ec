-- Every oracle submission.
select
    asset,
    price,
    previous_price,
    previous_height,
    replaced,
    guard_bypassed,
    submitter,
    burn_height,
    stacks_height,
    block_at as submitted_at,
    stacks_block_height,
    event_index,
    '0x' || encode(txid, 'hex') as txid
from {{ ref('mart_oracle_prices') }}
