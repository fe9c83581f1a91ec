{{ config(alias='withdrawal_events', unique_key='event_key') }}
-- Event log: withdrawal requests, cancellations and executions (v2).
select
    event_key, stacks_block_height, tx_index, event_index, txid, event_name,
    token, tier, provider, shares, amount, after_expiry, provider_shares, pool_pending_shares, burn_height, stacks_height,
    stacks_block_height as last_stacks_height
from {{ ref('stg_vault') }}
where event_name in ('withdrawal-requested', 'withdrawal-cancelled', 'withdrawal-executed') and {{ in_window() }}
