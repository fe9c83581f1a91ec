-- Store raw.observer_requests.payload out of line WITHOUT compression (issue 6: replay throughput).
--
-- A /new_block body is tens to hundreds of kB, so every payload is TOASTed, and this Postgres build offers only
-- pglz (no lz4). Measured on a devnet recording (benchmarks/bench_indexer.py, 2 cores): compressing the payload
-- cost the Postgres backend ~16-18 µs per event, a third of all its work during replay, for a ~2.5x saving on
-- this one table's disk. Disk is the cheaper resource for an append-only archive that is read back only by
-- `bithedge indexer rebuild`; every reader of the derived tables is unaffected.
-- Existing rows keep their compressed form (SET STORAGE only applies to new rows).
ALTER TABLE raw.observer_requests ALTER COLUMN payload SET STORAGE EXTERNAL;
