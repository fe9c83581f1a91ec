-- Invariant (contracts/README.md): a pool's locked = Σ collateral of its active policies.
select p.token, p.tier, p.locked, coalesce(o.collateral, 0) as open_collateral
from {{ ref('pools') }} as p
left join (
    select token, pool_tier as tier, sum(collateral) as collateral
    from {{ ref('policies') }} where status_onchain = 'active' group by 1, 2
) as o using (token, tier)
where p.locked <> coalesce(o.collateral, 0)
