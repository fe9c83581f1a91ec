"""Freshness on a live devnet: from the indexer's commit of a block to the block being in the analytics.

    .venv/bin/python benchmarks/bench_freshness.py [--blocks 120] [--block-time-ms 2000] [--warmup 5]

A devnet (the real Clarity VM, ``--block-time-ms`` blocks) delivers to the real indexer (in this process)
writing into a fresh migrated database on an embedded PostgreSQL; the market simulator (oracle prices,
deposits, withdrawals, policies created and settled, governance) sends its transactions every block; the
freshness daemon runs as its own process, exactly as ``bithedge transforms serve`` (bithedge_transform role,
default debounce and threads, reconciler off).

One listener connection in this process receives both notifications: ``bithedge_raw``, sent by the indexer
inside the transaction that writes a block, so delivered at its commit, with the canonical tip height; and
``bithedge_analytics``, sent by the daemon after a good run, with the Stacks height every mart includes
(sent after the marts committed, so ``analytics.policies``/``analytics.pools``, views over the marts, show
the block by then; the figure is an upper bound of the visibility delay). Per Stacks block: the first
``bithedge_analytics`` with a height at or above it, minus its first ``bithedge_raw``. Blocks committed before the daemon's first good run (its deploy of every
model) and the ``--warmup`` blocks after it are left out. After the run, the analytics are checked to hold
the last block: ``analytics.freshness`` and the policies and pools the simulator made.

Prints p50/p95/max (target p95 <= 2 s), the daemon's per-run durations, and the load average; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

import psycopg  # noqa: E402
from bench_indexer import fresh_db  # noqa: E402

from bithedge import logs  # noqa: E402
from bithedge.database import role_url  # noqa: E402
from bithedge.embedded_pg import EmbeddedPostgres  # noqa: E402
from bithedge.simulator.agents import Simulator  # noqa: E402
from stacks.rpc import StacksClient  # noqa: E402
from tests.indexer.devnet_support import simulate, start_indexer  # noqa: E402
from tests.processes import free_port  # noqa: E402
from tests.support.devnet import start_devnet_async  # noqa: E402
from tests.support.keeper import keeper_for  # noqa: E402


def pct(xs: list[float], q: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))]


def start_daemon(url: str, data_dir: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": role_url(url, "bithedge_transform"), "BITHEDGE_DATA_DIR": str(data_dir),
           "BITHEDGE_TRANSFORMS_PORT": str(port), "BITHEDGE_TRANSFORMS_RECONCILE_S": "0",
           "BITHEDGE_LOG_LEVEL": "warning"}
    return subprocess.Popen([sys.executable, "-m", "bithedge", "transforms", "serve"], env=env, cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=open(data_dir / "daemon.log", "ab"))  # noqa: SIM115


async def listen(url: str, raw: dict[int, float], built: list[tuple[float, int, float]]):
    """Until cancelled."""
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        await conn.execute("LISTEN bithedge_raw")
        await conn.execute("LISTEN bithedge_analytics")
        async for n in conn.notifies():
            now = time.monotonic()
            body = json.loads(n.payload)
            if n.channel == "bithedge_raw":
                if body.get("block_height") is not None:  # None: no Stacks block yet
                    raw.setdefault(body["block_height"], now)
            elif body.get("stacks_height") is not None:
                built.append((now, body["stacks_height"], body.get("duration_s") or 0.0))


async def bench(args) -> None:
    root = Path(tempfile.mkdtemp(prefix="bench-freshness-"))
    root.chmod(0o755)
    pg = EmbeddedPostgres(root / "pg")
    admin = pg.start()
    raw: dict[int, float] = {}
    built: list[tuple[float, int, float]] = []
    daemon = srv = devnet = listener = None
    try:
        url = await fresh_db(admin, "bench_freshness")
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("SELECT public.bithedge_database_grants()")
        listener = asyncio.create_task(listen(url, raw, built))
        srv, obs_url = await start_indexer(url)
        devnet = await start_devnet_async(root / "devnet", observers=[obs_url], block_time_ms=args.block_time_ms)
        (root / "daemon").mkdir()
        daemon = start_daemon(url, root / "daemon", free_port())
        async with StacksClient(devnet.rpc_url, retries=2) as client:
            # the keeper publishes prices and settles (the simulator does neither), stepped after each block
            sim = Simulator(client, seed=7, mine=False, activity=args.activity, log=lambda _: None)
            async with keeper_for(sim, url) as keeper:
                await sim.setup()
                t0 = time.monotonic()
                await simulate(sim, args.blocks, keeper)
                sim_s = time.monotonic() - t0
        tip = max(raw, default=0)
        deadline = time.monotonic() + 120
        while (not built or built[-1][1] < tip) and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        with psycopg.connect(role_url(url, "bithedge_reader")) as conn:
            fresh = conn.execute("SELECT marts_stacks_height, raw_stacks_height FROM analytics.freshness").fetchone()
            policies = conn.execute("SELECT count(*), max(created_stacks_height) FROM analytics.policies").fetchone()
            pools = conn.execute("SELECT count(*), max(last_change_stacks_height) FROM analytics.pools").fetchone()
    finally:
        if listener is not None:
            listener.cancel()
            await asyncio.gather(listener, return_exceptions=True)
        if daemon is not None:
            daemon.terminate()  # it finishes a run in progress first
            try:
                daemon.wait(120)
            except subprocess.TimeoutExpired:
                daemon.kill()
                daemon.wait()
        if devnet is not None:
            devnet.stop()
        if srv is not None:
            await srv.stop()
        pg.stop()
        shutil.rmtree(root, ignore_errors=True)

    # blocks committed after the daemon's first good run (its deploy), less the next --warmup
    ready = built[0][0] if built else float("inf")
    after = sorted(h for h, t in raw.items() if t > ready)
    first = after[min(args.warmup, len(after) - 1)] if after else max(raw) + 1
    lat = []
    for h in after:
        if h < first:
            continue
        seen = next((t for t, height, _ in built if height >= h and t >= raw[h]), None)
        if seen is not None:
            lat.append(seen - raw[h])
    runs = [d for t, _, d in built if t >= raw.get(first, 0)]
    if not lat:
        print(f"no block was committed after the daemon's deploy run ({len(raw)} blocks, {len(built)} runs): "
              "run more --blocks")
        return
    print(f"{len(raw)} Stacks blocks indexed in {sim_s:.0f}s of simulator traffic ({args.block_time_ms} ms blocks), "
          f"{len(built)} daemon runs; analytics at the end: freshness {fresh}, policies (count, last created "
          f"height) {policies}, pools (count, last change height) {pools}")
    print(f"indexer commit -> block in the analytics, {len(lat)} blocks after the first {args.warmup}: "
          f"p50 {statistics.median(lat):.3f}s, p95 {pct(lat, 0.95):.3f}s, max {max(lat):.3f}s (target p95 <= 2 s)")
    print(f"daemon run duration (its own figure): median {statistics.median(runs):.3f}s, "
          f"p95 {pct(runs, 0.95):.3f}s, max {max(runs):.3f}s over {len(runs)} runs; "
          f"load average {os.getloadavg()[0]:.1f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--blocks", type=int, default=120, help="simulator steps (one per block)")
    ap.add_argument("--block-time-ms", type=int, default=2000)
    ap.add_argument("--warmup", type=int, default=5, help="blocks left out after the daemon's deploy run")
    ap.add_argument("--activity", type=float, default=1.0, help="simulator activity multiplier")
    args = ap.parse_args()
    logs.configure("warning")
    asyncio.run(bench(args))


if __name__ == "__main__":
    main()
