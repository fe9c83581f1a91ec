"""``bithedge transforms serve`` as a real process against the live devnet chain: ready after its first build,
a new block reaches the marts and is announced with NOTIFY bithedge_analytics, metrics and freshness report
it, SIGTERM stops it cleanly."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys

import aiohttp
import psycopg

from bithedge.database import role_url
from tests.processes import free_port


async def _wait_ready(url: str, proc, timeout: float = 180) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    async with aiohttp.ClientSession() as s:
        while True:
            assert proc.returncode is None, "serve exited"
            try:
                async with s.get(f"{url}/ready") as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            assert asyncio.get_running_loop().time() < deadline, "serve never became ready"
            await asyncio.sleep(0.2)


async def test_serve_follows_new_blocks_and_stops_on_sigterm(chain, tmp_path):
    port = free_port()
    env = {**os.environ, "DATABASE_URL": role_url(chain.db, "bithedge_transform"), "BITHEDGE_DATA_DIR": str(tmp_path),
           "BITHEDGE_TRANSFORMS_PORT": str(port), "BITHEDGE_TRANSFORMS_POLL_S": "0.2", "BITHEDGE_LOG_FORMAT": "json", "PYTHONFAULTHANDLER": "1"}
    log = tmp_path / "serve.log"
    with open(log, "wb") as err:
        proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bithedge", "transforms", "serve",
                                                    env=env, stdout=asyncio.subprocess.DEVNULL, stderr=err)
    base = f"http://127.0.0.1:{port}"
    try:
        async with await psycopg.AsyncConnection.connect(chain.db, autocommit=True) as listener:
            heard: list[dict] = []
            # a handler keeps notifications that arrive while the test is busy elsewhere
            listener.add_notify_handler(lambda n: heard.append(json.loads(n.payload)))
            await listener.execute("LISTEN bithedge_analytics")
            await _wait_ready(base, proc)
            await chain.advance(2)
            async with await psycopg.AsyncConnection.connect(chain.db) as conn:
                tip = (await (await conn.execute("SELECT block_height FROM raw.chain_tip")).fetchone())[0]
            deadline = asyncio.get_running_loop().time() + 60
            while not any(b["stacks_height"] >= tip for b in heard):
                assert asyncio.get_running_loop().time() < deadline, f"no announcement of {tip}: {heard}"
                await listener.execute("SELECT 1")  # delivers pending notifications to the handler
                await asyncio.sleep(0.2)
            body = next(b for b in heard if b["stacks_height"] >= tip)
        assert body["burn_height"] > 0 and body["duration_s"] > 0
        with psycopg.connect(role_url(chain.db, "bithedge_reader")) as conn:
            lag, outcome, included = conn.execute(
                "SELECT lag_blocks, last_run_outcome, marts_stacks_height FROM analytics.freshness").fetchone()
            newest = conn.execute("SELECT max(stacks_height) FROM analytics.oracle_prices").fetchone()[0]
        assert included >= tip and lag == 0 and outcome == "success"
        assert newest >= tip - 2  # the simulator's last prices are in the views
        async with aiohttp.ClientSession() as s:
            async with s.get(f"{base}/metrics") as r:
                metrics = await r.text()
            async with s.get(f"{base}/health") as r:
                health = await r.json()
        assert "bithedge_transforms_run_seconds_count" in metrics and "bithedge_transforms_lag_blocks 0.0" in metrics
        assert health["status"] == "ok" and health["stacks_height"] >= tip
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        try:
            rc = await asyncio.wait_for(proc.wait(), 20)
        except TimeoutError:
            proc.send_signal(signal.SIGABRT)  # PYTHONFAULTHANDLER: the stacks go to the log
            await proc.wait()
            raise AssertionError(log.read_text()[-6000:]) from None
    assert rc == 0, log.read_text()[-3000:]
    events = [json.loads(line).get("event") for line in log.read_text().splitlines() if line.startswith("{")]
    assert "run" in events and events[-1] == "transforms_stopped", events[-5:]
