-- Every parameter now: the deploy-time value, or the latest change.
with latest as (
    select distinct on (key) key, value, burn_height, stacks_height
    from {{ ref('mart_parameter_history') }}
    order by key, stacks_block_height desc, event_index desc
)

select
    d.key,
    coalesce(l.value, d.value) as value,
    d.min_value,
    d.max_value,
    d.value as deploy_value,
    l.burn_height as changed_burn_height,
    l.stacks_height as changed_stacks_height
from {{ ref('stg_deploy_params') }} as d
left join latest as l using (key)
