{#- Risk formulas: the SQL side of bithedge/protocol/risk.py (Black–Scholes put and Greeks, r = 0; the
    historical-simulation scenario payout) and of the registry's stressed max payout (bithedge/protocol/formulas.py
    `policy_terms`). tests/transforms/test_formula_vectors.py runs the vector cases of each through these macros.
    Floats (double precision) for the Black–Scholes side; erf is PostgreSQL's (16+). -#}

{#- Φ(x), the standard normal distribution function. -#}
{% macro norm_cdf(x) -%}
  (0.5 * (1 + erf(({{ x }})::float8 / sqrt(2::float8))))
{%- endmacro %}

{#- φ(x); 0 where it is below ~1e-261 (0.5·x² ≥ 600). PostgreSQL raises where a float result underflows to 0
    (Python returns 0), and not only in exp: at 1M policies a deep out-of-the-money put's φ(d1) ≈ 1e-320 divided
    by spot·σ√T in its gamma raised "value out of range: underflow" and failed analytics.pool_risk. The margin
    keeps every later product and quotient of the Greeks above the smallest float. -#}
{% macro norm_pdf(x) -%}
  (case when 0.5 * ({{ x }})::float8 ^ 2 < 600 then exp(-0.5 * ({{ x }})::float8 ^ 2) / sqrt(2 * pi()) else 0::float8 end)
{%- endmacro %}

{#- Black–Scholes d1 and the standard deviation σ√T; NULL when T ≤ 0 or σ ≤ 0 (the put is then at intrinsic). -#}
{% macro bs_sqrt_t(vol, years) -%}
  (case when ({{ years }})::float8 > 0 and ({{ vol }})::float8 > 0 then sqrt(({{ years }})::float8) end)
{%- endmacro %}

{% macro bs_sd(vol, years) -%}
  (({{ vol }})::float8 * {{ bs_sqrt_t(vol, years) }})
{%- endmacro %}

{% macro bs_d1(spot, strike, vol, years) -%}
  ((ln(({{ spot }})::float8 / ({{ strike }})::float8) + 0.5 * {{ bs_sd(vol, years) }} ^ 2) / {{ bs_sd(vol, years) }})
{%- endmacro %}

{#- One long put per BTC of notional, spot/strike in USD×1e8, vol a fraction per year, years of block time:
    value (USD×1e8), delta (∂V/∂S), gamma (per USD×1e8), vega (USD×1e8 per 1.0 of vol), theta (USD×1e8 per year). -#}
{% macro bs_put_value(spot, strike, vol, years) -%}
  coalesce(({{ strike }})::float8 * {{ norm_cdf('-(' ~ bs_d1(spot, strike, vol, years) ~ ' - ' ~ bs_sd(vol, years) ~ ')') }}
           - ({{ spot }})::float8 * {{ norm_cdf('-' ~ bs_d1(spot, strike, vol, years)) }},
           greatest(({{ strike }})::float8 - ({{ spot }})::float8, 0))
{%- endmacro %}

{% macro bs_put_delta(spot, strike, vol, years) -%}
  coalesce({{ norm_cdf(bs_d1(spot, strike, vol, years)) }} - 1,
           case when ({{ spot }})::float8 < ({{ strike }})::float8 then -1::float8 else 0::float8 end)
{%- endmacro %}

{% macro bs_put_gamma(spot, strike, vol, years) -%}
  coalesce({{ norm_pdf(bs_d1(spot, strike, vol, years)) }} / (({{ spot }})::float8 * {{ bs_sd(vol, years) }}), 0::float8)
{%- endmacro %}

{% macro bs_put_vega(spot, strike, vol, years) -%}
  coalesce(({{ spot }})::float8 * {{ norm_pdf(bs_d1(spot, strike, vol, years)) }} * {{ bs_sqrt_t(vol, years) }},
           0::float8)
{%- endmacro %}

{% macro bs_put_theta(spot, strike, vol, years) -%}
  coalesce(-({{ spot }})::float8 * {{ norm_pdf(bs_d1(spot, strike, vol, years)) }} * ({{ vol }})::float8
           / (2 * {{ bs_sqrt_t(vol, years) }}), 0::float8)
{%- endmacro %}

{#- A policy's payout at expiry (USD×1e8, uncapped) when BTC moves from `spot` by the log return z·√seconds
    (z: a historical log return per √second of block time). -#}
{% macro scenario_payout(spot, strike, amount, z, seconds) -%}
  (greatest(({{ strike }})::float8
            - ({{ spot }})::float8 * exp(({{ z }})::float8 * sqrt(greatest(({{ seconds }})::float8, 0))), 0)
   * ({{ amount }})::float8 / 100000000)
{%- endmacro %}

{#- Registry `policy-terms`: the stressed collateral price P_s = max(1, floor(P · σ / 10000)), σ the token's
    `stress.*-price-bp`. -#}
{% macro stress_price(price, stress_bp) -%}
  greatest(1::numeric, {{ floor_div('(' ~ price ~ ') * (' ~ stress_bp ~ ')', 10000) }})
{%- endmacro %}

{#- The coverage floor F: P_s for sBTC (collateral = BTC), 0 for STX. -#}
{% macro coverage_floor(token, price, stress_bp) -%}
  (case when {{ token }} = 'sBTC' then {{ stress_price(price, stress_bp) }} else 0::numeric end)
{%- endmacro %}

{#- max-payout = ceil(max(0, K − F) · A · scale / (1e8 · P_s)): the payout the contract covers in full, in
    collateral units (the one collateral is sized from). -#}
{% macro stressed_max_payout(token, strike, amount, price, stress_bp) -%}
  (case when ({{ strike }}) > {{ coverage_floor(token, price, stress_bp) }}
        then {{ ceil_div('((' ~ strike ~ ') - ' ~ coverage_floor(token, price, stress_bp) ~ ') * (' ~ amount ~ ') * '
                         ~ token_scale(token), '100000000 * ' ~ stress_price(price, stress_bp)) }}
        else 0::numeric end)
{%- endmacro %}
