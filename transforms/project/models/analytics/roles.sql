-- Who holds which role now: the deploy-time grants (admin = deployer, governance-executor = the governance
-- contract) and every grant whose latest event is not a revocation.
with latest as (
    select distinct on (who, role) who, role, event_name, sender, burn_height
    from {{ ref('mart_role_history') }}
    order by who, role, stacks_block_height desc, event_index desc
),

deployed as (
    select '{{ var("deployer") }}' as who, 'admin' as role
    union all
    select '{{ bithedge_contract_id("bithedge-governance") }}', 'governance-executor'
)

select coalesce(l.who, d.who) as who, coalesce(l.role, d.role) as role, l.sender as granted_by,
       l.burn_height as granted_burn_height
from deployed as d
full join latest as l using (who, role)
where coalesce(l.event_name, 'role-granted') = 'role-granted'
