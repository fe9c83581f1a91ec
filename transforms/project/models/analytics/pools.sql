-- Per pool (token x provider tier), now.
with latest as (
    {{ latest_pool_states() }}
),

providers as (
    select token, tier, count(*) filter (where shares > 0) as providers
    from {{ ref('providers') }}
    group by token, tier
)

select
    l.token,
    l.tier,
    l.assets,
    l.shares,
    l.locked,
    l.assets - l.locked as free,
    case when l.assets > 0 then l.locked / l.assets else 0 end as utilization,
    {{ share_price('l.assets', 'l.shares') }} as share_price,
    t.max_utilization_bp,
    t.max_exposure_policy_bp,
    t.max_exposure_expiry_bp,
    {{ bp_share('l.assets', 't.max_exposure_policy_bp') }} as max_policy_collateral,
    greatest({{ bp_share('l.assets', 't.max_utilization_bp') }} - l.locked, 0) as lockable,
    coalesce(p.providers, 0) as providers,
    l.cum_deposits,
    l.cum_withdrawals,
    l.cum_premiums,
    l.cum_payouts,
    l.created_burn_height,
    l.burn_height as last_change_burn_height,
    l.stacks_height as last_change_stacks_height,
    l.unearned,
    l.pending_shares,
    l.cum_premiums_received,
    l.generation
from latest as l
left join providers as p using (token, tier)
left join {{ ref('tiers') }} as t on t.tier_kind = 'provider' and t.tier = l.tier
