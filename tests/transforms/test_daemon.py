"""``bithedge transforms serve`` as a real process against the live devnet chain: ready after its first build,
a new block reaches the marts and is announced with NOTIFY bithedge_analytics, metrics and freshness report
it, its periodic reconciler records a run in analytics.reconcile_runs and sets its gauge, SIGTERM stops it
cleanly."""

from __future__ import annotations

import asyncio
import json
import signal

import aiohttp
import psycopg

from bithedge.database import role_url
from bithedge.protocol.deployment import DEVNET
from tests.transforms.serve import start_serve, wait_for


def _reconcile_runs(db: str, after: int) -> list[tuple]:
    with psycopg.connect(role_url(db, "bithedge_reader")) as conn:
        return conn.execute("SELECT run_id, stacks_height, mismatch_count, error FROM analytics.reconcile_runs "
                            "WHERE run_id > %s ORDER BY run_id", (after,)).fetchall()


async def test_serve_follows_new_blocks_and_stops_on_sigterm(chain, tmp_path):
    with psycopg.connect(chain.db) as conn:
        runs_before = conn.execute("SELECT coalesce(max(id), 0) FROM transforms.reconcile_runs").fetchone()[0]
    log = tmp_path / "serve.log"
    with open(log, "wb") as err:
        proc, base = await start_serve(chain.db, tmp_path, err, BITHEDGE_NODE_URL=chain.devnet.rpc_url,
                                       BITHEDGE_TRANSFORMS_RECONCILE_S="1")
    try:
        async with await psycopg.AsyncConnection.connect(chain.db, autocommit=True) as listener:
            heard: list[dict] = []
            # a handler keeps notifications that arrive while the test is busy elsewhere
            listener.add_notify_handler(lambda n: heard.append(json.loads(n.payload)))
            await listener.execute("LISTEN bithedge_analytics")
            await wait_for(base, "/ready", proc, lambda status, _: status == 200, "serve never became ready")
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
        with psycopg.connect(chain.db) as conn:
            # the keeper publishes on deviation or heartbeat, not every block: its last print, read from raw
            printed = conn.execute(
                "SELECT max(block_height) FROM raw.events WHERE canonical AND topic = 'print'"
                " AND contract_identifier = %s AND value::text LIKE '%%\"price-submitted\"%%'",
                (DEVNET.oracle,)).fetchone()[0]
        assert included >= tip and lag == 0 and outcome == "success"
        assert newest == printed  # the last submitted price is in the views
        async with aiohttp.ClientSession() as s:
            async with s.get(f"{base}/metrics") as r:
                metrics = await r.text()
            async with s.get(f"{base}/health") as r:
                health = await r.json()
        assert "bithedge_transforms_run_seconds_count" in metrics and "bithedge_transforms_lag_blocks 0.0" in metrics
        assert health["status"] == "ok" and health["stacks_height"] >= tip
        # the chain stands still now, so the periodic reconciler compares (and finds the marts equal to it)
        deadline = asyncio.get_running_loop().time() + 90
        while not [r for r in _reconcile_runs(chain.db, runs_before) if r[3] is None]:
            assert asyncio.get_running_loop().time() < deadline, _reconcile_runs(chain.db, runs_before)
            await asyncio.sleep(0.5)
        compared = [r for r in _reconcile_runs(chain.db, runs_before) if r[3] is None]
        assert compared[-1][1] >= tip and compared[-1][2] == 0, compared
        async with aiohttp.ClientSession() as s:
            async with s.get(f"{base}/metrics") as r:
                metrics = await r.text()
        assert "bithedge_transforms_reconcile_mismatches 0.0" in metrics
        assert 'bithedge_transforms_reconcile_runs_total{outcome="ok"}' in metrics
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
