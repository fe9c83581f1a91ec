{{ config(alias='policies', unique_key='policy_id', meta={'tombstones': true, 'lookups': ['owner, policy_id', 'status', 'expiry']}) }}
-- One row per policy: its creation and, once settled, its settlement. An entity mart: each policy touched by
-- an event in the window (or whose stored row came from the window) is recomputed from the window's canonical
-- events plus the stored row's parts from below the window; an id no canonical event carries any more is
-- written as a tombstone and deleted by the post-hook (a reorg can hand a policy id to another policy).
with created as (
    select distinct on (policy_id) *
    from {{ ref('mart_registry_events') }}
    where event_name = 'policy-created' and {{ in_window('last_stacks_height') }}
    order by policy_id, stacks_block_height desc, event_index desc
),

settled as (
    -- a policy ends once: settled, or voided (v2) when no settlement price can exist
    select distinct on (policy_id) *
    from {{ ref('mart_registry_events') }}
    where event_name in ('policy-settled', 'policy-voided') and {{ in_window('last_stacks_height') }}
    order by policy_id, stacks_block_height desc, event_index desc
),

{% if is_incremental() %}
stored as (
    -- ids through the indexes (the window's rows, the ids its events touch), then their rows by key
    select * from {{ this }}
    where policy_id in (
        select policy_id from {{ this }} where last_stacks_height >= {{ mart_window_from() }}
        union select policy_id from created
        union select policy_id from settled)
),
{% else %}
stored as (
    select * from (select null::bigint as policy_id) as none where false
),
{% endif %}

ids as (
    select policy_id from created
    union select policy_id from settled
    union select policy_id from stored
),

joined as (
    select
        ids.policy_id,
        c.policy_id is not null as created_in_window,
        {% if is_incremental() %}
        st.policy_id is not null and st.created_stacks_block_height < {{ mart_window_from() }} as created_below,
        st.policy_id is not null and st.settled_stacks_block_height < {{ mart_window_from() }} as settled_below,
        {% else %}
        false as created_below,
        false as settled_below,
        {% endif %}
        s.policy_id is not null as settled_in_window,
        c, s, st
    from ids
    left join created as c on c.policy_id = ids.policy_id
    left join settled as s on s.policy_id = ids.policy_id
    left join stored as st on st.policy_id = ids.policy_id
)

select
    policy_id,
    {%- set creation = ['owner', 'quote_id', 'signer', 'token', 'tier', 'buyer_tier', 'strike', 'amount', 'expiry',
                        'premium', 'protocol_fee', 'fund_share', 'pool_premium', 'collateral', 'max_payout',
                        'stress_price', 'coverage_floor', 'spot_price', 'spot_price_height', 'quote_spot', 'issued_at',
                        'collateral_price', 'collateral_price_height', 'price_delay', 'void_after'] %}
    {%- for col in creation %}
    case when created_in_window then (c).{{ col }} {{ stored_if('created_below', col) }} end as {{ col }},
    {%- endfor %}
    case when created_in_window then (c).burn_height{{ stored_if('created_below', 'created_burn_height') }} end as created_burn_height,
    case when created_in_window then (c).stacks_height{{ stored_if('created_below', 'created_stacks_height') }} end as created_stacks_height,
    case when created_in_window then (c).stacks_block_height{{ stored_if('created_below', 'created_stacks_block_height') }} end as created_stacks_block_height,
    case when created_in_window then (c).txid{{ stored_if('created_below', 'created_txid') }} end as created_txid,
    case when settled_in_window then coalesce((s).status, 'voided'){{ stored_if('settled_below', 'status') }} end as status,
    {%- set settlement = ['payout', 'released', 'uncapped_payout', 'shortfall', 'fund_cover', 'refund',
                          'missing_asset', 'settlement_price', 'settlement_price_height', 'settler'] %}
    {%- for col in settlement %}
    case when settled_in_window then (s).{{ col }}{{ stored_if('settled_below', col) }} end as {{ col }},
    {%- endfor %}
    case when settled_in_window then (s).sender{{ stored_if('settled_below', 'voided_by') }} end as voided_by,
    case when settled_in_window then (s).collateral_price{{ stored_if('settled_below', 'settlement_collateral_price') }} end as settlement_collateral_price,
    case when settled_in_window then (s).collateral_price_height{{ stored_if('settled_below', 'settlement_collateral_price_height') }} end as settlement_collateral_price_height,
    case when settled_in_window then (s).burn_height{{ stored_if('settled_below', 'settled_burn_height') }} end as settled_burn_height,
    case when settled_in_window then (s).stacks_block_height{{ stored_if('settled_below', 'settled_stacks_block_height') }} end as settled_stacks_block_height,
    case when settled_in_window then (s).txid{{ stored_if('settled_below', 'settled_txid') }} end as settled_txid,
    greatest(
        case when created_in_window then (c).stacks_block_height{{ stored_if('created_below', 'created_stacks_block_height') }} end,
        case when settled_in_window then (s).stacks_block_height{{ stored_if('settled_below', 'settled_stacks_block_height') }} end
    ) as last_stacks_height,
    not (created_in_window or created_below) as tombstone
from joined
