-- Per pricing model version and token: how often its quotes became policies, and what the policies it priced
-- earned against what they paid out (the model's validation against what happened).
with c as (
    select q.*, p.premium as policy_premium, p.pool_premium, p.payout, p.fund_cover, p.status, p.max_payout
    from {{ ref('quote_conversion') }} as q
    left join {{ ref('policies') }} as p using (policy_id)
)

select
    model_name,
    model_version,
    token,
    count(*) as quotes,
    count(policy_id) as policies,
    count(policy_id)::numeric / count(*) as conversion_rate,
    coalesce(sum(policy_premium), 0) as premium_written,
    count(*) filter (where status in ('settled-itm', 'settled-otm')) as policies_settled,
    coalesce(sum(pool_premium) filter (where status in ('settled-itm', 'settled-otm')), 0) as pool_premium_earned,
    coalesce(sum(policy_premium) filter (where status in ('settled-itm', 'settled-otm')), 0) as premium_settled,
    coalesce(sum(payout + coalesce(fund_cover, 0)) filter (where status in ('settled-itm', 'settled-otm')), 0) as paid_to_buyers,
    coalesce(sum(payout + coalesce(fund_cover, 0)) filter (where status in ('settled-itm', 'settled-otm')), 0)
        / nullif(sum(policy_premium) filter (where status in ('settled-itm', 'settled-otm')), 0) as loss_ratio,
    count(*) filter (where status = 'settled-itm') as policies_itm,
    count(*) filter (where status = 'voided') as policies_voided,
    count(*) filter (where status in ('active', 'expired')) as policies_open,
    coalesce(sum(max_payout) filter (where status in ('active', 'expired')), 0) as open_max_payout,
    avg(volatility) as mean_volatility
from c
group by model_name, model_version, token
