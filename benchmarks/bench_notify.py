"""Notifications end to end to a local webhook receiver, with 10k subscriptions.

    .venv/bin/python benchmarks/bench_notify.py [--users 10000] [--facts 30] [--concurrency 32] [--inline]

A fresh database on an embedded PostgreSQL (fsync off, as in the tests) with the analytics relations the worker
reads (``tests/notify/conftest.py``), ``--users`` users each with a confirmed webhook channel (one loopback
receiver: its own process, as a receiver elsewhere would be, or with ``--inline`` in the worker's process,
sharing its event loop and core) and two subscriptions (BTC crossing a level; their own policies created), and the worker in-process.

* fan-out: one BTC print crossing the level reaches every user: notifications/s from the commit of the print
  (plus ``NOTIFY bithedge_analytics``, as the transforms daemon sends it) to the last receipt;
* floor: the same number of signed-size POSTs straight from an aiohttp client (same concurrency, same receiver,
  no database): what the HTTP round trips alone cost on this machine, to read the fan-out figure against;
* latency: ``--facts`` policies created one after another, each for one random user: p50/p95 from the commit
  that makes the policy visible in analytics to its receipt (target p95 <= 2 s).

Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import aiohttp  # noqa: E402
import asyncpg  # noqa: E402
from aiohttp import web  # noqa: E402

from bithedge import logs  # noqa: E402
from bithedge.database import role_url  # noqa: E402
from bithedge.embedded_pg import EmbeddedPostgres  # noqa: E402
from bithedge.migrate import migrate  # noqa: E402
from notify.worker import Worker, WorkerConfig  # noqa: E402
from tests.notify.conftest import ANALYTICS, KEY  # noqa: E402
from tests.notify.seed import owner_address, price_crossing, webhook_users  # noqa: E402


class Receiver:
    def __init__(self) -> None:
        self.arrivals: dict[str, float] = {}
        self.by_fact: dict[str, float] = {}

    async def handle(self, request: web.Request) -> web.Response:
        body = json.loads(await request.read())
        now = time.time()
        self.arrivals.setdefault(request.headers["X-BitHedge-Delivery"], now)
        self.by_fact.setdefault(body["fact_key"], now)
        return web.Response(text="ok")

    async def report(self, request: web.Request) -> web.Response:
        if fact := request.query.get("fact"):  # one fact's first receipt: a small answer while polling
            return web.json_response({"by_fact": {fact: self.by_fact[fact]} if fact in self.by_fact else {}})
        return web.json_response({"arrivals": self.arrivals, "by_fact": self.by_fact})

    async def count(self, _request: web.Request) -> web.Response:
        return web.json_response(len(self.arrivals))

    async def sync(self, fact: str | None = None) -> None:
        """Nothing to do in process: the dicts are this process's own."""

    async def received(self) -> int:
        return len(self.arrivals)


class RemoteReceiver:
    """The receiver in its own process (``--serve-receiver``); its receipts are read back over ``GET /report``."""

    def __init__(self, proc: asyncio.subprocess.Process, url: str) -> None:
        self.proc, self.url = proc, url
        self.arrivals: dict[str, float] = {}
        self.by_fact: dict[str, float] = {}

    @classmethod
    async def start(cls) -> RemoteReceiver:
        proc = await asyncio.create_subprocess_exec(sys.executable, __file__, "--serve-receiver",
                                                    stdout=asyncio.subprocess.PIPE)
        assert proc.stdout is not None
        port = int((await proc.stdout.readline()).decode())
        return cls(proc, f"http://127.0.0.1:{port}")

    async def sync(self, fact: str | None = None) -> None:
        params = {"fact": fact} if fact else {}
        async with aiohttp.ClientSession() as http, http.get(self.url + "/report", params=params) as resp:
            got = await resp.json()
        if fact:
            self.by_fact.update(got["by_fact"])
        else:
            self.arrivals, self.by_fact = got["arrivals"], got["by_fact"]

    async def received(self) -> int:
        async with aiohttp.ClientSession() as http, http.get(self.url + "/count") as resp:
            return await resp.json()

    async def stop(self) -> None:
        self.proc.terminate()
        await self.proc.wait()


async def _serve_receiver() -> None:
    receiver = Receiver()
    app = web.Application()
    app.router.add_post("/hook", receiver.handle)
    app.router.add_get("/report", receiver.report)
    app.router.add_get("/count", receiver.count)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    print(runner.addresses[0][1], flush=True)
    await asyncio.Event().wait()


async def _floor(url: str, count: int, concurrency: int) -> float:
    """Seconds for ``count`` POSTs of a delivery-sized body with ``concurrency`` in flight, no database."""
    body = json.dumps({"delivery_id": "0" * 36, "purpose": "notify", "kind": "price_crossing", "fact_key": "floor",
                       "title": "BTC crossed 100000.00 USD", "data": {"asset": "BTC", "price": "1" * 14}}).encode()
    sem = asyncio.Semaphore(concurrency)

    async def one(i: int, http: aiohttp.ClientSession) -> None:
        async with sem, http.post(url, data=body, headers={"X-BitHedge-Delivery": f"floor-{i}"}) as resp:
            await resp.read()

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as http:
        start = time.time()
        await asyncio.gather(*(one(i, http) for i in range(count)))
        return time.time() - start


