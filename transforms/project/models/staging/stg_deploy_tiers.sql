-- Tiers as bithedge-parameters sets them at deploy (no event is printed for these): generated from the contract.
select tier_kind, tier,
       collateral_ratio_bp::numeric(39, 0) as collateral_ratio_bp, premium_adjustment_bp::numeric(39, 0) as premium_adjustment_bp,
       max_utilization_bp::numeric(39, 0) as max_utilization_bp, max_exposure_policy_bp::numeric(39, 0) as max_exposure_policy_bp,
       max_exposure_expiry_bp::numeric(39, 0) as max_exposure_expiry_bp, active
from (values
  {%- for kind, name, f in deploy_seed()['tiers'] %}
    ('{{ kind }}', '{{ name }}', {{ f['collateral-ratio-bp'] }}, {{ f['premium-adjustment-bp'] }}, {{ f['max-utilization-bp'] }},
     {{ f['max-exposure-policy-bp'] }}, {{ f['max-exposure-expiry-bp'] }}, {{ 'true' if f['active'] else 'false' }}){{ ',' if not loop.last }}
  {%- endfor %}
) as seed (tier_kind, tier, collateral_ratio_bp, premium_adjustment_bp, max_utilization_bp,
           max_exposure_policy_bp, max_exposure_expiry_bp, active)
