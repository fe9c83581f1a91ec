{{ config(alias='print_quarantine', unique_key='event_key') }}
-- Event log: every canonical BitHedge print the catalog rejects (staging.print_quarantine), so
-- analytics.freshness counts the quarantine from a table instead of checking every print's JSON on each read.
select
    encode(index_block_hash, 'hex') || ':' || event_index as event_key,
    index_block_hash, event_index, txid, stacks_block_height, contract_identifier, event_name, problem,
    stacks_block_height as last_stacks_height
from {{ ref('print_quarantine') }}
where {{ in_window() }}
