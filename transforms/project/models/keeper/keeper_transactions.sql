-- Every transaction the keeper signed, without the signed bytes: what it was for, its nonce and fee history,
-- where it stands and how long it took.
select
    t.id as tx_id,
    t.address as signer,
    s.label as signer_role,
    t.nonce,
    t.kind,
    t.intent_id,
    t.function_name,
    t.fee,
    t.bumps,
    t.txid,
    t.confirmed_txid,
    t.status,
    t.tx_status,
    t.error,
    t.created_at,
    t.broadcast_at,
    t.confirmed_at,
    t.first_sent_stacks_height,
    t.confirmed_stacks_height,
    t.confirmed_burn_height,
    t.confirmed_stacks_height - t.first_sent_stacks_height as blocks_to_confirm
from {{ source('keeper', 'transactions') }} as t
left join {{ source('keeper', 'signers') }} as s on s.address = t.address
