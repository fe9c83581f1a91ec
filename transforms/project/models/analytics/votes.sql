-- Every vote.
select proposal_id, voter, support, power, yes as yes_after, no as no_after, total_power, burn_height, stacks_height,
       '0x' || encode(txid, 'hex') as txid
from {{ ref('mart_governance_events') }}
where event_name = 'vote-cast'
