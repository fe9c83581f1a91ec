-- How current the analytics are: the raw tip, the heights every mart includes, the lag, the last run.
with tip as (
    select * from {{ ref('stg_chain_tip') }}
),

marts as (
    select min(included_height) as stacks_height, min(included_burn_height) as burn_height, max(built_at) as built_at
    from {{ source('build', 'build_state') }}
),

last_run as (
    select * from {{ source('build', 'build_runs') }} order by id desc limit 1
),

last_success as (
    select max(finished_at) as at from {{ source('build', 'build_runs') }} where outcome = 'success'
)

select
    tip.stacks_height as raw_stacks_height,
    tip.burn_height as raw_burn_height,
    tip.block_at as raw_block_at,
    tip.updated_at as raw_indexed_at,
    marts.stacks_height as marts_stacks_height,
    marts.burn_height as marts_burn_height,
    greatest(tip.stacks_height - marts.stacks_height, 0) as lag_blocks,
    -- how long the oldest block the marts do not include has been in raw
    coalesce(extract(epoch from now() - (
        select min(b.indexed_at) from {{ source('raw', 'blocks') }} as b
        where b.canonical and b.block_height > marts.stacks_height
    )), 0) as lag_seconds,
    marts.built_at,
    last_run.command as last_run_command,
    last_run.outcome as last_run_outcome,
    last_run.duration_s as last_run_duration_s,
    last_run.finished_at as last_run_at,
    last_run.error as last_run_error,
    last_success.at as last_success_at,
    (select count(*) from {{ ref('mart_print_quarantine') }}) as quarantined_events
from tip
cross join marts
cross join last_success
left join last_run on true
