-- Every canonical print event of the BitHedge contracts, with the first problem found against the event catalog
-- (contracts/EVENTS.md): the per-contract models decode the well-formed ones, print_quarantine keeps the rest.
with source as (
    select * from {{ source('raw', 'events') }}
    where canonical and committed
      and event_type = 'contract_event' and topic = 'print'
      and contract_identifier in ({{ bithedge_contract_ids() }})
),

named as (
    select
        index_block_hash,
        event_index,
        txid,
        tx_index,
        block_height as stacks_block_height,
        contract_identifier,
        split_part(contract_identifier, '.', 2) as contract_name,
        value #>> '{value,event,value}' as event_name,
        value,
        fields
    from source
    -- the tuple's field map, read out of the stored (compressed) value once per event: the fence (offset 0)
    -- keeps the planner from inlining it back into every column that decodes a field
    cross join lateral (select value -> 'value' as fields offset 0) as tuple
)

-- `fields` last: a stable view only gains columns at the end (macros/stable_view.sql)
select
    index_block_hash, event_index, txid, tx_index, stacks_block_height, contract_identifier, contract_name,
    event_name, value, {{ print_event_problem() }} as problem, fields
from named
