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
    tx_index,
    '0x' || encode(index_block_hash, 'hex') as index_block_hash
from {{ ref('mart_contract_calls') }}
