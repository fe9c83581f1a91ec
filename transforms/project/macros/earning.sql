{#- Premium earned over time: the SQL side of bithedge/protocol/earning.py (vector formula `premium_earned`). -#}
{#- The part of `amount` earned pro rata over the coverage [created, expiry) that falls in [lo, hi):
    amount × overlap / (expiry − created) (platform_daily's premium earned; a ratio, not rounded). -#}
{% macro earned_between(amount, created, expiry, lo, hi) -%}
  (({{ amount }})::numeric * greatest(least({{ expiry }}, {{ hi }}) - greatest({{ created }}, {{ lo }}), 0)
   / nullif(({{ expiry }}) - ({{ created }}), 0))
{%- endmacro %}
