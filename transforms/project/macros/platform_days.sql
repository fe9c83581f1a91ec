{#- analytics.platform_daily in two parts: marts.platform_days keeps the complete days (a day's figures are final
    once the day after it has ended), the view computes the last one or two live. Both compute a day with
    `platform_days`, so a day is the same whichever side holds it. -#}

{#- Every UTC day (of block time) with blocks from burn height `from_burn` on (every day when None; the chain's
    first when the expression is NULL): its first burn
    height `lo`, the next day's (or the raw burn tip for the last day) as `hi`, its first and last Stacks heights,
    and the first Stacks height of the day after next (`next2_first`, NULL while that day has not begun). Day d's
    figures read blocks up to the end of day d + 1 (its `hi`, the settlements at its burn heights) and nothing
    later, so they are final from `next2_first` on: the mart keys its rows' window on it. A CTE body.

    The callers pass the `hi` of the last day they already hold, so this reads the blocks of the days after it
    (and the tail of that day, in blocks of a burn height that straddles midnight: a partial day the callers drop
    as one they hold), not the whole chain on every block. The bound is an `= any(array)` over the burn heights
    from it to the tip, which probes the burn-height index; a `>=` on a subquery's value is planned as a third of
    the table. -#}
{% macro chain_days(from_burn=none) -%}
    select d.day, d.lo, d.first_h, d.last_h,
           coalesce(lead(d.lo) over w, tip.burn_height) as hi,
           lead(d.first_h, 2) over w as next2_first
    from (
        select date_trunc('day', block_at)::date as day, min(burn_height) as lo,
               min(stacks_height) as first_h, max(stacks_height) as last_h
        from {{ ref('mart_chain_blocks') }}
        {%- if from_burn is not none %}
        where burn_height = any(array(
            select b::bigint from generate_series(
                coalesce({{ from_burn }}, (select min(burn_height) from {{ ref('mart_chain_blocks') }})),
                (select burn_height from {{ ref('stg_chain_tip') }})) as b))
        {%- endif %}
        group by 1
    ) as d
    cross join {{ ref('stg_chain_tip') }} as tip
    window w as (order by d.day)
{%- endmacro %}

