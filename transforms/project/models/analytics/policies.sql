-- One row per policy (the interface of transforms/README.md).
select
    p.policy_id,
    p.owner,
    p.token,
    p.buyer_tier,
    p.tier as pool_tier,
    p.strike,
    p.amount,
    p.premium,
    p.collateral,
    p.max_payout,
    p.expiry,
    p.quote_id,
    p.created_burn_height,
    p.created_stacks_height,
    b.block_at as created_at,
    '0x' || encode(p.created_txid, 'hex') as created_txid,
    p.spot_price as spot_at_creation,
    p.collateral_price as collateral_price_at_creation,
    coalesce(p.status, 'active') as status_onchain,
    case
        when p.status is not null then p.status
        when p.expiry < tip.burn_height then 'expired'
        else 'active'
    end as status,
    p.settlement_price,
    p.settlement_collateral_price,
    p.payout,
    p.released,
    p.settled_burn_height,
    '0x' || encode(p.settled_txid, 'hex') as settled_txid,
    p.settled_burn_height - p.expiry as settle_lag_blocks,
    p.signer,
    p.settler,
    p.protocol_fee as fee,
    p.fund_share,
    p.pool_premium,
    p.fund_cover,
    p.uncapped_payout,
    p.shortfall,
    p.refund,
    p.price_delay,
    p.void_after,
    p.missing_asset
from {{ ref('mart_policies') }} as p
cross join {{ ref('stg_chain_tip') }} as tip
left join {{ ref('mart_chain_blocks') }} as b on b.stacks_height = p.created_stacks_block_height
