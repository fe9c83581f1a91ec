-- Per asset: the latest price and its age, and realized volatility over the last 144 and 1,008 burn blocks,
-- annualized by block time (sum of squared log returns over the seconds they span), not by block counts.
with recorded as (
    -- the price that stands at each burn height (a later submission at the same height replaced it)
    select distinct on (asset, burn_height) asset, burn_height, price, block_at
    from {{ ref('mart_oracle_prices') }}
    order by asset, burn_height, stacks_block_height desc, event_index desc
),

returns as (
    select
        asset, burn_height, price, block_at,
        ln(price::numeric / nullif(lag(price) over w, 0)) as log_return,
        extract(epoch from block_at - lag(block_at) over w) as dt_s
    from recorded
    window w as (partition by asset order by burn_height)
),

tip as (select * from {{ ref('stg_chain_tip') }})

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
join lateral (
    select price, burn_height from recorded as x where x.asset = r.asset order by burn_height desc limit 1
) as latest on true
group by r.asset, latest.price, latest.burn_height, tip.burn_height
