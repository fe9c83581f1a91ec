-- Per open policy, the pool's side of it (short one put on `amount` sats): Black–Scholes value and Greeks at the
-- latest BTC price with the 1,008-block realized volatility (r = 0), and the payout at expiry in the historical
-- scenarios of the 95 % and 99 % value at risk. Time runs on block time: blocks to expiry times the seconds per
-- burn block seen over the same 1,008 blocks, the clock the volatility is annualized with (macros/risk.sql;
-- the Python side is bithedge/protocol/risk.py).
with tip as (select * from {{ ref('stg_chain_tip') }}),

btc as (
    select latest_price as spot, realized_vol_1008::float8 as vol from {{ ref('oracle_stats') }} where asset = 'BTC'
),

stx as (select latest_price as price from {{ ref('oracle_stats') }} where asset = 'STX'),

stress as (
    select max(value) filter (where key = 'stress.stx-price-bp') as stx_bp,
           max(value) filter (where key = 'stress.sbtc-price-bp') as sbtc_bp
    from {{ ref('parameters') }}
),

clock as (
    select extract(epoch from max(b.block_at) - min(b.block_at))::float8
           / nullif(max(b.burn_height) - min(b.burn_height), 0) as seconds_per_burn_block
    from {{ ref('mart_chain_blocks') }} as b
    cross join tip
    where b.burn_height > tip.burn_height - 1008
),

-- the historical scenarios: every recorded BTC log return of the window, per √second of block time
scenarios as (
    select
        percentile_disc(0.05) within group (order by r.log_return::float8 / sqrt(r.dt_s::float8)) as z_95,
        percentile_disc(0.01) within group (order by r.log_return::float8 / sqrt(r.dt_s::float8)) as z_99
    from {{ ref('int_oracle_returns') }} as r
    cross join tip
    where r.asset = 'BTC' and r.burn_height > tip.burn_height - 1008 and r.log_return is not null and r.dt_s > 0
),

-- materialized, with spot and strike cast once: inlined, every expansion of the Black–Scholes macros below
-- recomputed the years to expiry and cast both numerics again, dozens of times per policy
book as materialized (
    select
        p.policy_id, p.token, p.pool_tier as tier, p.strike, p.amount, p.expiry, p.collateral,
        btc.spot, btc.vol, clock.seconds_per_burn_block, sc.z_95, sc.z_99,
        btc.spot::float8 as spot_f, p.strike::float8 as strike_f,
        -- the contract's max payout (registry `policy-terms`) at the current collateral price and stress parameter
        {{ stressed_max_payout('p.token', 'p.strike', 'p.amount', "case p.token when 'STX' then stx.price else btc.spot end",
                               "case p.token when 'STX' then stress.stx_bp else stress.sbtc_bp end") }} as max_payout_now,
        greatest(p.expiry - tip.burn_height, 0) * clock.seconds_per_burn_block as seconds_to_expiry,
        greatest(p.expiry - tip.burn_height, 0) * clock.seconds_per_burn_block / 31557600 as years
    from {{ open_policies('policy_id, token, tier as pool_tier, strike, amount, expiry, collateral') }} as p
    cross join tip
    cross join btc
    cross join clock
    cross join scenarios as sc
    left join stx on true
    cross join stress
),

greeks as (
    select
        b.*,
        {{ bs_put_value('b.spot_f', 'b.strike_f', 'b.vol', 'b.years') }} as put_value,
        {{ bs_put_delta('b.spot_f', 'b.strike_f', 'b.vol', 'b.years') }} as put_delta,
        {{ bs_put_gamma('b.spot_f', 'b.strike_f', 'b.vol', 'b.years') }} as put_gamma,
        {{ bs_put_vega('b.spot_f', 'b.strike_f', 'b.vol', 'b.years') }} as put_vega,
        {{ bs_put_theta('b.spot_f', 'b.strike_f', 'b.vol', 'b.years') }} as put_theta
    from book as b
)

select
    policy_id,
    token,
    tier,
    strike,
    amount,
    expiry,
    spot,
    vol,
    seconds_to_expiry,
    amount / 1e8 * put_value as value_usd_e8,
    -- the pool is short: its Greeks are the long put's negated (0 − x, so a zero stays +0)
    0 - amount * put_delta as delta_sats,
    0 - amount * put_gamma * 1e8 as gamma_sats_per_usd,
    0 - amount / 1e8 * put_vega * 0.01 as vega_usd_e8,
    0 - amount / 1e8 * put_theta * 86400 / 31557600 as theta_usd_e8_per_day,
    -- NULL without a return history (no scenario)
    case when z_95 is not null then {{ scenario_payout('spot', 'strike', 'amount', 'z_95', 'seconds_to_expiry') }}
    end as payout_var_95_usd_e8,
    case when z_99 is not null then {{ scenario_payout('spot', 'strike', 'amount', 'z_99', 'seconds_to_expiry') }}
    end as payout_var_99_usd_e8,
    collateral,
    max_payout_now
from greeks
