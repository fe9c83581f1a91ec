{#- Query shapes several models share: a contract's staging select, the latest prices, the latest row per key. -#}

{#- A contract's staging model: its well-formed print events (stg_bithedge_prints), one typed column per catalog
    field (NULL where an event lacks it), keyed by `event_key`. -#}
{% macro contract_events(contract) %}
{#- meta.contract: the per-block run (transforms/selection.py) runs a mart only when a contract upstream printed -#}
{{ config(meta={'contract': contract}) }}
with source as (
    select * from {{ ref('stg_bithedge_prints') }}
    where contract_name = '{{ contract }}' and problem is null
),

renamed as (
    select
        index_block_hash,
        event_index,
        txid,
        tx_index,
        stacks_block_height,
        event_name,
        {{ decode_contract_fields(contract) }}
        encode(index_block_hash, 'hex') || ':' || event_index as event_key
    from source
)

select * from renamed
{% endmacro %}

{#- The latest oracle price of each asset, as one row (btc, stx), USD×1e8. -#}
{% macro latest_prices() %}
    select
        max(latest_price) filter (where asset = 'BTC') as btc,
        max(latest_price) filter (where asset = 'STX') as stx
    from {{ ref('oracle_stats') }}
{% endmacro %}

{#- The latest row per `partition` of an event-log relation (chain order: Stacks block, then event index). -#}
{% macro latest_per(relation, partition, columns) -%}
    select distinct on ({{ partition }}) {{ partition }}, {{ columns }}
    from {{ relation }}
    order by {{ partition }}, stacks_block_height desc, event_index desc
{%- endmacro %}
