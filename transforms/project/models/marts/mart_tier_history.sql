{{ config(alias='tier_history', unique_key='event_key') }}
-- Event log: every tier change, carrying the whole tier after it.
select
    event_key, stacks_block_height, tx_index, event_index, txid,
    tier_kind, tier, field, collateral_ratio_bp, premium_adjustment_bp, max_utilization_bp,
    max_exposure_policy_bp, max_exposure_expiry_bp, active, sender, burn_height, stacks_height,
    stacks_block_height as last_stacks_height
from {{ ref('stg_parameters') }}
where event_name = 'tier-updated' and {{ in_window() }}
