{{ config(alias='governance_events', unique_key='event_key') }}
-- Event log: proposals created, votes, executions and cancellations.
select
    event_key, stacks_block_height, tx_index, event_index, txid, event_name,
    proposal_id, proposer, kind, key, tier_kind, tier, value, proposer_power, total_power, snapshot_height,
    start_burn_height, end_burn_height, eta_burn_height, quorum_bp, threshold_bp,
    voter, support, power, yes, no, executor, sender, burn_height, stacks_height,
    stacks_block_height as last_stacks_height
from {{ ref('stg_governance') }}
where {{ in_window() }}
