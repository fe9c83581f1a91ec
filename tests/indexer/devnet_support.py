"""The indexer against a real devnet: an in-process observer server on a free port, simulator traffic,
and a clean index of the devnet's winning chain to compare with.

The devnet (a Node process) delivers to the indexer's aiohttp app and, as a second observer, to a
:class:`RecordingObserver` that keeps every payload. The clean index is built from those recorded
payloads: walk the parent links back from the devnet's canonical tip (its Hiro API serves only canonical
blocks), and write just those blocks, each after its burn block, into a fresh database through the same
write path. No fork ever reaches the clean database.
"""

from __future__ import annotations

import asyncio

import asyncpg

from indexer.ingest import Writer
from indexer.server import IndexerServer, ServerConfig
from tests.indexer.helpers import req
from tests.processes import free_port
from tests.support.devnet import (
    DEPLOYER,
    RecordingObserver,
    Signer,
    needs_node,
    new_key,
    start_devnet,
    start_devnet_async,
)

__all__ = ["DEPLOYER", "RecordingObserver", "Signer", "free_port", "needs_node", "new_key", "start_devnet",
           "start_devnet_async"]


async def start_indexer(dsn: str, **kw) -> tuple[IndexerServer, str]:
    """The observer server (the real aiohttp app) on a free loopback port; caller awaits ``srv.stop()``."""
    srv = IndexerServer(ServerConfig(dsn=dsn, port=0, **{"gap_fill": False, **kw}))
    port = await srv.start()
    return srv, f"http://127.0.0.1:{port}"


async def wait_indexed(srv: IndexerServer, index_block_hash: str, timeout: float = 120.0) -> None:
    """Until the indexer's canonical tip is the given block (the devnet may still be delivering)."""
    want = bytes.fromhex(index_block_hash.removeprefix("0x"))
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        async with srv.lock:
            tip = await srv.writer.conn.fetchval("SELECT index_block_hash FROM raw.chain_tip")
        if tip is not None and bytes(tip) == want:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"indexer tip is {tip and bytes(tip).hex()}, devnet tip {index_block_hash}")
        await asyncio.sleep(0.1)


async def simulate(sim, blocks: int, keeper=None) -> None:
    """``blocks`` simulator steps, each after a mined block (the simulator mines with --mine); a keeper
    (``tests.support.keeper``) steps after each, so its prices and settlements land in the next block."""
    for _ in range(blocks):
        await sim.wait_next_block()
        await sim.step()
        if keeper is not None:
            await keeper.step()


def winning_chain(observer: RecordingObserver, tip_index_hash: str) -> list[dict]:
    """The recorded /new_block payloads of the chain ending at the tip, oldest first."""
    last = {b["index_block_hash"]: b for b in observer.blocks()}  # a later delivery of the same block wins
    chain = []
    h = tip_index_hash
    while h in last:
        chain.append(last[h])
        h = last[h]["parent_index_block_hash"]
    return chain[::-1]


async def clean_index(observer: RecordingObserver, tip_index_hash: str, dsn: str) -> int:
    """Write only the winning chain (each block after its burn block) into ``dsn``; returns its length."""
    burns = {b["burn_block_hash"]: b for b in observer.paths("/new_burn_block")}
    chain = winning_chain(observer, tip_index_hash)
    w = await Writer.open(dsn)
    try:
        sent: set[str] = set()
        for b in chain:
            bh = b["burn_block_hash"]
            if bh in burns and bh not in sent:
                sent.add(bh)
                await w.write([req("/new_burn_block", burns[bh])])
            await w.write([req("/new_block", b)])
    finally:
        await w.close()
    return len(chain)


async def canonical_hashes(dsn: str) -> dict[int, str]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT block_height, index_block_hash FROM raw.blocks WHERE canonical")
    finally:
        await conn.close()
    return {r[0]: "0x" + bytes(r[1]).hex() for r in rows}


async def print_topics(dsn: str) -> dict[str, int]:
    """Canonical BitHedge print events by their ``event`` name (the tuple's ``event`` field)."""
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT value #>> '{value,event,value}' AS name, count(*) FROM raw.events "
            "WHERE canonical AND event_type = 'contract_event' AND topic = 'print' "
            "AND contract_identifier LIKE $1 GROUP BY 1", f"{DEPLOYER}.bithedge-%")
    finally:
        await conn.close()
    return {r[0]: r[1] for r in rows}


async def differing_columns(a: str, b: str, table: str, key: str) -> dict[str, tuple]:
    """For a failing comparison: per column, one (value in a, value in b) where canonical rows differ."""
    from tests.indexer.helpers import VOLATILE

    ca, cb = await asyncpg.connect(a), await asyncpg.connect(b)
    try:
        cols = [r[0] for r in await ca.fetch(
            "SELECT column_name FROM information_schema.columns WHERE table_schema='raw' AND table_name=$1",
            table) if r[0] not in VOLATILE]
        ra = {tuple(r[k] for k in key.split(", ")): r for r in await ca.fetch(f"SELECT * FROM raw.{table} WHERE canonical")}
        rb = {tuple(r[k] for k in key.split(", ")): r for r in await cb.fetch(f"SELECT * FROM raw.{table} WHERE canonical")}
    finally:
        await ca.close()
        await cb.close()
    out: dict[str, tuple] = {}
    if set(ra) != set(rb):
        out["<keys>"] = (len(ra), len(rb), len(set(ra) ^ set(rb)))
    for k in set(ra) & set(rb):
        for c in cols:
            if c not in out and ra[k][c] != rb[k][c]:
                out[c] = (ra[k][c], rb[k][c])
    return out


#: raw.blocks columns a Hiro-style API does not serve (its v2 block has no consensus hash, signer or microblock
#: fields, parent burn block or costs), so a backfilled block has them NULL/false where a delivery has values
API_LACKS_BLOCK_COLUMNS = frozenset({
    "anchored_cost", "confirmed_microblocks_cost", "consensus_hash", "miner_signature", "nakamoto",
    "parent_burn_block_hash", "parent_burn_block_height", "parent_burn_block_time", "parent_microblock_hash",
    "parent_microblock_sequence", "signer_bitvec", "signer_signature", "signer_signature_hash",
})


async def api_checksums(url: str) -> dict[str, tuple[int, str]]:
    """Canonical checksums of blocks, transactions and events over the columns a Hiro-style API carries."""
    from tests.indexer.helpers import TABLES, VOLATILE

    conn = await asyncpg.connect(url)
    try:
        out = {}
        for table in ("blocks", "transactions", "events"):
            cols = [r[0] for r in await conn.fetch(
                "SELECT column_name FROM information_schema.columns WHERE table_schema='raw' AND table_name=$1 "
                "ORDER BY ordinal_position", table)
                if r[0] not in VOLATILE and not (table == "blocks" and r[0] in API_LACKS_BLOCK_COLUMNS)]
            out[table] = tuple(await conn.fetchrow(
                f"SELECT count(*), md5(coalesce(string_agg(row({', '.join(cols)})::text, '|' "
                f"ORDER BY {TABLES[table]}), '')) FROM raw.{table} WHERE canonical"))
        return out
    finally:
        await conn.close()
