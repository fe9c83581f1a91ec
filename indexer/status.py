"""``bithedge indexer status``: what the raw tables hold, as one JSON object."""

from __future__ import annotations

import json

import asyncpg


def _hex(b) -> str | None:
    return None if b is None else "0x" + bytes(b).hex()


async def collect_status(conn: asyncpg.Connection) -> dict:
    tip = await conn.fetchrow("SELECT * FROM raw.chain_tip")
    counts = await conn.fetchrow(
        "SELECT (SELECT count(*) FROM raw.blocks) AS blocks,"
        " (SELECT count(*) FROM raw.blocks WHERE canonical) AS canonical_blocks,"
        " (SELECT count(*) FROM raw.transactions) AS transactions,"
        " (SELECT count(*) FROM raw.events) AS events,"
        " (SELECT count(*) FROM raw.burn_blocks) AS burn_blocks,"
        " (SELECT count(*) FROM raw.observer_requests) AS observer_requests,"
        " (SELECT count(*) FROM raw.dead_letters) AS dead_letters,"
        " (SELECT count(*) FROM raw.reorgs) AS reorgs,"
        " (SELECT max(depth) FROM raw.reorgs) AS max_reorg_depth,"
        " (SELECT count(*) FROM raw.mempool_txs WHERE dropped_at IS NULL) AS mempool_pending")
    gaps = await conn.fetchval(
        "SELECT count(*) FROM raw.blocks b WHERE b.canonical"
        " AND b.block_height > (SELECT min(block_height) FROM raw.blocks)"
        " AND NOT EXISTS (SELECT 1 FROM raw.blocks p WHERE p.index_block_hash = b.parent_index_block_hash)")
    checkpoints = {r["name"]: {"position": r["position"], "info": json.loads(r["info"]),
                               "updated_at": r["updated_at"].isoformat()}
                   for r in await conn.fetch("SELECT * FROM raw.checkpoints ORDER BY name")}
    writer_busy = await conn.fetchval(
        "SELECT count(*) > 0 FROM pg_locks WHERE locktype = 'advisory' AND database = "
        "(SELECT oid FROM pg_database WHERE datname = current_database()) AND objid = $1 AND classid = $2",
        0x6964_7872, 0x6269_7468)
    return {
        "tip": {
            "index_block_hash": _hex(tip["index_block_hash"]),
            "block_height": tip["block_height"],
            "block_time": tip["block_time"],
            "burn_block_hash": _hex(tip["burn_block_hash"]),
            "burn_block_height": tip["burn_block_height"],
            "last_request_id": tip["last_request_id"],
            "updated_at": tip["updated_at"].isoformat(),
        },
        "counts": dict(counts),
        "missing_parents": gaps,
        "checkpoints": checkpoints,
        "writer_running": writer_busy,
    }
