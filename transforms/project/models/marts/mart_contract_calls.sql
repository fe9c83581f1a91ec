{{ config(alias='contract_calls', unique_key='txid',
          post_hook="create index if not exists contract_calls_txid_text on {{ this }} (('0x' || encode(txid, 'hex')))") }}
-- Every canonical transaction to a BitHedge contract, with its block's heights and time.
-- The extra index is on analytics.contract_calls' own txid expression, so a reader's lookup by the 0x text (the
-- keeper confirming its transactions, a policy's transactions on the dashboards) probes it instead of scanning
-- every call (0.34 s at 1M policies).
select
    c.txid, c.stacks_block_height, c.tx_index, c.sender, c.nonce, c.fee, c.contract_id, c.contract_name,
    c.function_name, c.function_args, c.status, c.result, c.vm_error,
    b.burn_height, b.block_at, c.index_block_hash,
    c.stacks_block_height as last_stacks_height
from {{ ref('stg_contract_calls') }} as c
join {{ ref('stg_blocks') }} as b using (index_block_hash)
where {{ in_window('c.stacks_block_height') }}
