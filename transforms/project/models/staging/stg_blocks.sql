-- Canonical Stacks blocks with their burn block and time.
with source as (
    select * from {{ source('raw', 'blocks') }} where canonical
),

renamed as (
    select
        index_block_hash,
        block_hash,
        block_height as stacks_height,
        burn_block_height as burn_height,
        coalesce(block_time, burn_block_time) as block_time,
        to_timestamp(coalesce(block_time, burn_block_time)) as block_at,
        burn_block_time,
        tx_count,
        event_count,
        request_id
    from source
)

select * from renamed
