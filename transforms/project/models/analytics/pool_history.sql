-- Per pool per change: the totals after each event (ordered by stacks_block_height, event_index).
select
    token,
    tier,
    event_name,
    account,
    policy_id,
    deposited,
    withdrawn,
    premium,
    payout,
    collateral_locked,
    collateral_released,
    pool_assets as assets,
    pool_shares as shares,
    pool_locked as locked,
    {{ share_price('pool_assets', 'pool_shares') }} as share_price,
    burn_height,
    stacks_height,
    stacks_block_height,
    event_index,
    '0x' || encode(txid, 'hex') as txid
from {{ ref('mart_pool_history') }}
