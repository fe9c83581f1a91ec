-- Per expiry height: what is due, the settlement price heights the contract will accept, and which policies can
-- only be voided (the keeper settles and voids from it). A settlement price is the first oracle price at or
-- after the expiry whose burn block is over, at most the policy's price delay late (v2: per policy); a policy
-- is voidable once the burn tip passed its void-after and a price it needs cannot exist.
with policies as (
    -- the mart itself, not the policies view: its join of every policy to its creation block took 14 of the
    -- 22 s of this view at 1M policies, for columns this view never reads
    select policy_id, token, collateral, expiry, price_delay, void_after, coalesce(status, 'active') as status_onchain
    from {{ ref('mart_policies') }}
),

-- materialized: one pair of probes per expiry height (5,264 at 1M policies), not one per policy, which is what
-- the planner chose when it could inline this into the join below
candidates as materialized (
    select e.expiry, btc.burn_height as btc_h, stx.burn_height as stx_h, tip.burn_height as tip
    from (select distinct expiry from policies) as e
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
        p.*, c.btc_h, c.stx_h, c.tip,
        p.status_onchain = 'active' and c.tip > p.void_after
            and (c.btc_h is null or c.btc_h - p.expiry > p.price_delay
                 or (p.token = 'STX' and (c.stx_h is null or c.stx_h - p.expiry > p.price_delay))) as voidable
    from policies as p
    join candidates as c using (expiry)
)

select
    expiry,
    count(*) as policies,
    count(*) filter (where status_onchain = 'active') as unsettled,
    array_agg(policy_id order by policy_id) filter (where status_onchain = 'active') as unsettled_ids,
    coalesce(sum(collateral) filter (where status_onchain = 'active'), 0) as collateral_locked,
    bool_or(expiry < tip) as due,
    case when min(btc_h) - expiry <= max(price_delay) filter (where status_onchain = 'active') then min(btc_h) end as btc_price_height,
    case when min(stx_h) - expiry <= max(price_delay) filter (where status_onchain = 'active') then min(stx_h) end as stx_price_height,
    bool_or(voidable) as needs_void,
    max(price_delay) filter (where status_onchain = 'active') as max_price_delay_blocks,
    array_agg(policy_id order by policy_id) filter (where voidable) as voidable_ids
from judged
group by expiry
