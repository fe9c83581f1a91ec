-- Every insurance-fund deposit and cover, with the balance after it (v2).
select token, event_name, amount, source, policy_id, depositor, recipient, shortfall, covered, uncovered, balance,
       burn_height, stacks_height, '0x' || encode(txid, 'hex') as txid
from {{ ref('mart_fund_events') }}
