"""Backfill and gap filling against a real devnet's Hiro API.

* ``bithedge indexer backfill --api DEVNET`` into an empty database gives the same canonical burn blocks,
  blocks, transactions and events as the database the devnet delivered to live (through a fork), over every
  column the API carries (``API_LACKS_BLOCK_COLUMNS`` are header fields only an observer delivery has);
* killed (SIGKILL) part-way and rerun, it ends with the same rows;
* the gap reconciler of a serving indexer fills blocks whose deliveries were lost (acknowledged but
  dropped by a proxy), in the middle of the chain (missing parents) and at the tip (idle, behind the node).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import aiohttp
import asyncpg
import pytest
from aiohttp import web

from bithedge.simulator.agents import Simulator
from keeper.oracle.publish import PublishRules
from stacks.rpc import StacksClient
from tests.indexer.devnet_support import (
    API_LACKS_BLOCK_COLUMNS,
    RecordingObserver,
    api_checksums,
    canonical_hashes,
    clean_index,
    differing_columns,
    free_port,
    needs_node,
    print_topics,
    simulate,
    start_devnet_async,
    start_indexer,
    wait_indexed,
)
from tests.indexer.helpers import TABLES, checksums
from tests.support.keeper import keeper_for

pytestmark = needs_node

REPO = Path(__file__).resolve().parents[2]
#: compared column by column; burn blocks are compared on what the API carries (hash, height), see _burn_chain
COMPARED = ("blocks", "transactions", "events")


async def _burn_chain(url: str) -> dict[int, bytes]:
    """Canonical burn block hash per height."""
    conn = await asyncpg.connect(url)
    try:
        return {r[0]: bytes(r[1]) for r in await conn.fetch(
            "SELECT burn_block_height, burn_block_hash FROM raw.burn_blocks WHERE canonical")}
    finally:
        await conn.close()


async def _assert_burn_blocks_match(live_url: str, back_url: str) -> None:
    """Backfill delivered every burn height from its first block's to its last, each equal to the burn block
    the live indexer holds as canonical, and every canonical Stacks block's burn height is among them."""
    live, back = await _burn_chain(live_url), await _burn_chain(back_url)
    assert back, "backfill wrote no burn blocks"
    assert sorted(back) == list(range(min(back), max(back) + 1))
    assert {h: live.get(h) for h in back} == back
    conn = await asyncpg.connect(back_url)
    try:
        heights = {r[0] for r in await conn.fetch("SELECT DISTINCT burn_block_height FROM raw.blocks WHERE canonical")}
        nulls = await conn.fetchval("SELECT count(*) FROM raw.burn_blocks WHERE reward_recipients IS NOT NULL"
                                    " OR consensus_hash IS NOT NULL")
    finally:
        await conn.close()
    assert heights <= set(back)
    assert nulls == 0  # what the API does not carry stays NULL, not invented


def _env(db_url: str) -> dict:
    return {**os.environ, "DATABASE_URL": db_url, "BITHEDGE_LOG_LEVEL": "warning", "PYTHONPATH": str(REPO)}


def _backfill_argv(api: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "bithedge", "indexer", "backfill", "--api", api, "--no-progress", *extra]


async def _diff(a: str, b: str) -> str:
    parts = [f"{t}: {' '.join(sorted(set(await differing_columns(a, b, t, TABLES[t])) - API_LACKS_BLOCK_COLUMNS))}"
             for t in COMPARED]
    return "differing columns; " + "; ".join(parts)