{#- The figures of the days in CTE `days` (columns of chain_days): policies written and settled, premium written,
    payouts, unique buyers and providers, TVL at the day's end, and the premium earned by every policy, voided
    ones included (`premium_earned_gross_usd_e8`: a void can come any day later, so the view subtracts what
    voided policies earned). A subquery.

    The policies read are those a day can involve: written or settled at or after the first day's first block
    (their last height is there or later) or covering its burn heights (expiry after its `lo`). Both are
    `= any(array)` over the heights, not `>=`: the bounds come from `days`, unknown when the statement is
    planned, and a `>=` on an unknown value is estimated at a third of the table, which planned a sequential
    scan of every policy (0.4 s at 1M policies); an array is estimated at a few rows per element and probes
    the mart's last-height and expiry indexes. -#}
{% macro platform_days(days) -%}
(
    with bounds as (
        select min(first_h) as from_h, max(last_h) as to_h, min(lo) as from_lo, max(hi) as to_hi from {{ days }}
    ),

    -- the blocks of the days' burn heights (those of `lo` can begin on the day before: `burn_first` needs them)
    blocks as (
        select stacks_height, burn_height, date_trunc('day', block_at)::date as day
        from {{ ref('mart_chain_blocks') }}
        where burn_height = any(array(
            select b::bigint from bounds cross join generate_series(bounds.from_lo, bounds.to_hi) as b))
    ),

    burn_first as (
        -- each burn height's first Stacks block: a settlement's day is that block's
        select distinct on (burn_height) burn_height, day from blocks order by burn_height, stacks_height
    ),

    policies as materialized (
        select p.owner, p.payout, p.created_burn_height, p.expiry, cb.day as created_day, sb.day as settled_day,
               {{ usd_e8('p.premium', 'p.token', 'p.collateral_price') }} as premium_usd_e8,
               {{ usd_e8('coalesce(p.payout, 0)', 'p.token', 'coalesce(p.settlement_collateral_price, 0)') }} as payout_usd_e8
        from {{ ref('mart_policies') }} as p
        left join blocks as cb on cb.stacks_height = p.created_stacks_block_height
        left join burn_first as sb on sb.burn_height = p.settled_burn_height
        where p.last_stacks_height = any(array(
                  select h::bigint from bounds cross join generate_series(bounds.from_h, bounds.to_h) as h))
           or p.expiry = any(array(
                  select e::bigint from bounds
                  cross join generate_series(bounds.from_lo + 1,
                                             (select max(expiry) from {{ ref('mart_policies') }})) as e))
    ),

    written as (
        select created_day as day, count(*) as new_policies, sum(premium_usd_e8) as premium_written_usd_e8,
               count(distinct owner) as unique_buyers
        from policies where created_day in (select day from {{ days }}) group by 1
    ),

    settled as (
        select settled_day as day, count(*) as closed, count(*) filter (where payout > 0) as settled_itm,
               count(*) filter (where payout = 0) as settled_otm, sum(payout_usd_e8) as payouts_usd_e8
        from policies where settled_day in (select day from {{ days }}) group by 1
    ),

    -- premium earned pro rata over each policy's coverage [created, expiry) in burn heights: a day earns the
    -- part between its `lo` and `hi`, so the days together have earned Σ premium × elapsed / duration to the tip
    earned as (
        select d.day,
               sum({{ earned_between('p.premium_usd_e8', 'p.created_burn_height', 'p.expiry', 'd.lo', 'd.hi') }})
                   as premium_earned_gross_usd_e8
        from {{ days }} as d
        join policies as p on p.created_burn_height < d.hi and p.expiry > d.lo
        group by d.day
    ),

    provider_days as (
        select b.day, count(distinct h.provider) as unique_providers
        from {{ ref('mart_provider_history') }} as h
        join blocks as b on b.stacks_height = h.stacks_block_height
        where b.day in (select day from {{ days }})
        group by 1
    ),

    tvl as (
        select d.day, sum({{ usd_e8('pool.pool_assets', 'pool.token', 'px.price') }}) as tvl_usd_e8
        from {{ days }} as d
        cross join (select distinct token, tier from {{ ref('mart_pool_states') }}) as pools
        cross join lateral (
            -- the pool's state at the day's end: one probe of the (token, tier, stacks_block_height) index
            select s.token, s.assets as pool_assets
            from {{ ref('mart_pool_states') }} as s
            where s.token = pools.token and s.tier = pools.tier and s.stacks_block_height <= d.last_h
            order by s.stacks_block_height desc limit 1
        ) as pool
        cross join lateral (
            select price from {{ ref('mart_oracle_prices') }}
            where asset = {{ collateral_asset('pool.token') }} and stacks_block_height <= d.last_h
            order by stacks_block_height desc, event_index desc limit 1
        ) as px
        group by d.day
    )

    select
        d.day,
        d.lo,
        d.hi,
        coalesce(w.new_policies, 0) as new_policies,
        coalesce(w.premium_written_usd_e8, 0) as premium_written_usd_e8,
        coalesce(s.closed, 0) as closed,
        coalesce(s.settled_itm, 0) as settled_itm,
        coalesce(s.settled_otm, 0) as settled_otm,
        coalesce(s.payouts_usd_e8, 0) as payouts_usd_e8,
        coalesce(w.unique_buyers, 0) as unique_buyers,
        coalesce(pd.unique_providers, 0) as unique_providers,
        t.tvl_usd_e8,
        coalesce(e.premium_earned_gross_usd_e8, 0) as premium_earned_gross_usd_e8,
        d.next2_first
    from {{ days }} as d
    left join written as w using (day)
    left join settled as s using (day)
    left join provider_days as pd using (day)
    left join tvl as t using (day)
    left join earned as e using (day)
)
{%- endmacro %}
