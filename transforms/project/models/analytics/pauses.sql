-- Per pausable action: its flag now and who set it (v2; an action never paused has no row).
select distinct on (action) action, paused, sender as set_by, burn_height as set_burn_height
from {{ ref('mart_pause_events') }}
order by action, stacks_block_height desc, event_index desc
