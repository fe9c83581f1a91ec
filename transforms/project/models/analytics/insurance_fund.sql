-- Per token: the insurance fund now (v2): balance, what went in and what it covered.
with events as (select * from {{ ref('mart_fund_events') }}),

latest as (
    {{ latest_per(ref('mart_fund_events'), 'token', 'balance, burn_height') }}
)

select
    l.token,
    l.balance,
    coalesce(sum(e.amount) filter (where e.event_name = 'fund-deposit'), 0) as deposited,
    coalesce(sum(e.covered) filter (where e.event_name = 'fund-cover'), 0) as covered,
    coalesce(sum(e.uncovered) filter (where e.event_name = 'fund-cover'), 0) as uncovered,
    l.burn_height as last_change_burn_height
from latest as l
join events as e using (token)
group by l.token, l.balance, l.burn_height