async def _visible(admin: asyncpg.Connection, sql: str, *args) -> float:
    """Commit a row of analytics and announce it as the transforms daemon does; the moment it became visible."""
    async with admin.transaction():
        await admin.execute(sql, *args)
        await admin.execute("SELECT pg_notify('bithedge_analytics', '{}')")
    return time.time()


async def main(args: argparse.Namespace) -> None:
    logs.configure("warning", "console")
    with tempfile.TemporaryDirectory(prefix="bench-notify-") as tmp:
        Path(tmp).chmod(0o755)
        pg = EmbeddedPostgres(Path(tmp) / "pg", durable=False)
        admin_url = pg.start()
        try:
            url = admin_url.rsplit("/", 1)[0] + "/bench_notify"
            boot = await asyncpg.connect(admin_url)
            await boot.execute("CREATE DATABASE bench_notify")
            await boot.close()
            migrate(url)
            admin = await asyncpg.connect(url)
            await admin.execute(ANALYTICS)
            runner = None
            if args.inline:
                receiver = Receiver()
                app = web.Application()
                app.router.add_post("/hook", receiver.handle)
                runner = web.AppRunner(app, access_log=None)
                await runner.setup()
                await web.TCPSite(runner, "127.0.0.1", 0).start()
                hook = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
            else:
                receiver = await RemoteReceiver.start()
                hook = receiver.url + "/hook"
            t = time.time()
            await webhook_users(admin, args.users, hook, KEY)
            await admin.execute(
                """INSERT INTO notify.subscriptions (user_id, channel_id, kind, param_key)
                   SELECT user_id, channel_id, 'policy_created', '' FROM notify.channels""")
            print(f"seeded {args.users} users, {2 * args.users} subscriptions in {time.time() - t:.1f} s")
            worker = Worker(WorkerConfig(url=role_url(url, "bithedge_notify"), secret_key=KEY, port=0,
                                         confirmations=0, allow_loopback=True, concurrency=args.concurrency,
                                         poll_s=5.0, rate_limit_per_hour=10**6))
            await worker.start()
            await asyncio.sleep(0.5)  # the baseline scan
            try:
                start = time.time()
                async with admin.transaction():
                    await price_crossing(admin, 1)
                    await admin.execute("SELECT pg_notify('bithedge_analytics', '{}')")
                while await receiver.received() < args.users:
                    await asyncio.sleep(0.05)
                await receiver.sync()
                fan_s = max(receiver.arrivals.values()) - start
                spread = sorted(at - start for at in receiver.arrivals.values())
                print(f"receiver {'in the worker process' if args.inline else 'in its own process'}")
                print(f"fan-out: {args.users} notifications in {fan_s:.2f} s = {args.users / fan_s:.0f}/s "
                      f"(concurrency {args.concurrency}); print visible -> delivered: p50 "
                      f"{spread[len(spread) // 2]:.3f} s, p95 {spread[int(len(spread) * 0.95) - 1]:.3f} s, "
                      f"first {spread[0]:.3f} s")
                floor_s = await _floor(hook, args.users, args.concurrency)
                print(f"floor: {args.users} plain POSTs to the same receiver in {floor_s:.2f} s = "
                      f"{args.users / floor_s:.0f}/s; fan-out takes {fan_s / floor_s:.1f}x the floor")
                rng = random.Random(7)
                latencies = []
                user_ids = [r["user_id"] for r in await admin.fetch("SELECT user_id FROM notify.users")]
                for i in range(args.facts):
                    txid = f"0x{i + 1:064x}"
                    at = await _visible(
                        admin, "INSERT INTO analytics.policies (policy_id, owner, token, pool_tier, expiry, status,"
                        " status_onchain, created_txid, created_burn_height) VALUES ($1, $2, 'STX', 'basic', 900,"
                        " 'active', 'active', $3, 100)", i + 1, owner_address(rng.choice(user_ids)), txid)
                    key = f"policy_created:{txid}"
                    while key not in receiver.by_fact:
                        await asyncio.sleep(0.005)
                        await receiver.sync(key)
                    latencies.append(receiver.by_fact[key] - at)
                latencies.sort()
                p95 = latencies[max(0, int(len(latencies) * 0.95) - 1)]
                print(f"latency, fact visible -> delivered, {args.facts} facts with {2 * args.users} subscriptions: "
                      f"p50 {statistics.median(latencies):.3f} s, p95 {p95:.3f} s, max {latencies[-1]:.3f} s "
                      f"(target p95 <= 2 s)")
            finally:
                await worker.stop()
                await (runner.cleanup() if runner else receiver.stop())
                await admin.close()
        finally:
            pg.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--facts", type=int, default=30)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--inline", action="store_true", help="the receiver in the worker's process")
    parser.add_argument("--serve-receiver", action="store_true", help=argparse.SUPPRESS)
    parsed = parser.parse_args()
    asyncio.run(_serve_receiver() if parsed.serve_receiver else main(parsed))
