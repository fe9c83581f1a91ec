-- Open policies by moneyness (strike / latest BTC price) x time to expiry (burn blocks): count, notional and the
-- payout at risk at current prices (collateral units are summed per token).
with spot as ({{ latest_prices() }}),

open_book as (
    select p.token, p.strike, p.amount, p.collateral, s.btc, s.stx,
           p.strike::numeric / nullif(s.btc, 0) as moneyness,
           p.expiry - tip.burn_height as blocks_to_expiry
    from {{ open_policies('token, strike, amount, expiry, collateral') }} as p
    cross join spot as s
    cross join {{ ref('stg_chain_tip') }} as tip
)

select
    case when moneyness < 0.8 then 'a: < 0.80' when moneyness < 0.9 then 'b: 0.80-0.90'
         when moneyness < 1.0 then 'c: 0.90-1.00' when moneyness < 1.1 then 'd: 1.00-1.10'
         else 'e: >= 1.10' end as moneyness_bucket,
    case when blocks_to_expiry < 0 then 'a: past expiry' when blocks_to_expiry < 144 then 'b: < 144'
         when blocks_to_expiry < 1008 then 'c: 144-1008' when blocks_to_expiry < 4320 then 'd: 1008-4320'
         else 'e: >= 4320' end as expiry_bucket,
    token,
    count(*) as policies,
    sum(amount) as notional_sats,
    sum({{ usd_e8('amount', "'sBTC'", 'btc') }}) as notional_usd_e8,  -- BTC sats scale like sBTC
    sum({{ policy_payout('strike', 'btc', 'amount', 'token', "case token when 'STX' then stx else btc end", 'collateral') }}) as payout_at_risk
from open_book
group by 1, 2, 3
