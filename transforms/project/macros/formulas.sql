{#- The contract formulas of contracts/README.md ("Formulas"), the SQL side of the one formula set (the
    Python side is bithedge/protocol). Integer arithmetic on numeric, rounding as the contracts round. -#}

{#- Base units per whole token: the registry's `token-info` (1e6 µSTX per STX, 1e8 sats per sBTC). -#}
{% macro token_scale(token) -%}
  (case {{ token }} when 'STX' then 1000000::numeric when 'sBTC' then 100000000::numeric end)
{%- endmacro %}

{#- The oracle feed that prices a collateral token (sBTC is priced with the BTC feed, 1:1 peg). -#}
{% macro collateral_asset(token) -%}
  (case {{ token }} when 'STX' then 'STX' when 'sBTC' then 'BTC' end)
{%- endmacro %}

{% macro floor_div(a, b) -%}
  div(({{ a }})::numeric, ({{ b }})::numeric)
{%- endmacro %}

{% macro ceil_div(a, b) -%}
  div(({{ a }})::numeric + ({{ b }})::numeric - 1, ({{ b }})::numeric)
{%- endmacro %}

{#- floor(x · bp / 10000): a basis-point share, floored (fee and fund shares, caps of a pool's assets). -#}
{% macro bp_share(x, bp) -%}
  {{ floor_div('(' ~ x ~ ') * (' ~ bp ~ ')', 10000) }}
{%- endmacro %}

{#- Registry `usd-diff-to-units`: floor(usd · amount · scale / (1e8 · price)), a USD×1e8-per-BTC difference over
    `amount` sats in base units of a token priced `price`. -#}
{% macro usd_diff_to_units(usd, amount, scale, price) -%}
  {{ floor_div('(' ~ usd ~ ') * (' ~ amount ~ ') * (' ~ scale ~ ')', '100000000 * (' ~ price ~ ')') }}
{%- endmacro %}

{#- floor(max(0, K − S) · A · scale / (1e8 · P)): a USD×1e8 price gap on `amount` sats in collateral units. -#}
{% macro intrinsic_units(strike, spot, amount, token, collateral_price) -%}
  {{ usd_diff_to_units('greatest(' ~ strike ~ ' - ' ~ spot ~ ', 0)', amount, token_scale(token), collateral_price) }}
{%- endmacro %}

{#- Settlement: payout = min(collateral, floor(max(0, K − S_E) · A · scale / (1e8 · P_E))). -#}
{% macro policy_payout(strike, settlement_price, amount, token, collateral_price, collateral) -%}
  least({{ collateral }}, {{ intrinsic_units(strike, settlement_price, amount, token, collateral_price) }})
{%- endmacro %}

{#- Vault share price (A_p + 1) / (S_p + 1), in base units per share (a ratio, not rounded). -#}
{% macro share_price(assets, shares) -%}
  (({{ assets }})::numeric + 1) / (({{ shares }})::numeric + 1)
{%- endmacro %}

{#- What `shares` redeem for: floor(shares · (A_p + 1) / (S_p + 1)). -#}
{% macro shares_value(shares, assets, pool_shares) -%}
  {{ floor_div('(' ~ shares ~ ') * ((' ~ assets ~ ') + 1)', '(' ~ pool_shares ~ ') + 1') }}
{%- endmacro %}

{#- USD×1e8 value of `units` base units of `token` at a collateral price (USD×1e8 per whole token). -#}
{% macro usd_e8(units, token, price) -%}
  (({{ units }})::numeric * ({{ price }})::numeric / {{ token_scale(token) }})
{%- endmacro %}

{#- Governance (bithedge-governance `is-passed`): quorum (yes + no) · 10000 ≥ total · quorum-bp. -#}
{% macro gov_quorum_met(yes, no, total, quorum_bp) -%}
  (({{ yes }}) + ({{ no }})) * 10000 >= ({{ total }}) * ({{ quorum_bp }})
{%- endmacro %}

{#- threshold: yes · 10000 > (yes + no) · threshold-bp. -#}
{% macro gov_threshold_met(yes, no, threshold_bp) -%}
  ({{ yes }}) * 10000 > (({{ yes }}) + ({{ no }})) * ({{ threshold_bp }})
{%- endmacro %}
