-- The indexer as operators see it: tip and its age, reorgs with depth, dead letters by reason.
select
    tip.stacks_height,
    tip.burn_height,
    tip.updated_at as last_write_at,
    extract(epoch from now() - tip.updated_at) as seconds_since_write,
    (select count(*) from {{ source('raw', 'reorgs') }}) as reorgs,
    (select max(depth) from {{ source('raw', 'reorgs') }}) as max_reorg_depth,
    (select max(detected_at) from {{ source('raw', 'reorgs') }}) as last_reorg_at,
    (select count(*) from {{ source('raw', 'dead_letters') }}) as dead_letters,
    (select coalesce(jsonb_object_agg(reason, n), '{}'::jsonb)
       from (select reason, count(*) as n from {{ source('raw', 'dead_letters') }} group by reason) as d) as dead_letters_by_reason
from {{ ref('stg_chain_tip') }} as tip
