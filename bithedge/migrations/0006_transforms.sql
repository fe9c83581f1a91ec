-- Transforms (issue 12, transforms/): what dbt needs from the table owner, and the analytics privileges.

-- Planner statistics for the print-event filter. Without them the planner misjudges how many rows of a contract
-- carry one event name and picks nested loops: the first build of the policies mart took 97 s instead of 2 s
-- (measured on a project of this shape). The expression must be the one the
-- staging models filter on (stg_bithedge_prints.event_name). Statistics need the table owner, so not dbt.
CREATE STATISTICS IF NOT EXISTS raw.events_print_event_name (mcv)
    ON contract_identifier, (value #>> '{value,event,value}') FROM raw.events;
ANALYZE raw.events;

-- Each mart's window starts at the lowest height of the blocks written since its last run (request_id is the
-- raw.observer_requests row that delivered the block); without this index that is a scan of every block.
CREATE INDEX IF NOT EXISTS blocks_request ON raw.blocks (request_id);

-- analytics: dbt (bithedge_transform) owns the views and the stress function it creates there; the keeper and
-- downstream readers get SELECT on every view and EXECUTE on every function it creates, now and later.
GRANT USAGE, CREATE ON SCHEMA analytics TO bithedge_transform;
ALTER DEFAULT PRIVILEGES FOR ROLE bithedge_transform IN SCHEMA analytics
  GRANT SELECT ON TABLES TO bithedge_keeper, bithedge_reader;
ALTER DEFAULT PRIVILEGES FOR ROLE bithedge_transform IN SCHEMA analytics
  GRANT EXECUTE ON FUNCTIONS TO bithedge_keeper, bithedge_reader;
