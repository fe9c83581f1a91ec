-- Narrower raw.events indexes (issue 6: replay throughput). Each secondary index on raw.events cost the
-- replay about as much Postgres CPU per row as a third of the heap insert; these two were not needed:
--
-- * events_height (block_height, event_index) WHERE canonical: the canonical events at a height are reached
--   through the unique blocks_canonical_height index and then the events primary key
--   (index_block_hash, event_index), already in event order:
--     SELECT e.* FROM raw.blocks b JOIN raw.events e USING (index_block_hash)
--     WHERE b.canonical AND b.block_height = $1 ORDER BY e.event_index;
-- * events_contract becomes partial on contract_identifier IS NOT NULL as well: STX transfer/mint/burn
--   events have no contract, and no reader looks events up by a NULL contract (an equality on
--   contract_identifier implies NOT NULL, so the planner still uses it).
--
-- Kept: the primary keys, blocks_canonical_height (one canonical block per height), events_txid,
-- events_asset, and every raw.transactions index (txid, contract, sender, height).
DROP INDEX raw.events_height;
DROP INDEX raw.events_contract;
CREATE INDEX events_contract ON raw.events (contract_identifier, topic, block_height, event_index)
    WHERE canonical AND contract_identifier IS NOT NULL;
