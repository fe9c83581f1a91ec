-- Every canonical print event of the BitHedge contracts, with the first problem found against the event catalog
-- (contracts/EVENTS.md): the per-contract models decode the well-formed ones, print_quarantine keeps the rest.
with source as (
    select * from {{ source('raw', 'events') }}
    where canonical and committed
      and event_type = 'contract_event' and topic = 'print'
      and contract_identifier in ({{ bithedge_contract_ids() }})
),

decoded as (
    -- Every jsonb operator on the stored value decompresses the whole event again (~1 kB of pglz per print),
    -- and checking and typing an event takes dozens of them. So the fields object is extracted once per event
    -- here: `offset 0` keeps the planner from inlining it back into every use, and everything downstream (the
    -- check below, the typed columns of the per-contract models) reads this in-memory copy.
    select source.*, d.fields, d.value_type, d.name, d.contract
    from source
    cross join lateral (
        select f.fields, f.value_type, f.fields -> 'event' ->> 'value' as name,
               split_part(source.contract_identifier, '.', 2) as contract
        from (select source.value -> 'value' as fields, source.value ->> 'type' as value_type offset 0) as f
        offset 0
    ) as d
)

select
    index_block_hash,
    event_index,
    txid,
    tx_index,
    block_height as stacks_block_height,
    contract_identifier,
    -- as expressions over the stored row, so a filter on them is applied by the scan, with the planner
    -- statistics of migration 0006 on the event name
    split_part(contract_identifier, '.', 2) as contract_name,
    value #>> '{value,event,value}' as event_name,
    value,
    {{ print_event_problem(contract_col='contract', name_col='name', col='fields', type_col='value_type') }} as problem,
    fields
from decoded
