-- Per token: the treasury now (v2): balance, all fees collected and all disbursed (cumulative totals the
-- events carry). History: treasury_history.
with events as (select * from {{ ref('mart_treasury_events') }}),

latest as (
    {{ latest_per(ref('mart_treasury_events'), 'token', 'balance, burn_height') }}
)

select
    l.token,
    l.balance,
    coalesce(max(e.fees), 0) as fees_collected,
    coalesce(max(e.disbursed), 0) as disbursed,
    l.burn_height as last_change_burn_height
from latest as l
join events as e using (token)
group by l.token, l.balance, l.burn_height
