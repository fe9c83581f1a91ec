-- Per UTC day (of block time): policies written and settled, premium written and earned (time-prorated) and
-- payouts in USD×1e8 at the prices the contract used, loss ratio, unique buyers and providers active that day,
-- open policies and TVL at the day's end. The final days come from marts.platform_days, the last one or two
-- (not final yet: not in the mart) are computed here by the same macro (macros/platform_days.sql).
with chain_days as (
    -- the days after the mart's last one
    {{ chain_days('(select hi from ' ~ ref('mart_platform_days') ~ ' order by day desc limit 1)') }}
),

live_days as (
    select c.* from chain_days as c
    where not exists (select from {{ ref('mart_platform_days') }} as m where m.day = c.day)
),

days as (
    select day, lo, hi, new_policies, premium_written_usd_e8, closed, settled_itm, settled_otm, payouts_usd_e8,
           unique_buyers, unique_providers, tvl_usd_e8, premium_earned_gross_usd_e8
    from {{ ref('mart_platform_days') }}
    union all
    select day, lo, hi, new_policies, premium_written_usd_e8, closed, settled_itm, settled_otm, payouts_usd_e8,
           unique_buyers, unique_providers, tvl_usd_e8, premium_earned_gross_usd_e8
    from {{ platform_days('live_days') }} as live
),

-- a voided policy's premium is refunded and earns nothing: what the voided earned, per day, through the mart's
-- status index (voids are few)
voided_earned as (
    select d.day,
           sum({{ earned_between(usd_e8('p.premium', 'p.token', 'p.collateral_price'),
                                 'p.created_burn_height', 'p.expiry', 'd.lo', 'd.hi') }}) as premium_earned_usd_e8
    from days as d
    join {{ ref('mart_policies') }} as p
        on p.status = 'voided' and p.created_burn_height < d.hi and p.expiry > d.lo
    group by d.day
)

select
    d.day,
    d.new_policies,
    d.premium_written_usd_e8,
    d.settled_itm,
    d.settled_otm,
    d.payouts_usd_e8,
    case when d.premium_written_usd_e8 > 0 then d.payouts_usd_e8 / d.premium_written_usd_e8 end as loss_ratio,
    d.unique_buyers,
    d.unique_providers,
    -- open at the day's end: written so far less closed (settled or voided) so far; a policy closes on or after
    -- the day it was written, so every closed one is among the written (a running sum, not a pass per day)
    (sum(d.new_policies - d.closed) over (order by d.day))::bigint as open_policies_end,
    d.tvl_usd_e8,
    d.premium_earned_gross_usd_e8 - coalesce(v.premium_earned_usd_e8, 0) as premium_earned_usd_e8
from days as d
left join voided_earned as v using (day)
