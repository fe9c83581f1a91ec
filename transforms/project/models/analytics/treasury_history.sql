-- Every protocol fee collected and every treasury disbursement, with the balance after it (v2).
select token, event_name, amount, policy_id, payer, recipient, sender, balance, burn_height, stacks_height,
       '0x' || encode(txid, 'hex') as txid
from {{ ref('mart_treasury_events') }}
