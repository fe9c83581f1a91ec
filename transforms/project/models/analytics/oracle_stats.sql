-- Per asset: the latest price and its age, and realized volatility over the last 144 and 1,008 burn blocks,
-- annualized by block time (sum of squared log returns over the seconds they span), not by block counts.
with returns as (
    select * from {{ ref('int_oracle_returns') }}
),

tip as (select * from {{ ref('stg_chain_tip') }}),

latest as (
    -- once per asset (a lateral per return row recomputed the returns' window over the whole history each time)
    select distinct on (asset) asset, price, burn_height
    from returns
    order by asset, burn_height desc
)

select
    r.asset,
    latest.price as latest_price,
    latest.burn_height as latest_burn_height,
    tip.burn_height - latest.burn_height as age_blocks,
    count(*) as prices,
    {%- for window in [144, 1008] %}
    sqrt(sum(r.log_return ^ 2) filter (where r.burn_height > tip.burn_height - {{ window }})
         / nullif(sum(r.dt_s) filter (where r.burn_height > tip.burn_height - {{ window }} and r.log_return is not null), 0)
         * 31557600) as realized_vol_{{ window }}{{ ',' if not loop.last }}
    {%- endfor %}
from returns as r
cross join tip
join latest using (asset)
group by r.asset, latest.price, latest.burn_height, tip.burn_height
