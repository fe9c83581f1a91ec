{{ config(pre_hook="{{ create_stress_payout() }}") }}
-- Per pool: payout at current prices and under BTC shocks of -10/-20/-30/-50 % with STX moved by the same and by
-- 1.5x the shock, capital adequacy (assets / stressed payout), coverage (collateral / the contract's stressed max
-- payout at current prices), and the short-put book's Black-Scholes value, Greeks and historical VaR (summed
-- from policy_risk). Depends on oracle_stats, policy_risk and pools; the function is created by this model's
-- pre-hook (it reads policies and oracle_stats).
{%- set shocks = [10, 20, 30, 50] %}
-- the open book from policy_risk: coverage against the contract's own sizing (each policy's stressed max payout,
-- registry `policy-terms` v2, at the current collateral price and stress parameter), value, Greeks and VaR
with book as (
    select token, tier, sum(collateral) as collateral, sum(max_payout_now) as max_payout_now,
           sum(value_usd_e8) as book_value_usd_e8, sum(delta_sats) as delta_sats,
           sum(gamma_sats_per_usd) as gamma_sats_per_usd, sum(vega_usd_e8) as vega_usd_e8,
           sum(theta_usd_e8_per_day) as theta_usd_e8_per_day,
           sum(payout_var_95_usd_e8) as var_95_usd_e8, sum(payout_var_99_usd_e8) as var_99_usd_e8
    from {{ ref('policy_risk') }}
    group by token, tier
),

btc_vol as (
    select realized_vol_1008 as vol from {{ ref('oracle_stats') }} where asset = 'BTC'
)

select
    pl.token,
    pl.tier,
    pl.assets,
    pl.locked,
    now.open_policies,
    now.payout as payout_now,
    {%- for s in shocks %}
    s{{ s }}.payout as payout_btc_m{{ s }},
    s{{ s }}.adequacy as adequacy_btc_m{{ s }},
    x{{ s }}.payout as payout_btc_m{{ s }}_stx_x1_5,
    x{{ s }}.adequacy as adequacy_btc_m{{ s }}_stx_x1_5,
    {%- endfor %}
    case when g.max_payout_now > 0 then g.collateral / g.max_payout_now end as coverage_ratio,
    -- a pool without open policies has no exposure (0); a VaR without return history is NULL
    coalesce(g.book_value_usd_e8, 0) as book_value_usd_e8,
    coalesce(g.delta_sats, 0) as delta_sats,
    coalesce(g.gamma_sats_per_usd, 0) as gamma_sats_per_usd,
    coalesce(g.vega_usd_e8, 0) as vega_usd_e8,
    coalesce(g.theta_usd_e8_per_day, 0) as theta_usd_e8_per_day,
    case when g.token is null then 0 else g.var_95_usd_e8 end as var_95_usd_e8,
    case when g.token is null then 0 else g.var_99_usd_e8 end as var_99_usd_e8,
    (select vol from btc_vol) as btc_vol
from {{ ref('pools') }} as pl
join {{ this.schema }}.stress_payout(0, 0) as now using (token, tier)
{%- for s in shocks %}
join {{ this.schema }}.stress_payout(-{{ s / 100 }}, -{{ s / 100 }}) as s{{ s }} using (token, tier)
join {{ this.schema }}.stress_payout(-{{ s / 100 }}, greatest(-{{ 1.5 * s / 100 }}, -0.99)) as x{{ s }} using (token, tier)
{%- endfor %}
left join book as g using (token, tier)
