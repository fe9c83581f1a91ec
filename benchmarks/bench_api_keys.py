"""CPU per request with the key kept in the process (api.auth.KeyCache) against a key lookup on every request
(the code before the cache), side by side in one run.

    .venv/bin/python benchmarks/bench_api_keys.py URL      # a database bench_api.py --keep built (it adds a key)

One process holds the API (aiohttp's TestServer on loopback) and a client keeping 8 requests in flight, half
``GET /v1/policies/{id}``, half an owner's page; the modes alternate for 3 rounds of 1,600 requests. The
lookup mode makes the cache miss every time, which is exactly the earlier path. Prints figures; asserts nothing.
"""

from __future__ import annotations

import asyncio
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncpg  # noqa: E402
import uvloop  # noqa: E402
from aiohttp.test_utils import TestClient, TestServer  # noqa: E402

from api import keys  # noqa: E402
from api.app import create_app  # noqa: E402
from api.state import STATE  # noqa: E402
from bithedge.database import role_url  # noqa: E402
from bithedge.settings import load_settings  # noqa: E402


async def main(url: str) -> None:
    conn = await asyncpg.connect(url)
    key = (await keys.create(conn, "bench-keys", ["read"], audit_as=None)).key
    ids = [r[0] for r in await conn.fetch("SELECT policy_id FROM analytics.policies")]
    owners = [r[0] for r in await conn.fetch("SELECT DISTINCT owner FROM analytics.policies")]
    app = create_app(load_settings(api_rate_per_s=1e6), db_url=role_url(url, "bithedge_api"))
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    cache = app[STATE].auth.cache
    kept = cache.get
    rng = random.Random(3)

    async def one(i: int) -> None:
        path = (f"/v1/policies/{rng.choice(ids)}" if i % 2
                else f"/v1/policies?owner={rng.choice(owners)}&limit=20")
        async with client.get(path, headers={"x-api-key": key}) as r:
            await r.read()
            assert r.status == 200, r.status

    async def run(n: int = 1600) -> float:
        gate = asyncio.Semaphore(8)

        async def gated(i: int) -> None:
            async with gate:
                await one(i)

        t0 = time.process_time()
        await asyncio.gather(*(gated(i) for i in range(n)))
        return (time.process_time() - t0) / n * 1000

    try:
        await run(400)  # warm: every connection has prepared every statement
        for rnd in range(3):
            for mode in ("lookup", "kept"):
                cache.get = (lambda digest: None) if mode == "lookup" else kept
                print(f"round {rnd} {mode:<6} {await run():.3f} ms CPU/request (client + API, one process)",
                      flush=True)
    finally:
        await conn.execute("DELETE FROM api.keys WHERE prefix = $1", keys.split(key)[0])
        await client.close()
        await conn.close()


if __name__ == "__main__":
    uvloop.run(main(sys.argv[1]))
