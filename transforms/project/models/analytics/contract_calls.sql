-- Every canonical transaction to a BitHedge contract (the keeper confirms its transactions here).
select
    '0x' || encode(txid, 'hex') as txid,
    sender,
    nonce,
    fee,
    contract_id,
    function_name,
    function_args,
    status,
    result,
    vm_error,
    stacks_block_height as stacks_height,
    burn_height,
    block_at,
    tx_index
from {{ ref('mart_contract_calls') }}
