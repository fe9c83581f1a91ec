-- Per token: the insurance fund now (v2): balance, what went in and what it covered.
-- The balance is an index probe (the lookups of marts.fund_events): the tokens by a skip scan, then each token's
-- latest event. The totals are a sum over every event, in a subquery grouped by token that a reader asking only
-- for the balance (the Overview) never runs: Postgres removes a left join to a relation unique on the join key
-- whose columns are not read. At 1M policies the balance alone took 5.3 s when it sorted every event.
with recursive tokens as (
    {{ token_skip_scan(ref('mart_fund_events')) }}
)

select
    t.token,
    l.balance,
    coalesce(s.deposited, 0) as deposited,
    coalesce(s.covered, 0) as covered,
    coalesce(s.uncovered, 0) as uncovered,
    l.burn_height as last_change_burn_height
from tokens as t
cross join lateral (
    select balance, burn_height from {{ ref('mart_fund_events') }} as e
    where e.token = t.token order by e.stacks_block_height desc, e.event_index desc limit 1) as l
left join (
    select token,
           sum(amount) filter (where event_name = 'fund-deposit') as deposited,
           sum(covered) filter (where event_name = 'fund-cover') as covered,
           sum(uncovered) filter (where event_name = 'fund-cover') as uncovered
    from {{ ref('mart_fund_events') }}
    group by token
) as s on s.token = t.token
where t.token is not null
