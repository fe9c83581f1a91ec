-- analytics.policy_status_counts counts through the mart's indexes what grouping analytics.policies gives:
-- a row here is a status whose two counts differ.
select coalesce(c.status, p.status) as status, c.policies as counted, p.policies as grouped
from {{ ref('policy_status_counts') }} as c
full join (select status, count(*) as policies from {{ ref('policies') }} group by status) as p using (status)
where c.policies is distinct from p.policies
