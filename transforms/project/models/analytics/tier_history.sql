-- Every tier change, with the whole tier after it.
select tier_kind, tier, field, collateral_ratio_bp, premium_adjustment_bp, max_utilization_bp, max_exposure_policy_bp,
       max_exposure_expiry_bp, active, sender, burn_height, stacks_height, stacks_block_height, event_index,
       '0x' || encode(txid, 'hex') as txid
from {{ ref('mart_tier_history') }}
