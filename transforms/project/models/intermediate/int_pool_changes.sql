-- Every change of a pool (token x tier) with the pool totals after it, from the vault's and the registry's events.
-- v2 accounting (contracts/README.md): a premium's pool part waits in `unearned` from creation and joins the
-- earned assets at settlement (`pool-premium`); a void refunds it; payouts leave the earned assets.
with vault as (
    select
        event_key, stacks_block_height, tx_index, event_index, txid, event_name,
        token, tier, provider as account,
        case when event_name = 'pool-deposit' then amount else 0 end as deposited,
        case when event_name in ('pool-withdraw', 'withdrawal-executed') then amount else 0 end as withdrawn,
        0::numeric as premium_earned, 0::numeric as payout, 0::numeric as collateral_locked,
        0::numeric as collateral_released, 0::numeric as refund,
        null::bigint as policy_id,
        pool_assets, pool_unearned, pool_shares, pool_locked, pool_pending_shares, burn_height, stacks_height,
        0::numeric as premium_received
    from {{ ref('stg_vault') }}
),

registry as (
    -- the registry's prints as marts.registry_events decoded them; its height as `last_stacks_height`, the
    -- column its index covers, so a window on this view's height is a range scan there, not a pass over 2M rows
    select
        event_key, last_stacks_height as stacks_block_height, tx_index, event_index, txid, event_name,
        token, tier, owner as account,
        0::numeric, 0::numeric,
        case when event_name = 'policy-settled' then pool_premium else 0 end,
        coalesce(payout, 0),
        case when event_name = 'policy-created' then collateral else 0 end,
        case when event_name in ('policy-settled', 'policy-voided') then collateral else 0 end,
        coalesce(refund, 0),
        policy_id,
        pool_assets, pool_unearned, pool_shares, pool_locked, pool_pending_shares, burn_height, stacks_height,
        -- the vault counts a premium as received when the policy locks its collateral
        case when event_name = 'policy-created' then pool_premium else 0 end
    from {{ ref('mart_registry_events') }}
)

select * from vault
union all
select * from registry
