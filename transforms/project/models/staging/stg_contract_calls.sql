-- Canonical transactions calling a BitHedge contract (the keeper confirms its transactions here).
with source as (
    select * from {{ source('raw', 'transactions') }}
    where canonical and tx_type = 'contract_call' and contract_id in ({{ bithedge_contract_ids() }})
),

renamed as (
    select
        txid,
        index_block_hash,
        tx_index,
        block_height as stacks_block_height,
        sender,
        nonce,
        fee,
        contract_id,
        split_part(contract_id, '.', 2) as contract_name,
        function_name,
        function_args,
        status,
        result,
        vm_error
    from source
)

select * from renamed
