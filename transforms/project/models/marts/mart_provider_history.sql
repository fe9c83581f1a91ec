{{ config(alias='provider_history', unique_key='event_key') }}
-- Event log: every deposit and withdrawal with the provider's shares after it.
select *, stacks_block_height as last_stacks_height
from {{ ref('int_provider_changes') }}
where {{ in_window() }}
