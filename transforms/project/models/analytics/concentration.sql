-- Who the book depends on: the top 20 owners by open notional and the top 20 providers by position value, each
-- with its share, and the Herfindahl-Hirschman index (sum of squared shares, 0-1) of the whole population.
with owners as (
    select owner as who, null::text as token, sum(amount)::numeric as size
    from {{ open_policies('owner, amount') }} as p group by owner
),

providers as (
    select provider as who, token, sum(value)::numeric as size
    from {{ ref('providers') }} where shares > 0 group by provider, token
),

shares as (
    select 'owner' as kind, who, token, size, size / nullif(sum(size) over (), 0) as share from owners
    union all
    select 'provider', who, token, size, size / nullif(sum(size) over (partition by token), 0) from providers
),

ranked as (
    select *, row_number() over (partition by kind, token order by size desc, who) as rank,
           sum(share ^ 2) over (partition by kind, token) as hhi
    from shares
)

select kind, token, rank, who, size, share, hhi
from ranked
where rank <= 20
