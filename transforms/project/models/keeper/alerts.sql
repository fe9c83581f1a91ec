-- Every alert the keeper raised (quorum lost, oracle stale, guard blocking a true move, settlement lag, signer
-- balance low or empty, transaction stuck or dropped, ...), open or resolved.
select
    id as alert_id,
    kind,
    subject,
    message,
    details,
    raised_at,
    last_seen_at,
    resolved_at,
    resolved_at is null as open
from {{ source('keeper', 'alerts') }}
