-- Per provider x pool: position, value at the current share price, and what it earned. A settlement that wipes a
-- pool (`pool-wiped`, contracts/README.md "Generations") starts a new share generation: shares held before it
-- count 0 from then on (the vault's positions carry their generation), so a provider's shares are those of its
-- latest change after the pool's latest wipe, and the shares it lost to wipes are `voided_shares`.
with history as (
    select * from {{ ref('mart_provider_history') }}
),

wipes as (
    select token, tier, stacks_block_height, event_index,
           row_number() over (partition by token, tier order by stacks_block_height, event_index) as generation
    from {{ ref('mart_pool_history') }}
    where event_name = 'pool-wiped'  -- through the event_name lookup: wipes are rare, the history is long
),

last_wipe as (
    select distinct on (token, tier) token, tier, stacks_block_height, event_index, generation
    from wipes
    order by token, tier, generation desc
),

latest as (
    select distinct on (token, tier, provider) token, tier, provider, provider_shares, stacks_block_height, event_index
    from history
    order by token, tier, provider, stacks_block_height desc, event_index desc
),

-- per wipe, each provider's shares standing just before it (its latest change in the generation the wipe ended)
voided as (
    select w.token, w.tier, h.provider, sum(h.provider_shares) as voided_shares
    from wipes as w
    cross join lateral (
        select distinct on (x.provider) x.provider, x.provider_shares, x.stacks_block_height, x.event_index
        from history as x
        where x.token = w.token and x.tier = w.tier
          and (x.stacks_block_height, x.event_index) < (w.stacks_block_height, w.event_index)
        order by x.provider, x.stacks_block_height desc, x.event_index desc
    ) as h
    left join wipes as prev on prev.token = w.token and prev.tier = w.tier and prev.generation = w.generation - 1
    where prev.token is null
       or (h.stacks_block_height, h.event_index) > (prev.stacks_block_height, prev.event_index)
    group by w.token, w.tier, h.provider
),

flows as (
    select token, tier, provider, sum(deposited) as deposited, sum(withdrawn) as withdrawn,
           min(stacks_block_height) as first_stacks_block_height
    from history
    group by token, tier, provider
),

pool_now as (
    -- each pool now (marts.pool_states: a wipe leaves no shares, the new generation starts with none)
    select token, tier, assets as pool_assets, shares as pool_shares
    from ({{ latest_pool_states() }}) as latest
),

positions as (
    select
        l.token, l.tier, l.provider,
        case when lw.token is null
                  or (l.stacks_block_height, l.event_index) > (lw.stacks_block_height, lw.event_index)
             then l.provider_shares else 0 end as shares,
        coalesce(lw.generation, 0) as generation
    from latest as l
    left join last_wipe as lw using (token, tier)
),

valued as (
    select
        ps.token, ps.tier, ps.provider, ps.shares, ps.generation,
        {{ shares_value('ps.shares', 'p.pool_assets', 'p.pool_shares') }} as value,
        f.deposited, f.withdrawn, f.first_stacks_block_height
    from positions as ps
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
    b.block_at as first_deposit_at,
    v.generation,
    coalesce(vd.voided_shares, 0) as voided_shares
from valued as v
cross join {{ ref('stg_chain_tip') }} as tip
left join {{ ref('mart_chain_blocks') }} as b on b.stacks_height = v.first_stacks_block_height
left join voided as vd using (token, tier, provider)
