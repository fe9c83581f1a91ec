{{ config(alias='treasury_events', unique_key='event_key', meta={'lookups': ['policy_id', 'token, stacks_block_height, event_index', 'token, event_name, stacks_block_height, event_index']}) }}
-- Event log: protocol fees collected and treasury disbursements, with the balance after each (v2).
select
    event_key, stacks_block_height, tx_index, event_index, txid, event_name,
    token, amount, policy_id, payer, recipient, sender, balance, fees, disbursed, burn_height, stacks_height,
    stacks_block_height as last_stacks_height
from {{ ref('stg_treasury') }}
where {{ in_window() }}