@pytest.fixture
async def live_chain(db_url, tmp_path):
    """A devnet with ~80 blocks of simulator traffic and a fork of depth 6, delivered live to ``db_url``."""
    srv, indexer_url = await start_indexer(db_url)
    devnet = await start_devnet_async(tmp_path / "devnet", observers=[indexer_url])
    try:
        async with StacksClient(devnet.rpc_url, retries=2) as client:
            sim = Simulator(client, seed=3, mine=True, extra_buyers=2, activity=2.0, log=lambda _: None)
            await sim.setup()
            # a price every burn block (heartbeat 1), so the backfilled chain carries plenty of oracle prints
            async with keeper_for(sim, db_url, rules=PublishRules(heartbeat_blocks=1)) as keeper:
                await simulate(sim, 30, keeper)
                r = await client.fork(6)
                await simulate(sim, 10, keeper)
            tip = (await client.status())["chain_tip"]
            await wait_indexed(srv, tip["index_block_hash"])
            assert r["depth"] == 6
        await srv.stop()
        srv = None
        yield devnet, tip
    finally:
        devnet.stop()
        if srv is not None:
            await srv.stop()


async def _backfill(api: str, db: str, *extra: str, timeout: float = 300) -> None:
    proc = await asyncio.create_subprocess_exec(*_backfill_argv(api, *extra), env=_env(db),
                                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    assert proc.returncode == 0, err.decode()[-3000:]


async def test_backfill_from_the_devnet_equals_live_ingest(live_chain, db_url, clean_db):
    devnet, tip = live_chain
    await _backfill(devnet.rpc_url, clean_db, "--to", str(tip["block_height"]))
    live, back = await api_checksums(db_url), await api_checksums(clean_db)
    assert back == live, await _diff(db_url, clean_db)
    assert (await canonical_hashes(clean_db)) == (await canonical_hashes(db_url))
    await _assert_burn_blocks_match(db_url, clean_db)
    assert (await print_topics(clean_db)).get("price-submitted", 0) >= 30
    conn = await asyncpg.connect(clean_db)
    try:
        assert await conn.fetchval("SELECT count(*) FROM raw.dead_letters") == 0
        assert await conn.fetchval("SELECT count(*) FROM raw.blocks WHERE NOT canonical") == 0  # API: canonical only
        assert await conn.fetchval("SELECT position FROM raw.checkpoints WHERE name = 'backfill'") == tip["block_height"]
        sources = {r[0] for r in await conn.fetch("SELECT DISTINCT source FROM raw.observer_requests")}
    finally:
        await conn.close()
    assert sources == {"backfill"}
    # a rerun finds nothing to do and changes nothing
    burns = await _burn_chain(clean_db)
    await _backfill(devnet.rpc_url, clean_db, "--to", str(tip["block_height"]))
    assert await api_checksums(clean_db) == back
    assert await _burn_chain(clean_db) == burns


async def test_backfill_killed_and_rerun_gives_the_same_rows(live_chain, db_url, clean_db):
    devnet, tip = live_chain
    end = tip["block_height"]
    for attempt in range(3):  # kill -9 at a few points, each once a few more blocks are committed
        proc = subprocess.Popen(_backfill_argv(devnet.rpc_url, "--to", str(end)), env=_env(clean_db),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            conn = await asyncpg.connect(clean_db)
            try:
                target = (attempt + 1) * end // 4
                while proc.poll() is None:
                    pos = await conn.fetchval("SELECT position FROM raw.checkpoints WHERE name = 'backfill'")
                    if pos is not None and pos >= target:
                        break
                    await asyncio.sleep(0.02)
            finally:
                await conn.close()
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
            proc.wait()
    await _backfill(devnet.rpc_url, clean_db, "--to", str(end))
    live, back = await api_checksums(db_url), await api_checksums(clean_db)
    assert back == live, await _diff(db_url, clean_db)
    await _assert_burn_blocks_match(db_url, clean_db)
    conn = await asyncpg.connect(clean_db)
    try:
        dup = await conn.fetchval("SELECT count(*) - count(DISTINCT index_block_hash) FROM raw.blocks")
    finally:
        await conn.close()
    assert dup == 0


class DroppingProxy:
    """Forwards observer deliveries to the indexer, except /new_block while ``dropping``: those are answered
    200 and never forwarded (a lost delivery the node will not retry)."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.dropping = False
        self.dropped: list[int] = []
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        if self.dropping and request.path == "/new_block":
            self.dropped.append(json.loads(body)["block_height"])
            return web.json_response({"result": "dropped"})
        async with self.session.post(self.target + request.path, data=body,
                                     headers={"content-type": "application/json"}) as r:
            return web.Response(status=r.status, body=await r.read())

    async def start(self) -> DroppingProxy:
        self.session = aiohttp.ClientSession()
        app = web.Application(client_max_size=512 * 1024 * 1024)
        app.router.add_post("/{tail:.*}", self._handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        port = free_port()
        await web.TCPSite(self.runner, "127.0.0.1", port).start()
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        await self.runner.cleanup()
        await self.session.close()


async def test_gap_reconciler_fills_dropped_deliveries_while_serving(db_url, clean_db, tmp_path):
    recorder = await RecordingObserver().start()  # what a clean, lossless observer gets
    # gap_check_s is small so the test does not wait; the devnet URL is set once it is up
    srv, indexer_url = await start_indexer(db_url, gap_fill=False, gap_check_s=0.3)
    proxy = await DroppingProxy(indexer_url).start()
    devnet = await start_devnet_async(tmp_path / "devnet", observers=[proxy.url, recorder.url])
    try:
        srv.config.node_url = devnet.rpc_url
        srv.config.gap_fill = True
        srv._tasks.append(asyncio.create_task(srv._gap_loop()))
        async with StacksClient(devnet.rpc_url, retries=2) as client:
            sim = Simulator(client, seed=5, mine=True, extra_buyers=1, log=lambda _: None)
            await sim.setup()
            async with keeper_for(sim, db_url) as keeper:
                await simulate(sim, 5, keeper)
                # a hole in the middle: 12 blocks acknowledged but lost, then deliveries resume
                proxy.dropping = True
                await simulate(sim, 8, keeper)
                proxy.dropping = False
                await simulate(sim, 3, keeper)
                middle = list(proxy.dropped)
                assert len(middle) >= 8
                # a hole at the tip: the last blocks lost and nothing more delivered (the node is idle)
                proxy.dropping = True
                await simulate(sim, 4, keeper)
            assert len(proxy.dropped) > len(middle)
            tip = (await client.status())["chain_tip"]
            await wait_indexed(srv, tip["index_block_hash"], timeout=180)
            # the filled blocks arrived through the API, the rest live
            conn = await asyncpg.connect(db_url)
            try:
                for _ in range(600):
                    gaps = await conn.fetchval(
                        "SELECT count(*) FROM raw.blocks b WHERE canonical AND block_height > "
                        "(SELECT min(block_height) FROM raw.blocks) AND NOT EXISTS (SELECT 1 FROM raw.blocks p "
                        "WHERE p.index_block_hash = b.parent_index_block_hash)")
                    if gaps == 0:
                        break
                    await asyncio.sleep(0.1)
                filled = sorted(r[0] for r in await conn.fetch(
                    "SELECT b.block_height FROM raw.blocks b JOIN raw.observer_requests r ON r.id = b.request_id "
                    "WHERE r.source = 'backfill'"))
            finally:
                await conn.close()
            assert gaps == 0
            assert filled == sorted(proxy.dropped)
            assert srv.metrics.gap_fills._value.get() == len(proxy.dropped)
    finally:
        devnet.stop()
        await srv.stop()
        await proxy.stop()
    # the same canonical blocks, transactions and events as a lossless observer's clean index
    await clean_index(recorder, tip["index_block_hash"], clean_db)
    await recorder.stop()
    assert await api_checksums(db_url) == await api_checksums(clean_db), await _diff(db_url, clean_db)
    # burn block deliveries were never dropped: those rows are identical in full
    live, ref = await checksums(db_url, canonical_only=True), await checksums(clean_db, canonical_only=True)
    assert live["burn_blocks"] == ref["burn_blocks"]
