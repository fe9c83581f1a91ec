{{ config(alias='platform_days', unique_key='day') }}
-- The complete days of analytics.platform_daily (every day but the last one or two): each day's figures once
-- they are final (macros/platform_days.sql), so reading the daily series costs the live days, not a pass over
-- every policy ever written (1.7 s at 1M policies). An event log keyed on `next2_first`: the pre-hook deletes
-- the days final from the window on (a fork can reach them) and the window's complete days are computed again;
-- a day becomes final, and a row, in the first run after the day after it ended. Voided policies' earnings
-- are gross here: the view subtracts them, since a void can come any day later.
with chain_days as (
    -- after the pre-hook deleted the days the window reaches, the days after the last one kept
    {{ chain_days('(select max(hi) from ' ~ this ~ ')' if is_incremental() else none) }}
),

final_days as (
    select * from chain_days where next2_first is not null and {{ in_window('next2_first') }}
)

select
    day, lo, hi, new_policies, premium_written_usd_e8, closed, settled_itm, settled_otm, payouts_usd_e8,
    unique_buyers, unique_providers, tvl_usd_e8, premium_earned_gross_usd_e8,
    next2_first as last_stacks_height
from {{ platform_days('final_days') }} as days
