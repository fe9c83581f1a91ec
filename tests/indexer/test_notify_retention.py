"""``bithedge_raw`` notifications reach a LISTENing connection after each committed write (live one-statement
path, batch COPY path, rebuild) and never for a rolled-back one; the body retention job clears only old,
committed bodies, leaves every derived row, runs inside ``serve``, and makes ``rebuild`` refuse."""

from __future__ import annotations

import asyncio
import json

import asyncpg
import pytest

from indexer import retention
from indexer.ingest import Writer
from indexer.replay import BodiesCleared, rebuild
from indexer.server import IndexerServer, ServerConfig

from . import synth
from .helpers import req

WAIT_S = 30.0  # generous bound on delivery; nothing asserts how fast


class Listener:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn
        self.queue: asyncio.Queue[dict] = asyncio.Queue()

    @classmethod
    async def open(cls, url: str) -> Listener:
        self = cls(await asyncpg.connect(url))
        await self.conn.add_listener("bithedge_raw", lambda _c, _pid, _channel, payload:
                                     self.queue.put_nowait(json.loads(payload)))
        return self

    async def next(self) -> dict:
        return await asyncio.wait_for(self.queue.get(), WAIT_S)

    async def close(self) -> None:
        await self.conn.close()


async def test_every_committed_write_notifies_and_a_rolled_back_one_does_not(db_url):
    main = synth.chain(5, "a", events=3)
    listener = await Listener.open(db_url)
    w = await Writer.open(db_url)
    try:
        await w.write([req("/new_block", main[0])])  # live: one statement
        assert await listener.next() == {"block_height": 0, "burn_block_height": None}
        await w.write([req("/new_burn_block", {"burn_block_hash": synth.h32("burn", 1), "burn_block_height": 101})])
        assert await listener.next() == {"block_height": 0, "burn_block_height": 101}
        await w.write([req("/new_block", main[1]), req("/new_block", main[2])])  # a batch: the COPY path
        assert await listener.next() == {"block_height": 2, "burn_block_height": 101}

        await w.conn.execute("ALTER TABLE raw.events ADD CONSTRAINT only_low CHECK (block_height < 3) NOT VALID")
        with pytest.raises(asyncpg.CheckViolationError):
            await w.write([req("/new_block", main[3])])
        with pytest.raises(asyncpg.CheckViolationError):
            await w.write([req("/new_block", main[3]), req("/new_block", main[4])])
        await w.conn.execute("ALTER TABLE raw.events DROP CONSTRAINT only_low")
        await w.write([req("/new_block", main[3])])
        # notifications arrive in commit order: had a failed write notified, its payload would come first
        assert await listener.next() == {"block_height": 3, "burn_block_height": 101}

        stats = await rebuild(w, progress=False)
        assert stats["blocks"] == 4
        assert await listener.next() == {"block_height": None, "burn_block_height": None}  # the reset
        assert await listener.next() == {"block_height": 3, "burn_block_height": 101}  # the one batch
        assert listener.queue.empty()
    finally:
        await w.close()
        await listener.close()


async def _backdate(conn: asyncpg.Connection, ids: list[int], days: int) -> None:
    await conn.execute("UPDATE raw.observer_requests SET received_at = now() - make_interval(days => $2) "
                       "WHERE id = ANY($1)", ids, days)


async def test_retention_clears_only_old_committed_bodies_and_rebuild_refuses(db_url):
    main = synth.chain(4, "a", events=2)
    w = await Writer.open(db_url)
    try:
        requests = [req("/new_block", p) for p in main]
        requests.append(req("/new_block", b'{"block_height": '))  # bad JSON: its exact body is kept
        for r in requests:
            await w.write([r])
        old = [r.request_id for r in requests[:2]] + [requests[-1].request_id]
        await _backdate(w.conn, old, 10)
        before = await w.conn.fetchval("SELECT count(*) FROM raw.events")

        assert await retention.clear_old_bodies(w.conn, 30) == 0
        assert await retention.clear_old_bodies(w.conn, 5, batch=2) == 2  # batched
        assert await retention.clear_old_bodies(w.conn, 5, batch=2) == 1
        assert await retention.clear_old_bodies(w.conn, 5) == 0
        rows = {r["id"]: r for r in await w.conn.fetch("SELECT * FROM raw.observer_requests")}
        for r in requests:
            row = rows[r.request_id]
            cleared = r.request_id in old
            assert (row["payload"] is None and row["body"] is None) == cleared
            assert row["outcome"] == r.outcome and row["body_size"] == len(r.body)
        assert await w.conn.fetchval("SELECT count(*) FROM raw.events") == before
        assert await w.conn.fetchval("SELECT count(*) FROM raw.blocks WHERE canonical") == 4

        with pytest.raises(BodiesCleared, match="BITHEDGE_INDEXER_BODY_RETENTION_DAYS"):
            await rebuild(w, progress=False)
        assert await w.conn.fetchval("SELECT count(*) FROM raw.blocks") == 4  # nothing was truncated
    finally:
        await w.close()


async def test_serve_enforces_the_retention(db_url):
    main = synth.chain(2, "a", events=1)
    w = await Writer.open(db_url)
    try:
        requests = [req("/new_block", p) for p in main]
        for r in requests:
            await w.write([r])
        await _backdate(w.conn, [requests[0].request_id], 3)
    finally:
        await w.close()
    srv = IndexerServer(ServerConfig(dsn=db_url, port=0, node_url=None, gap_fill=False, body_retention_days=2))
    await srv.start()
    conn = await asyncpg.connect(db_url)
    try:
        async def cleared() -> list[int]:
            return [r[0] for r in await conn.fetch(
                "SELECT id FROM raw.observer_requests WHERE payload IS NULL AND body IS NULL ORDER BY id")]

        async def wait() -> None:
            while not await cleared():
                await asyncio.sleep(0.05)

        await asyncio.wait_for(wait(), WAIT_S)
        assert await cleared() == [requests[0].request_id]
    finally:
        await conn.close()
        await srv.stop()
