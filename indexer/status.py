"""``bithedge indexer status``: what the raw tables hold, as one JSON object."""

from __future__ import annotations

import json

import asyncpg

from indexer.ingest import WRITER_LOCK_KEY
from indexer.sql import queries as Q


def _hex(b) -> str | None:
    return None if b is None else "0x" + bytes(b).hex()


async def collect_status(conn: asyncpg.Connection) -> dict:
    tip = await conn.fetchrow(Q["chain_tip"])
    counts = await conn.fetchrow(Q["row_counts"])
    gaps = len(await conn.fetch(Q["missing_parents"], None))
    checkpoints = {r["name"]: {"position": r["position"], "info": json.loads(r["info"]),
                               "updated_at": r["updated_at"].isoformat()}
                   for r in await conn.fetch(Q["checkpoints"])}
    writer_busy = await conn.fetchval(Q["writer_running"], WRITER_LOCK_KEY)
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
