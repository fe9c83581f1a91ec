-- The indexer's SQL, every statement named (loaded by indexer/sql/__init__.py into indexer.sql.queries).
-- Each block: "-- name: <name>", one description line, one "-- params:" line, then the statement.
-- Column lists that follow a row type of indexer/rows.py are {slots} filled from that type (templates only).

-- name: writer_lock_try
-- Take the single-writer advisory lock if free (held for the connection's lifetime).
-- params: $1 indexer.ingest.WRITER_LOCK_KEY
SELECT pg_try_advisory_lock($1);

-- name: writer_lock_wait
-- Take the single-writer advisory lock, waiting for the holder to release it.
-- params: $1 indexer.ingest.WRITER_LOCK_KEY
SELECT pg_advisory_lock($1);

-- name: writer_running
-- Whether any session of this database holds the writer lock (a bigint key is split into classid/objid).
-- params: $1 indexer.ingest.WRITER_LOCK_KEY
SELECT count(*) > 0 FROM pg_locks
WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND (classid::bigint << 32 | objid::bigint) = $1;

-- name: array_column_types
-- SQL type of every column of the tables the one-statement write sends as arrays (for the casts).
-- params: none
SELECT c.relname, a.attname, format_type(a.atttypid, NULL) FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'raw' AND c.relname IN ('transactions', 'events') AND a.attnum > 0 AND NOT a.attisdropped;

-- name: canonical_top
-- The highest canonical block height (NULL when empty): the chain window ends there.
-- params: none
SELECT max(block_height) FROM raw.blocks WHERE canonical;

-- name: chain_window
-- The stored blocks at or above a height: the writer's in-memory chain window.
-- params: $1 lowest height
SELECT index_block_hash, block_height, parent_index_block_hash, canonical FROM raw.blocks WHERE block_height >= $1;

-- name: chain_history
-- The stored blocks fork choice looks at for a block below the window: itself, its non-canonical ancestry down to (and including) the first canonical block (always stepping to a lower height), and the canonical blocks from just below there up to a height.
-- params: $1 the new block, $2 its parent, $3 its height, $4 the (exclusive) top of the canonical range to read
WITH RECURSIVE up AS (
    SELECT index_block_hash, block_height, parent_index_block_hash, canonical FROM raw.blocks
    WHERE index_block_hash = $2
  UNION ALL
    SELECT b.index_block_hash, b.block_height, b.parent_index_block_hash, b.canonical
    FROM up JOIN raw.blocks b ON b.index_block_hash = up.parent_index_block_hash
    WHERE NOT up.canonical AND b.block_height < up.block_height
)
SELECT index_block_hash, block_height, parent_index_block_hash, canonical FROM up
UNION ALL
SELECT index_block_hash, block_height, parent_index_block_hash, canonical FROM raw.blocks
WHERE index_block_hash = $1
UNION ALL
SELECT index_block_hash, block_height, parent_index_block_hash, canonical FROM raw.blocks
WHERE canonical AND block_height >= LEAST($3, (SELECT min(block_height) FROM up)) - 1 AND block_height < $4;

-- name: block_stored
-- Whether a block is in raw.blocks (one below the in-memory window).
-- params: $1 index_block_hash
SELECT EXISTS (SELECT 1 FROM raw.blocks WHERE index_block_hash = $1);

-- name: burn_blocks
-- Every stored burn block with its flag (the writer keeps all of them in memory).
-- params: none
SELECT burn_block_hash, burn_block_height, canonical FROM raw.burn_blocks;

-- name: chain_tip
-- The one raw.chain_tip row.
-- params: none
SELECT * FROM raw.chain_tip;

-- name: next_request_ids
-- Draw request ids for a batch before its rows are COPYed.
-- params: $1 how many
SELECT array_agg(nextval('raw.observer_requests_id_seq')) FROM generate_series(1, $1);

-- name: set_outcomes
-- Rebuild: record what this pass made of requests that are stored already.
-- params: $1 request id, $2 outcome
UPDATE raw.observer_requests SET outcome = $2 WHERE id = $1 AND outcome <> $2;

-- name: set_canonical
-- Flip blocks, with their transactions and events, to one canonical flag.
-- params: $1 index_block_hash[], $2 the flag
WITH b AS (UPDATE raw.blocks SET canonical = $2 WHERE index_block_hash = ANY($1)),
     t AS (UPDATE raw.transactions SET canonical = $2 WHERE index_block_hash = ANY($1))
UPDATE raw.events SET canonical = $2 WHERE index_block_hash = ANY($1);

-- name: set_burn_canonical
-- Flip burn blocks to one canonical flag.
-- params: $1 burn_block_hash[], $2 the flag
UPDATE raw.burn_blocks SET canonical = $2 WHERE burn_block_hash = ANY($1);

-- name: insert_mempool
-- Mempool transactions of a batch in one statement; the first sighting wins.
-- params: $1 txid[], $2 raw_tx[], $3 received_at[], $4 request_id[]
INSERT INTO raw.mempool_txs (txid, raw_tx, received_at, request_id)
SELECT * FROM unnest($1::bytea[], $2::bytea[], $3::timestamptz[], $4::bigint[]) ON CONFLICT (txid) DO NOTHING;

-- name: drop_mempool
-- Mark mempool transactions dropped in one statement; the first drop wins.
-- params: $1 txid[], $2 dropped_at[], $3 reason[], $4 replacing txid[]
UPDATE raw.mempool_txs m SET dropped_at = d.dropped_at, drop_reason = d.reason, replaced_by = d.new_txid
FROM unnest($1::bytea[], $2::timestamptz[], $3::text[], $4::bytea[]) AS d(txid, dropped_at, reason, new_txid)
WHERE m.txid = d.txid AND m.dropped_at IS NULL;

-- name: set_tip
-- The canonical tip after a write; the request id only grows.
-- params: {tip} the TipRow columns ($1..$7), $8 the batch's last request id
UPDATE raw.chain_tip SET ({tip_columns}, last_request_id, updated_at) = ({tip_values}, GREATEST(last_request_id, $8), now());

-- name: set_checkpoint
-- Upsert a pull path's checkpoint (committed with the rows it covers).
-- params: $1 name, $2 position, $3 info (JSON text)
INSERT INTO raw.checkpoints (name, position, info, updated_at) VALUES ($1, $2, $3, now())
ON CONFLICT (name) DO UPDATE SET position = EXCLUDED.position, info = EXCLUDED.info, updated_at = now();

-- name: checkpoint
-- One checkpoint's position and info (no row: never started).
-- params: $1 name
SELECT position, info FROM raw.checkpoints WHERE name = $1;

-- name: notify_raw
-- Tell listeners (dbt) that raw.* changed; delivered when the enclosing transaction commits, never on rollback.
-- params: $1 JSON text {"block_height": …, "burn_block_height": …} (the new canonical tip)
SELECT pg_notify('bithedge_raw', $1);

-- name: insert_dead_request
-- A request stored only as a dead letter (the database refused its rows).
-- params: $1 received_at, $2 path, $3 body, $4 body_size, $5 body_truncated, $6 source, $7 source_id
INSERT INTO raw.observer_requests (received_at, path, payload, body, body_size, body_truncated, source, source_id, outcome)
VALUES ($1, $2, NULL, $3, $4, $5, $6, $7, 'dead_letter') RETURNING id;

-- name: mark_dead_request
-- Rebuild: a stored request whose rows the database refused.
-- params: $1 request id
UPDATE raw.observer_requests SET outcome = 'dead_letter' WHERE id = $1;

-- name: insert_dead_letter
-- One raw.dead_letters row.
-- params: $1 request id, $2 path, $3 reason, $4 detail
INSERT INTO raw.dead_letters (request_id, path, reason, detail) VALUES ($1, $2, $3, $4);

-- name: live_write
-- A live delivery that flips nothing as ONE statement, its own transaction (commit and reply in one round trip); the writer fills the slots and numbers the $N parameters.
-- params: {request} RequestRow values; {parts} the live_write_* parts (comma-led); {tip} TipRow values; {notify} the notify_raw payload
WITH req AS (INSERT INTO raw.observer_requests ({request_columns}) VALUES ({request}) RETURNING id){parts},
tip AS (UPDATE raw.chain_tip SET ({tip_columns}, last_request_id, updated_at)
        = ({tip}, GREATEST(last_request_id, (SELECT id FROM req)), now()))
SELECT id, pg_notify('bithedge_raw', {notify}) FROM req;

-- name: live_write_block
-- live_write part: one block row.
-- params: {i} part number; {values} BlockRow values; {canonical} its flag
, b{i} AS (INSERT INTO raw.blocks ({columns}) VALUES ({values}, {canonical}, (SELECT id FROM req)))

-- name: live_write_rows
-- live_write part: a block's transactions or events, one array per column.
-- params: {name} part name; {table}; {columns} its row type's columns; {arrays} the arrays; {canonical} the block's flag
, {name} AS (INSERT INTO raw.{table} ({columns}) SELECT u.*, {canonical}::boolean, (SELECT id FROM req) FROM unnest({arrays}) AS u)

-- name: live_write_burn
-- live_write part: one burn block row.
-- params: {i} part number; {values} BurnBlockRow values; {canonical} its flag
, bb{i} AS (INSERT INTO raw.burn_blocks ({columns}) VALUES ({values}, {canonical}, (SELECT id FROM req)))

-- name: live_write_dead_letter
-- live_write part: the request's dead letter.
-- params: {path}, {reason}, {detail}
, dl AS (INSERT INTO raw.dead_letters (request_id, path, reason, detail) VALUES ((SELECT id FROM req), {path}, {reason}, {detail}))

-- name: live_write_checkpoint
-- live_write part: the checkpoint (as set_checkpoint).
-- params: {name}, {position}, {info}
, cp AS (INSERT INTO raw.checkpoints (name, position, info, updated_at) VALUES ({name}, {position}, {info}::jsonb, now())
         ON CONFLICT (name) DO UPDATE SET position = EXCLUDED.position, info = EXCLUDED.info, updated_at = now())

-- name: synchronous_commit
-- This session's synchronous_commit (replay and rebuild switch it off and restore it).
-- params: none
SHOW synchronous_commit;

-- name: set_synchronous_commit
-- Set this session's synchronous_commit.
-- params: $1 on | off
SELECT set_config('synchronous_commit', $1, false);

-- name: rebuild_reset
-- Start a rebuild: empty the derived tables, reset the tip row and the rebuild checkpoint (one transaction).
-- params: none
TRUNCATE raw.blocks, raw.transactions, raw.events, raw.burn_blocks, raw.mempool_txs, raw.dead_letters, raw.reorgs;
DELETE FROM raw.chain_tip;
INSERT INTO raw.chain_tip (id) VALUES (true);
INSERT INTO raw.checkpoints (name, position, info) VALUES ('rebuild', 0, '{"done": false}')
ON CONFLICT (name) DO UPDATE SET position = 0, info = '{"done": false}', updated_at = now();

-- name: rebuild_remaining
-- How many stored requests a rebuild still reads.
-- params: $1 after this request id
SELECT count(*) FROM raw.observer_requests WHERE id > $1;

-- name: rebuild_batch
-- The next stored requests to re-derive, in id order.
-- params: $1 after this request id, $2 how many
SELECT id, received_at, path, payload::text AS payload, body, body_size, body_truncated
FROM raw.observer_requests WHERE id > $1 ORDER BY id LIMIT $2;

-- name: cleared_bodies
-- How many stored requests had their body cleared by the retention job (rebuild cannot re-derive those).
-- params: none
SELECT count(*) FROM raw.observer_requests WHERE payload IS NULL AND body IS NULL;

-- name: clear_old_bodies
-- Retention: clear payload and body of up to $2 requests older than $1 days that the writer has committed (their rows are derived); a stored request always keeps one of the two otherwise.
-- params: $1 days, $2 batch size
UPDATE raw.observer_requests SET payload = NULL, body = NULL
WHERE id IN (SELECT id FROM raw.observer_requests
             WHERE received_at < now() - make_interval(days => $1)
               AND id <= (SELECT coalesce(last_request_id, 0) FROM raw.chain_tip)
               AND (payload IS NOT NULL OR body IS NOT NULL)
             ORDER BY id LIMIT $2);

-- name: missing_parents
-- Canonical blocks whose parent is not stored (above the lowest stored height), newest first: the gaps.
-- params: $1 at most this many (NULL: all)
SELECT b.parent_index_block_hash FROM raw.blocks b
WHERE b.canonical AND b.block_height > (SELECT min(block_height) FROM raw.blocks)
  AND NOT EXISTS (SELECT 1 FROM raw.blocks p WHERE p.index_block_hash = b.parent_index_block_hash)
ORDER BY b.block_height DESC LIMIT $1;

-- name: row_counts
-- Row counts of the raw tables for `indexer status`.
-- params: none
SELECT (SELECT count(*) FROM raw.blocks) AS blocks,
       (SELECT count(*) FROM raw.blocks WHERE canonical) AS canonical_blocks,
       (SELECT count(*) FROM raw.transactions) AS transactions,
       (SELECT count(*) FROM raw.events) AS events,
       (SELECT count(*) FROM raw.burn_blocks) AS burn_blocks,
       (SELECT count(*) FROM raw.observer_requests) AS observer_requests,
       (SELECT count(*) FROM raw.dead_letters) AS dead_letters,
       (SELECT count(*) FROM raw.reorgs) AS reorgs,
       (SELECT max(depth) FROM raw.reorgs) AS max_reorg_depth,
       (SELECT count(*) FROM raw.mempool_txs WHERE dropped_at IS NULL) AS mempool_pending;

-- name: checkpoints
-- Every checkpoint, by name.
-- params: none
SELECT * FROM raw.checkpoints ORDER BY name;
