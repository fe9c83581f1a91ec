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
    -- the tuple's field map (NULL when the value is no tuple), read out of the stored (compressed) value once
    -- per event: a function in FROM is a fence the planner cannot inline back into every column that decodes a
    -- field, so the value is decompressed once, not once per field. Unlike the subquery with OFFSET 0 it
    -- replaces, it is parallel safe, so a scan of every print decodes in the parallel workers, not in the leader
    -- alone (2x faster at 1M); a scalar function, so the planner counts one row per event (a set-returning one
    -- is counted as 1,000). Strict, so an array is not unwrapped; silent, so no `value` key is NULL, not an error.
    cross join lateral jsonb_path_query_first(value, 'strict $ ? (@.type == "tuple").value', '{}', true)
        as tuple (fields)
)

-- `fields` last: a stable view only gains columns at the end (macros/stable_view.sql)
select
    index_block_hash, event_index, txid, tx_index, stacks_block_height, contract_identifier, contract_name,
    event_name, value, {{ print_event_problem() }} as problem, fields
from named
