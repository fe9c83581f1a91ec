-- Per UTC day (of block time): policies written and settled, premium written and earned (time-prorated) and
-- payouts in USD×1e8 at the prices the contract used, loss ratio, unique buyers and providers active that day,
-- open policies and TVL at the day's end.
with days as (
    select distinct date_trunc('day', block_at)::date as day from {{ ref('mart_chain_blocks') }}
),

day_end as (
    select d.day, max(b.stacks_height) as stacks_height
    from days as d join {{ ref('mart_chain_blocks') }} as b on b.block_at < d.day + 1
    group by d.day
),

burn_first as (
    -- each burn height's first Stacks block (a settlement's day is that block's), joined once by hash
    select distinct on (burn_height) burn_height, block_at
    from {{ ref('mart_chain_blocks') }}
    order by burn_height, stacks_height
),

policies as (
    -- only the columns read below: this CTE is materialized (four readers), and with `p.*` it computed every
    -- column of the policies view (two hex encodings among them) for every policy: 4.5 s of CTE at 1M, now 1.4 s
    select p.owner, p.payout, p.status, p.created_burn_height, p.expiry,
           date_trunc('day', p.created_at)::date as created_day,
           date_trunc('day', sb.block_at)::date as settled_day,
           {{ usd_e8('p.premium', 'p.token', 'p.collateral_price_at_creation') }} as premium_usd_e8,
           {{ usd_e8('coalesce(p.payout, 0)', 'p.token', 'coalesce(p.settlement_collateral_price, 0)') }} as payout_usd_e8
    from {{ ref('policies') }} as p
    left join burn_first as sb on sb.burn_height = p.settled_burn_height
),

written as (
    select created_day as day, count(*) as new_policies, sum(premium_usd_e8) as premium_written_usd_e8,
           count(distinct owner) as unique_buyers
    from policies group by 1
),

settled as (
    select settled_day as day, count(*) as closed, count(*) filter (where payout > 0) as settled_itm,
           count(*) filter (where payout = 0) as settled_otm, sum(payout_usd_e8) as payouts_usd_e8
    from policies where settled_day is not null group by 1
),

-- premium earned pro rata over each policy's coverage (creation to expiry, in burn heights): a day earns the
-- part of [created, expiry) between its first burn height and the next day's (the raw burn tip for the last
-- day), so the days together have earned Σ premium × elapsed / duration up to the tip; a voided policy's premium
-- is refunded and earns nothing
day_ranges as (
    select day, lo, coalesce(lead(lo) over (order by day), tip.burn_height) as hi
    from (
        select date_trunc('day', block_at)::date as day, min(burn_height) as lo
        from {{ ref('mart_chain_blocks') }} group by 1
    ) as d
    cross join {{ ref('stg_chain_tip') }} as tip
),

earned as (
    select r.day,
           sum({{ earned_between(
               'p.premium_usd_e8', 'p.created_burn_height', 'p.expiry', 'r.lo', 'r.hi') }}) as premium_earned_usd_e8
    from day_ranges as r
    join policies as p on p.created_burn_height < r.hi and p.expiry > r.lo and p.status <> 'voided'
    group by r.day
),

provider_days as (
    select date_trunc('day', b.block_at)::date as day, count(distinct h.provider) as unique_providers
    from {{ ref('mart_provider_history') }} as h
    join {{ ref('mart_chain_blocks') }} as b on b.stacks_height = h.stacks_block_height
    group by 1
),

tvl as (
    select e.day, sum(
        {{ usd_e8('pool.pool_assets', 'pool.token', 'px.price') }}) as tvl_usd_e8
    from day_end as e
    cross join (select distinct token, tier from {{ ref('mart_pool_states') }}) as pools
    cross join lateral (
        -- the pool's state at the day's end: one probe of the (token, tier, stacks_block_height) index
        select s.token, s.assets as pool_assets
        from {{ ref('mart_pool_states') }} as s
        where s.token = pools.token and s.tier = pools.tier and s.stacks_block_height <= e.stacks_height
        order by s.stacks_block_height desc limit 1
    ) as pool
    cross join lateral (
        select price from {{ ref('mart_oracle_prices') }}
        where asset = {{ collateral_asset('pool.token') }} and stacks_block_height <= e.stacks_height
        order by stacks_block_height desc, event_index desc limit 1
    ) as px
    group by e.day
)

select
    d.day,
    coalesce(w.new_policies, 0) as new_policies,
    coalesce(w.premium_written_usd_e8, 0) as premium_written_usd_e8,
    coalesce(s.settled_itm, 0) as settled_itm,
    coalesce(s.settled_otm, 0) as settled_otm,
    coalesce(s.payouts_usd_e8, 0) as payouts_usd_e8,
    case when w.premium_written_usd_e8 > 0 then coalesce(s.payouts_usd_e8, 0) / w.premium_written_usd_e8 end as loss_ratio,
    coalesce(w.unique_buyers, 0) as unique_buyers,
    coalesce(pd.unique_providers, 0) as unique_providers,
    -- open at the day's end: written so far less closed (settled or voided) so far; a policy closes on or after
    -- the day it was written, so every closed one is among the written (a running sum, not a pass per day)
    (sum(coalesce(w.new_policies, 0) - coalesce(s.closed, 0)) over (order by d.day))::bigint as open_policies_end,
    t.tvl_usd_e8,
    coalesce(e.premium_earned_usd_e8, 0) as premium_earned_usd_e8
from days as d
left join written as w using (day)
left join settled as s using (day)
left join provider_days as pd using (day)
left join tvl as t using (day)
left join earned as e using (day)
