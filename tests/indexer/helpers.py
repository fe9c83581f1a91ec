"""Test helpers: checksums of the derived raw tables, and writing payloads through the one write path."""

from __future__ import annotations

import json

import asyncpg

from indexer.ingest import Writer
from indexer.prepare import Request, now

TABLES = {
    "blocks": "index_block_hash",
    "transactions": "index_block_hash, txid",
    "events": "index_block_hash, event_index",
    "burn_blocks": "burn_block_hash",
}
VOLATILE = {"request_id", "indexed_at"}


async def checksums(url: str, canonical_only: bool = False) -> dict[str, tuple[int, str]]:
    conn = await asyncpg.connect(url)
    try:
        out = {}
        for table, order in TABLES.items():
            cols = [r[0] for r in await conn.fetch(
                "SELECT column_name FROM information_schema.columns WHERE table_schema='raw' AND table_name=$1 "
                "ORDER BY ordinal_position", table) if r[0] not in VOLATILE]
            where = "WHERE canonical" if canonical_only else ""
            n, digest = await conn.fetchrow(
                f"SELECT count(*), md5(coalesce(string_agg(row({', '.join(cols)})::text, '|' ORDER BY {order}), '')) "
                f"FROM raw.{table} {where}")
            out[table] = (n, digest)
        return out
    finally:
        await conn.close()


def req(path: str, payload: object | bytes, **kw) -> Request:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return Request(path, body, now(), **kw)


async def post_all(writer: Writer, payloads: list[dict], path: str = "/new_block") -> None:
    for p in payloads:
        await writer.write([req(path, p)])
