-- Every buyer and provider tier now: the deploy-time tier, or the tier after its latest change.
with latest as (
    select distinct on (tier_kind, tier) *
    from {{ ref('mart_tier_history') }}
    order by tier_kind, tier, stacks_block_height desc, event_index desc
)

select
    coalesce(l.tier_kind, d.tier_kind) as tier_kind,
    coalesce(l.tier, d.tier) as tier,
    coalesce(l.collateral_ratio_bp, d.collateral_ratio_bp) as collateral_ratio_bp,
    coalesce(l.premium_adjustment_bp, d.premium_adjustment_bp) as premium_adjustment_bp,
    coalesce(l.max_utilization_bp, d.max_utilization_bp) as max_utilization_bp,
    coalesce(l.max_exposure_policy_bp, d.max_exposure_policy_bp) as max_exposure_policy_bp,
    coalesce(l.max_exposure_expiry_bp, d.max_exposure_expiry_bp) as max_exposure_expiry_bp,
    coalesce(l.active, d.active) as active,
    l.burn_height as changed_burn_height
from {{ ref('stg_deploy_tiers') }} as d
full join latest as l on l.tier_kind = d.tier_kind and l.tier = d.tier
