{#- analytics.stress_payout(btc_shock, stx_shock): per pool, what settling every open policy would pay if BTC and
    STX moved by the given signed fractions (-0.3 = -30 %) from their latest oracle prices. The dashboards'
    stress slider calls it; pool_risk reads it at fixed shocks. sBTC collateral moves with BTC (1:1 peg). -#}
{% macro create_stress_payout() -%}
  set local check_function_bodies = off;
  create or replace function {{ this.schema }}.stress_payout(btc_shock numeric, stx_shock numeric)
  returns table (token text, tier text, open_policies bigint, payout numeric, assets numeric, free_after_payout numeric,
                 adequacy numeric)
  -- security definer: the body reads the marts through their indexes, which the readers who call it may not
  -- read (a view checks its owner's rights, a function its caller's); the fixed search_path keeps it safe
  language sql stable security definer set search_path = pg_catalog, pg_temp as $fn$
    with prices as (
        select latest.btc * (1 + btc_shock) as btc, latest.stx * (1 + stx_shock) as stx
        from ({{ latest_prices() }}) as latest
    ),
    open_book as (
        select p.token, p.pool_tier as tier, count(*) as open_policies, sum(p.collateral) as collateral,
               sum({{ policy_payout('p.strike', 'floor(pr.btc)', 'p.amount', 'p.token',
                                    "floor(case p.token when 'STX' then pr.stx else pr.btc end)", 'p.collateral') }}) as payout
        from {{ open_policies('token, tier as pool_tier, strike, amount, collateral') }} as p
        cross join prices as pr
        group by p.token, p.pool_tier
    )
    select
        pl.token, pl.tier,
        coalesce(b.open_policies, 0),
        coalesce(b.payout, 0),
        pl.assets,
        -- every open policy settles: assets lose the payout, their collateral is no longer locked
        pl.assets - coalesce(b.payout, 0) - (pl.locked - coalesce(b.collateral, 0)),
        case when coalesce(b.payout, 0) > 0 then pl.assets / b.payout end
    -- each pool's latest state by its index probe, not the pools view, which also counts every pool's providers
    -- (at 1M policies a call took ~34 ms with the view, ~31 ms without; analytics.pool_risk makes nine)
    from ({{ latest_pool_states() }}) as pl
    left join open_book as b using (token, tier)
  $fn$
{%- endmacro %}
