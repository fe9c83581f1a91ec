{{ config(alias='pool_history', unique_key='event_key', meta={'lookups': ['policy_id', 'token, tier, burn_height', 'event_name']}) }}
-- Event log: every pool change (deposit, withdraw, policy created or settled, pool created) with the totals after.
select *, stacks_block_height as last_stacks_height
from {{ ref('int_pool_changes') }}
where {{ in_window() }}
