{{ config(pre_hook="{{ create_stress_payout() }}") }}
-- Per pool: payout at current prices and under BTC shocks of -10/-20/-30/-50 % with STX moved by the same and by
-- 1.5x the shock, capital adequacy (assets / stressed payout) and coverage (collateral / max payout at current
-- prices). Depends on oracle_stats, policies and pools; the function is created by this model's pre-hook.
{%- set shocks = [10, 20, 30, 50] %}
with now_prices as ({{ latest_prices() }}),

coverage as (
    select p.token, p.pool_tier as tier, sum(p.collateral) as collateral,
           sum({{ policy_max_payout('p.strike', 'p.amount', 'p.token', "case p.token when 'STX' then np.stx else np.btc end") }}) as max_payout_now
    from {{ ref('policies') }} as p
    cross join now_prices as np
    where p.status_onchain = 'active'
    group by p.token, p.pool_tier
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
    case when c.max_payout_now > 0 then c.collateral / c.max_payout_now end as coverage_ratio
from {{ ref('pools') }} as pl
join {{ this.schema }}.stress_payout(0, 0) as now using (token, tier)
{%- for s in shocks %}
join {{ this.schema }}.stress_payout(-{{ s / 100 }}, -{{ s / 100 }}) as s{{ s }} using (token, tier)
join {{ this.schema }}.stress_payout(-{{ s / 100 }}, greatest(-{{ 1.5 * s / 100 }}, -0.99)) as x{{ s }} using (token, tier)
{%- endfor %}
left join coverage as c using (token, tier)
