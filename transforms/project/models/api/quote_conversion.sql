-- Every quote the API signed for this deployment's registry, and the policy it became (if any): a quote id is
-- used once per registry, by the buyer it names (the signature binds both).
with quotes as (
    select * from {{ source('api', 'quotes') }}
    where registry = '{{ bithedge_contract_id("bithedge-policy-registry") }}'
)

select
    q.quote_id,
    q.created_at,
    q.buyer,
    q.token,
    q.buyer_tier,
    q.pool_tier,
    q.strike,
    q.amount,
    q.expiry,
    q.premium,
    q.issued_at,
    q.valid_until,
    q.model_name,
    q.model_version,
    (q.pricing ->> 'volatility')::double precision as volatility,
    (q.pricing ->> 'utilization_loading_bp')::double precision as utilization_loading_bp,
    p.policy_id,
    p.created_burn_height as policy_created_burn_height,
    p.created_burn_height - q.issued_at as blocks_to_convert,
    p.status as policy_status,
    case
        when p.policy_id is not null then 'converted'
        when q.valid_until >= tip.burn_height then 'open'
        else 'lapsed'
    end as outcome
from quotes as q
cross join {{ ref('stg_chain_tip') }} as tip
left join {{ ref('policies') }} as p on p.quote_id = q.quote_id and p.owner = q.buyer
