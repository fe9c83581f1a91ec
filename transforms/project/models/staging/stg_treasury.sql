-- Well-formed print events of bithedge-treasury, one typed column per catalog field (NULL where an event lacks it).
with source as (
    select * from {{ ref('stg_bithedge_prints') }}
    where contract_name = 'bithedge-treasury' and problem is null
),

renamed as (
    select
        index_block_hash,
        event_index,
        txid,
        tx_index,
        stacks_block_height,
        event_name,
        {{ decode_contract_fields('bithedge-treasury') }}
        encode(index_block_hash, 'hex') || ':' || event_index as event_key
    from source
)

select * from renamed
