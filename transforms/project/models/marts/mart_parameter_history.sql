{{ config(alias='parameter_history', unique_key='event_key') }}
-- Event log: every parameter change (admin or governance).
select
    event_key, stacks_block_height, tx_index, event_index, txid,
    key, old_value, value, sender, burn_height, stacks_height,
    stacks_block_height as last_stacks_height
from {{ ref('stg_parameters') }}
where event_name = 'param-updated' and {{ in_window() }}
