-- Per expiry height: what is due, the settlement price heights the contract will accept, and which policies can
-- only be voided (the keeper settles and voids from it). A settlement price is the first oracle price at or
-- after the expiry whose burn block is over, at most the policy's price delay late (v2: per policy); a policy
-- is voidable once the burn tip passed its void-after and a price it needs cannot exist.
--
-- Everything but the count of policies per expiry comes from the open book (~50k policies, through the mart's
-- status index); the count is an index-only scan of the mart's expiry index. An expiry without open policies
-- has nothing unsettled, locked or voidable, and no price height to accept (the delay is that of its open
-- policies). At 1M policies this view read every policy in full (2.3 s).
with totals as (
    select expiry, count(*) as policies from {{ ref('mart_policies') }} group by expiry
),

open_book as (
    select * from {{ open_policies('policy_id, token, collateral, expiry, price_delay, void_after') }} as p
),

-- materialized: one pair of probes per open expiry height, not one per policy, which is what the planner chose
-- when it could inline this into the join below
candidates as materialized (
    select e.expiry, btc.burn_height as btc_h, stx.burn_height as stx_h, tip.burn_height as tip
    from (select distinct expiry from open_book) as e
    cross join {{ ref('stg_chain_tip') }} as tip
    left join lateral (
        select p.burn_height from {{ ref('mart_oracle_prices') }} as p
        where p.asset = 'BTC' and p.burn_height >= e.expiry and p.burn_height < tip.burn_height
        order by p.burn_height limit 1
    ) as btc on true
    left join lateral (
        select p.burn_height from {{ ref('mart_oracle_prices') }} as p
        where p.asset = 'STX' and p.burn_height >= e.expiry and p.burn_height < tip.burn_height
        order by p.burn_height limit 1
    ) as stx on true
),

judged as (
    select
        p.*, c.btc_h, c.stx_h,
        c.tip > p.void_after
            and (c.btc_h is null or c.btc_h - p.expiry > p.price_delay
                 or (p.token = 'STX' and (c.stx_h is null or c.stx_h - p.expiry > p.price_delay))) as voidable
    from open_book as p
    join candidates as c using (expiry)
),

open_expiries as (
    select
        expiry,
        count(*) as unsettled,
        array_agg(policy_id order by policy_id) as unsettled_ids,
        sum(collateral) as collateral_locked,
        case when min(btc_h) - expiry <= max(price_delay) then min(btc_h) end as btc_price_height,
        case when min(stx_h) - expiry <= max(price_delay) then min(stx_h) end as stx_price_height,
        bool_or(voidable) as needs_void,
        max(price_delay) as max_price_delay_blocks,
        array_agg(policy_id order by policy_id) filter (where voidable) as voidable_ids
    from judged
    group by expiry
)

select
    t.expiry,
    t.policies,
    coalesce(o.unsettled, 0) as unsettled,
    o.unsettled_ids,
    coalesce(o.collateral_locked, 0) as collateral_locked,
    t.expiry < tip.burn_height as due,
    o.btc_price_height,
    o.stx_price_height,
    coalesce(o.needs_void, false) as needs_void,
    o.max_price_delay_blocks,
    o.voidable_ids
from totals as t
cross join {{ ref('stg_chain_tip') }} as tip
left join open_expiries as o using (expiry)
