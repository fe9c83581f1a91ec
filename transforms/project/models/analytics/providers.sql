-- Per provider x pool: position, value at the current share price, and what it earned.
with history as (
    select * from {{ ref('mart_provider_history') }}
),

latest as (
    select distinct on (token, tier, provider) token, tier, provider, provider_shares
    from history
    order by token, tier, provider, stacks_block_height desc, event_index desc
),

flows as (
    select token, tier, provider, sum(deposited) as deposited, sum(withdrawn) as withdrawn,
           min(stacks_block_height) as first_stacks_block_height
    from history
    group by token, tier, provider
),

pool_now as (
    select distinct on (token, tier) token, tier, pool_assets, pool_shares
    from {{ ref('mart_pool_history') }}
    order by token, tier, stacks_block_height desc, event_index desc
),

valued as (
    select
        l.token, l.tier, l.provider, l.provider_shares as shares,
        {{ shares_value('l.provider_shares', 'p.pool_assets', 'p.pool_shares') }} as value,
        f.deposited, f.withdrawn, f.first_stacks_block_height
    from latest as l
    join flows as f using (token, tier, provider)
    join pool_now as p using (token, tier)
)

select
    v.token,
    v.tier,
    v.provider,
    v.shares,
    v.value,
    v.deposited,
    v.withdrawn,
    v.value + v.withdrawn - v.deposited as earned,
    -- simple annualized return on what was put in, over the time since the first deposit
    case when v.deposited > 0 and extract(epoch from tip.block_at - b.block_at) > 0
         then (v.value + v.withdrawn - v.deposited) / v.deposited
              * (31557600 / extract(epoch from tip.block_at - b.block_at))
    end as annualized_yield,
    b.block_at as first_deposit_at
from valued as v
cross join {{ ref('stg_chain_tip') }} as tip
left join {{ ref('mart_chain_blocks') }} as b on b.stacks_height = v.first_stacks_block_height
