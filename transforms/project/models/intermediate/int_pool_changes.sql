-- Every change of a pool (token x tier) with the pool totals after it, from the vault's and the registry's events.
with vault as (
    select
        event_key, stacks_block_height, tx_index, event_index, txid, event_name,
        token, tier, provider as account,
        case when event_name = 'pool-deposit' then amount else 0 end as deposited,
        case when event_name = 'pool-withdraw' then amount else 0 end as withdrawn,
        0::numeric as premium, 0::numeric as payout, 0::numeric as collateral_locked, 0::numeric as collateral_released,
        null::bigint as policy_id,
        pool_assets, pool_shares, pool_locked, burn_height, stacks_height
    from {{ ref('stg_vault') }}
),

registry as (
    select
        event_key, stacks_block_height, tx_index, event_index, txid, event_name,
        token, tier, owner as account,
        0::numeric, 0::numeric,
        -- the premium enters the pool at creation; the settled event repeats it for reference only
        case when event_name = 'policy-created' then premium else 0 end,
        coalesce(payout, 0),
        case when event_name = 'policy-created' then collateral else 0 end,
        case when event_name = 'policy-settled' then collateral else 0 end,
        policy_id,
        pool_assets, pool_shares, pool_locked, burn_height, stacks_height
    from {{ ref('stg_policy_registry') }}
)

select * from vault
union all
select * from registry
