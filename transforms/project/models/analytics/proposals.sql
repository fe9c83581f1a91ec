-- Every governance proposal with its state as get-proposal-state names it (active, defeated, queued,
-- executable, executed, cancelled), vote totals and the quorum and threshold rules it was created with.
with events as (
    select * from {{ ref('mart_governance_events') }}
),

created as (
    select * from events where event_name = 'proposal-created'
),

votes as (
    select proposal_id, max(yes) as yes, max(no) as no, count(*) as voters
    from events where event_name = 'vote-cast'
    group by proposal_id
),

ended as (
    select distinct on (proposal_id) proposal_id, event_name, burn_height
    from events where event_name in ('proposal-executed', 'proposal-cancelled')
    order by proposal_id, stacks_block_height desc, event_index desc
),

tallied as (
    select
        c.*,
        coalesce(v.yes, 0) as yes_power,
        coalesce(v.no, 0) as no_power,
        coalesce(v.voters, 0) as voters,
        e.event_name as end_event,
        e.burn_height as ended_burn_height
    from created as c
    left join votes as v using (proposal_id)
    left join ended as e using (proposal_id)
)

select
    t.proposal_id,
    t.proposer,
    t.kind,
    t.key,
    t.tier_kind,
    t.tier,
    t.value,
    t.proposer_power,
    t.total_power,
    t.snapshot_height,
    t.start_burn_height,
    t.end_burn_height,
    t.eta_burn_height,
    t.quorum_bp,
    t.threshold_bp,
    t.yes_power,
    t.no_power,
    t.voters,
    {{ gov_quorum_met('t.yes_power', 't.no_power', 't.total_power', 't.quorum_bp') }} as quorum_met,
    {{ gov_threshold_met('t.yes_power', 't.no_power', 't.threshold_bp') }} as threshold_met,
    case
        when t.end_event = 'proposal-executed' then 'executed'
        when t.end_event = 'proposal-cancelled' then 'cancelled'
        when tip.burn_height <= t.end_burn_height then 'active'
        when not ({{ gov_quorum_met('t.yes_power', 't.no_power', 't.total_power', 't.quorum_bp') }}
                  and {{ gov_threshold_met('t.yes_power', 't.no_power', 't.threshold_bp') }}) then 'defeated'
        when tip.burn_height < t.eta_burn_height then 'queued'
        else 'executable'
    end as state,
    t.ended_burn_height,
    t.burn_height as created_burn_height,
    '0x' || encode(t.txid, 'hex') as created_txid
from tallied as t
cross join {{ ref('stg_chain_tip') }} as tip
