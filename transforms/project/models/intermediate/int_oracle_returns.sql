-- Per asset and burn height: the price that stands there (a later submission at the same height replaced it),
-- its block time, and the log return and seconds since the previous recorded height. Read by oracle_stats
-- (realized volatility) and policy_risk (the historical scenarios of the value at risk).
with recorded as (
    select distinct on (asset, burn_height) asset, burn_height, price, block_at
    from {{ ref('mart_oracle_prices') }}
    order by asset, burn_height, stacks_block_height desc, event_index desc
)

select
    asset, burn_height, price, block_at,
    ln(price::numeric / nullif(lag(price) over w, 0)) as log_return,
    extract(epoch from block_at - lag(block_at) over w) as dt_s
from recorded
window w as (partition by asset order by burn_height)
