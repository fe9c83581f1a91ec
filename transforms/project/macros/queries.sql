{#- Query shapes several models share: a contract's staging select, the latest prices, the latest row per key. -#}

{#- A contract's staging model: its well-formed print events (stg_bithedge_prints), one typed column per catalog
    field (NULL where an event lacks it), keyed by `event_key`. -#}
{% macro contract_events(contract) %}
{#- meta.contract: the per-block run (transforms/selection.py) runs a mart only when a contract upstream printed -#}
{{ config(meta={'contract': contract}) }}
with source as (
    select * from {{ ref('stg_bithedge_prints') }}
    -- the contract's own checks, not the catalog-wide `problem`: the same verdict for its events, planned faster
    -- the full contract id, not contract_name: the planner's statistics on the column estimate how many
    -- events pass, where split_part(...) gets a default guess 300 times too small at 1M policies
    where contract_identifier = '{{ bithedge_contract_id(contract) }}'
      and {{ print_event_problem(only=contract) }} is null
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
{#- (analytics.oracle_stats.latest_price: the standing price of the latest burn height, i.e. the last submission;
    read from the mart through its (asset, stacks_block_height, event_index) index, not from every return) -#}
{% macro latest_prices() %}
    select
        (select price from {{ ref('mart_oracle_prices') }} where asset = 'BTC'
         order by stacks_block_height desc, event_index desc limit 1) as btc,
        (select price from {{ ref('mart_oracle_prices') }} where asset = 'STX'
         order by stacks_block_height desc, event_index desc limit 1) as stx
{% endmacro %}

{#- Each pool's latest row of marts.pool_states (its state now), found by a skip scan of the (token, tier,
    stacks_block_height) index: a probe per pool, whatever the length of the history. -#}
{% macro latest_pool_states() -%}
    select st.*
    from (
        with recursive pools as (
            (select token, tier from {{ ref('mart_pool_states') }} order by token, tier limit 1)
            union all
            select n.token, n.tier
            from pools as p
            cross join lateral (
                select s.token, s.tier from {{ ref('mart_pool_states') }} as s
                where (s.token, s.tier) > (p.token, p.tier)
                order by s.token, s.tier limit 1) as n
        )
        select * from pools
    ) as p
    cross join lateral (
        select * from {{ ref('mart_pool_states') }} as s
        where s.token = p.token and s.tier = p.tier
        order by s.stacks_block_height desc
        limit 1) as st
{%- endmacro %}

{#- The distinct tokens of an event mart with a lookup led by `token`, by a skip scan (a probe per token): a CTE
    body for `with recursive tokens as (...)`; its last row is a NULL token, which the reader filters out. -#}
{% macro token_skip_scan(relation) -%}
    (select token from {{ relation }} order by token limit 1)
    union all
    select (select e.token from {{ relation }} as e
            where e.token > t.token order by e.token limit 1)
    from tokens as t
    where t.token is not null
{%- endmacro %}

{#- The open book: policies with no settlement or void yet (analytics.policies.status_onchain 'active'), read
    from the mart through its `status` lookup, so the cost follows the ~50k open policies, not every policy ever
    written (the policies view's `coalesce(status, 'active') = 'active'` cannot use that index: at 1M policies
    every reader of the open book scanned all of them). A subquery with the mart's column names. -#}
{% macro open_policies(columns) -%}
    (select {{ columns }} from {{ ref('mart_policies') }} where status is null)
{%- endmacro %}
