-- Per pool (token x provider tier), now.
with history as (
    select * from {{ ref('mart_pool_history') }}
),

latest as (
    select distinct on (token, tier) token, tier, pool_assets, pool_shares, pool_locked, pool_unearned, pool_pending_shares,
        burn_height, stacks_height
    from history
    order by token, tier, stacks_block_height desc, event_index desc
),

totals as (
    select
        token, tier,
        min(burn_height) filter (where event_name = 'pool-created') as created_burn_height,
        sum(deposited) as cum_deposits,
        sum(withdrawn) as cum_withdrawals,
        sum(premium_earned) as cum_premiums,
        sum(premium_received) as cum_premiums_received,
        sum(payout) as cum_payouts
    from history
    group by token, tier
),

providers as (
    select token, tier, count(*) filter (where shares > 0) as providers
    from {{ ref('providers') }}
    group by token, tier
)

select
    l.token,
    l.tier,
    l.pool_assets as assets,
    l.pool_shares as shares,
    l.pool_locked as locked,
    l.pool_assets - l.pool_locked as free,
    case when l.pool_assets > 0 then l.pool_locked / l.pool_assets else 0 end as utilization,
    {{ share_price('l.pool_assets', 'l.pool_shares') }} as share_price,
    t.max_utilization_bp,
    t.max_exposure_policy_bp,
    t.max_exposure_expiry_bp,
    {{ bp_share('l.pool_assets', 't.max_exposure_policy_bp') }} as max_policy_collateral,
    greatest({{ bp_share('l.pool_assets', 't.max_utilization_bp') }} - l.pool_locked, 0) as lockable,
    coalesce(p.providers, 0) as providers,
    s.cum_deposits,
    s.cum_withdrawals,
    s.cum_premiums,
    s.cum_payouts,
    s.created_burn_height,
    l.burn_height as last_change_burn_height,
    l.stacks_height as last_change_stacks_height,
    l.pool_unearned as unearned,
    l.pool_pending_shares as pending_shares,
    s.cum_premiums_received
from latest as l
join totals as s using (token, tier)
left join providers as p using (token, tier)
left join {{ ref('tiers') }} as t on t.tier_kind = 'provider' and t.tier = l.tier
