-- Every parameter change.
select key, old_value, value, sender, burn_height, stacks_height, stacks_block_height, event_index,
       '0x' || encode(txid, 'hex') as txid
from {{ ref('mart_parameter_history') }}
