-- Each provider's deposits, withdrawals and withdrawal requests per pool, with the provider's shares after each.
select
    event_key, stacks_block_height, tx_index, event_index, txid, event_name,
    token, tier, provider,
    case when event_name = 'pool-deposit' then amount else 0 end as deposited,
    case when event_name in ('pool-withdraw', 'withdrawal-executed') then amount else 0 end as withdrawn,
    provider_shares, pool_assets, pool_shares, burn_height, stacks_height
from {{ ref('stg_vault') }}
where event_name in ('pool-deposit', 'pool-withdraw', 'withdrawal-requested', 'withdrawal-cancelled', 'withdrawal-executed')
