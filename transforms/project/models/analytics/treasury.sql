-- Per token: the treasury now (v2): balance, all fees collected and all disbursed (cumulative totals the
-- events carry, so each is its latest event's). History: treasury_history.
-- Index probes only (the lookups of marts.treasury_events): the tokens by a skip scan, then per token its
-- latest event and its latest event of each kind; a scan of every fee collected took seconds at 1M policies.
with recursive tokens as (
    {{ token_skip_scan(ref('mart_treasury_events')) }}
)

select
    t.token,
    l.balance,
    coalesce(f.fees, 0) as fees_collected,
    coalesce(d.disbursed, 0) as disbursed,
    l.burn_height as last_change_burn_height
from tokens as t
cross join lateral (
    select balance, burn_height from {{ ref('mart_treasury_events') }} as e
    where e.token = t.token order by e.stacks_block_height desc, e.event_index desc limit 1) as l
left join lateral (
    select fees from {{ ref('mart_treasury_events') }} as e
    where e.token = t.token and e.event_name = 'fee-collected'
    order by e.stacks_block_height desc, e.event_index desc limit 1) as f on true
left join lateral (
    select disbursed from {{ ref('mart_treasury_events') }} as e
    where e.token = t.token and e.event_name = 'treasury-disbursed'
    order by e.stacks_block_height desc, e.event_index desc limit 1) as d on true
where t.token is not null
