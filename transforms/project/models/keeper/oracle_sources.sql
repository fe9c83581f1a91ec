-- Per asset and price source, over every round the keeper stored: how often the source was usable (uptime),
-- how fast it answered, and how far its price was from the round's median (the provider performance metrics).
with quotes as (
    select
        r.asset,
        r.at,
        r.median,
        q.source,
        q.status,
        q.reason,
        q.price_usd,
        q.latency_ms
    from {{ source('keeper', 'price_rounds') }} as r
    cross join lateral jsonb_to_recordset(r.quotes)
        as q(source text, status text, reason text, price_usd bigint, latency_ms double precision)
)

select
    asset,
    source,
    count(*)::bigint as rounds,
    (count(*) filter (where status = 'ok'))::bigint as usable_rounds,
    round((count(*) filter (where status = 'ok'))::numeric / count(*), 4) as uptime,
    percentile_cont(0.5) within group (order by latency_ms)::numeric as median_latency_ms,
    max(latency_ms)::numeric as max_latency_ms,
    round(avg(abs(price_usd - median) * 10000.0 / median) filter (where status = 'ok' and median > 0), 2)
        as mean_abs_deviation_bp,
    round(max(abs(price_usd - median) * 10000.0 / median) filter (where status = 'ok' and median > 0), 2)
        as max_abs_deviation_bp,
    (array_agg(reason order by at desc) filter (where status <> 'ok'))[1] as last_exclusion_reason,
    max(at) as last_round_at
from quotes
group by asset, source
