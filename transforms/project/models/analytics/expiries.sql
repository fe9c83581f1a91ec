-- Per expiry height: what is due and the settlement price heights the contract will accept (the keeper settles
-- from it). A settlement price is the first oracle price at or after the expiry, final (its burn block is over)
-- and at most settle.max-price-delay-blocks late.
with policies as (
    select * from {{ ref('policies') }}
),

per_expiry as (
    select
        expiry,
        count(*) as policies,
        count(*) filter (where status_onchain = 'active') as unsettled,
        coalesce(sum(collateral) filter (where status_onchain = 'active'), 0) as collateral_locked,
        array_agg(policy_id order by policy_id) filter (where status_onchain = 'active') as unsettled_ids
    from policies
    group by expiry
),

delay as (
    select value as max_delay from {{ ref('parameters') }} where key = 'settle.max-price-delay-blocks'
),

prices as (
    select asset, burn_height from {{ ref('mart_oracle_prices') }} group by asset, burn_height
)

select
    e.expiry,
    e.policies,
    e.unsettled,
    e.unsettled_ids,
    e.collateral_locked,
    e.expiry < tip.burn_height as due,
    btc.burn_height as btc_price_height,
    stx.burn_height as stx_price_height,
    -- no acceptable price can appear any more: only a parameter change (or a void, in v2) can settle these
    e.unsettled > 0 and tip.burn_height > e.expiry + delay.max_delay + 1
        and (btc.burn_height is null or stx.burn_height is null) as needs_void,
    delay.max_delay as max_price_delay_blocks
from per_expiry as e
cross join {{ ref('stg_chain_tip') }} as tip
cross join delay
left join lateral (
    select p.burn_height from prices as p
    where p.asset = 'BTC' and p.burn_height >= e.expiry and p.burn_height < tip.burn_height
      and p.burn_height <= e.expiry + delay.max_delay
    order by p.burn_height limit 1
) as btc on true
left join lateral (
    select p.burn_height from prices as p
    where p.asset = 'STX' and p.burn_height >= e.expiry and p.burn_height < tip.burn_height
      and p.burn_height <= e.expiry + delay.max_delay
    order by p.burn_height limit 1
) as stx on true
