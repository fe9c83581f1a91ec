-- Per provider x pool: the latest withdrawal request and its state (v2): `pending`, `cancelled` or `executed`.
select distinct on (token, tier, provider)
    token,
    tier,
    provider,
    case event_name when 'withdrawal-requested' then 'pending' when 'withdrawal-cancelled' then 'cancelled'
                    else 'executed' end as state,
    shares,
    amount,
    after_expiry,
    pool_pending_shares,
    burn_height as changed_burn_height,
    '0x' || encode(txid, 'hex') as txid
from {{ ref('mart_withdrawal_events') }}
order by token, tier, provider, stacks_block_height desc, event_index desc
