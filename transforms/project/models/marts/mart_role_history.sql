{{ config(alias='role_history', unique_key='event_key') }}
-- Event log: every role grant and revocation.
select
    event_key, stacks_block_height, tx_index, event_index, txid,
    event_name, who, role, sender, burn_height, stacks_height,
    stacks_block_height as last_stacks_height
from {{ ref('stg_parameters') }}
where event_name in ('role-granted', 'role-revoked') and {{ in_window() }}
