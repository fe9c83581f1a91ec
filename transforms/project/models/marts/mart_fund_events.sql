{{ config(alias='fund_events', unique_key='event_key', meta={'lookups': ['policy_id', 'token, stacks_block_height, event_index']}) }}
-- Event log: insurance-fund deposits and covers, with the balance after each (v2).
select
    event_key, stacks_block_height, tx_index, event_index, txid, event_name,
    token, amount, source, policy_id, depositor, recipient, shortfall, covered, uncovered, balance,
    burn_height, stacks_height,
    stacks_block_height as last_stacks_height
from {{ ref('stg_insurance_fund') }}
where {{ in_window() }}
