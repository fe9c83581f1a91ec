{{ config(alias='pause_events', unique_key='event_key') }}
-- Event log: pause flags set (v2).
select
    event_key, stacks_block_height, tx_index, event_index, txid,
    action, paused, previous, sender, burn_height, stacks_height,
    stacks_block_height as last_stacks_height
from {{ ref('stg_parameters') }}
where event_name = 'pause-set' and {{ in_window() }}
