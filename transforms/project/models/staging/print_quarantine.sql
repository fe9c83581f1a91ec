-- Print events of the BitHedge contracts that do not match the event catalog (unknown name, missing field, wrong
-- type): kept with the reason instead of dropped; the staging models skip them, so no build fails on them.
select index_block_hash, event_index, txid, stacks_block_height, contract_identifier, event_name, problem, value
from {{ ref('stg_bithedge_prints') }}
where problem is not null
