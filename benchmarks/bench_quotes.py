"""Quotes signed and stored per second, single process.

    .venv/bin/python benchmarks/bench_quotes.py [--quotes 2000] [--concurrency 8]

Builds the quote tests' chain (`tests/api/chain_support.py`: a devnet executing the contracts, the indexer, the
analytics built by dbt, liquidity and prices) on a temporary embedded PostgreSQL (fsync off, as in the tests),
then issues quotes with varied strikes, amounts and expiries for the devnet buyers:

* ``issue``: `api.quotes.issue` in a loop on one connection as `bithedge_api` (state snapshot from `analytics`,
  every rule, pricing, id reservation, signature, insert, commit): quotes/s and p50/p99 latency;
* ``http``: ``POST /v1/quotes`` to the API app on loopback (auth, rate limit, audit row, validation, the same
  work), ``--concurrency`` requests in flight from a client in the same process;
* the parts alone: the state shared by one analytics build (read once per build), the per-request snapshot
  (freshness + the buyer's and pool's policy rows), `check_and_price` on a snapshot, and the signature (sha256
  digest + RFC 6979 secp256k1), each per second.

Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import asyncpg  # noqa: E402
import psycopg  # noqa: E402

from api.quotes import BLOCK_SQL, Quoter, QuoteRequest, check_and_price, signer_from_settings  # noqa: E402
from bithedge import logs  # noqa: E402
from bithedge.database import role_url  # noqa: E402
from bithedge.embedded_pg import EmbeddedPostgres  # noqa: E402
from bithedge.migrate import migrate  # noqa: E402
from bithedge.protocol.quotes import sign_quote  # noqa: E402
from tests.api.chain_support import BTC, start_api_chain  # noqa: E402
from tests.api.conftest import api_settings  # noqa: E402

BUYERS = ("ST3PF13W7Z0RRM42A8VZRVFQ75SV1K26RXEP8YGKJ", "ST3NBRSFKX28FQ2ZJ1MAKX58HKHSDGNV5N7R21XCP")


def requests(n: int, now: int) -> list[QuoteRequest]:
    return [QuoteRequest(buyer=BUYERS[i % 2], token="STX", buyer_tier=("standard", "flexible", "conservative")[i % 3],
                         pool_tier=("balanced", "aggressive", "conservative")[i % 3],
                         strike=BTC * (85 + i % 15) // 100, amount=1_000_000 + 1_000 * (i % 97),
                         expiry=now + 20 + i % 50) for i in range(n)]


def rate_line(name: str, n: int, seconds: float, latencies: list[float] | None = None) -> str:
    line = f"{name:<28} {n:>6} in {seconds:7.2f} s = {n / seconds:9.1f}/s"
    if latencies:
        q = statistics.quantiles(latencies, n=100)
        line += f"   p50 {q[49] * 1e3:6.2f} ms  p99 {q[98] * 1e3:6.2f} ms"
    return line


async def bench_issue(api_db: str, reqs: list[QuoteRequest], quoter: Quoter) -> str:
    conn = await asyncpg.connect(api_db)
    try:
        lat = []
        start = time.perf_counter()
        for r in reqs:
            t = time.perf_counter()
            await quoter.issue(conn, r)
            lat.append(time.perf_counter() - t)
        return rate_line("issue (in process)", len(reqs), time.perf_counter() - start, lat)
    finally:
        await conn.close()


async def bench_http(chain, reqs: list[QuoteRequest], concurrency: int) -> str:
    queue = list(reqs)
    lat: list[float] = []
    failures = 0

    async def worker() -> None:
        nonlocal failures
        while queue:
            body = queue.pop().model_dump(mode="json")
            t = time.perf_counter()
            r = await chain.post("/v1/quotes", body)
            await r.read()
            lat.append(time.perf_counter() - t)
            failures += r.status != 201

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    line = rate_line(f"POST /v1/quotes (x{concurrency})", len(reqs), time.perf_counter() - start, lat)
    return line + (f"   {failures} not 201" if failures else "")


async def bench_parts(api_db: str, reqs: list[QuoteRequest], quoter: Quoter) -> list[str]:
    signer = quoter.signer
    conn = await asyncpg.connect(api_db)
    try:
        n = min(len(reqs), 500)
        start = time.perf_counter()
        for _ in range(n // 10):
            await conn.fetchval(BLOCK_SQL, signer.address, "quote-signer")
        out = [rate_line("  block state (once a build)", n // 10, time.perf_counter() - start)]
        start = time.perf_counter()
        states = [await quoter.read_state(conn, r) for r in reqs[:n]]
        out.append(rate_line("  per-request snapshot", n, time.perf_counter() - start))
    finally:
        await conn.close()
    start = time.perf_counter()
    drafts = [check_and_price(r, s, quoter.life_blocks)[0] for r, s in zip(reqs[:n], states, strict=True)]
    out.append(rate_line("  rules + pricing", n, time.perf_counter() - start))
    start = time.perf_counter()
    for d in drafts:
        sign_quote(d, signer.key, signer.registry, signer.chain_id)
    out.append(rate_line("  digest + signature", n, time.perf_counter() - start))
    return out


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quotes", type=int, default=2000)
    ap.add_argument("--concurrency", type=int, default=8)
    args = ap.parse_args()
    logs.configure("warning", "console")
    root = Path(tempfile.mkdtemp(prefix="bench-quotes-"))
    root.chmod(0o755)
    pg = EmbeddedPostgres(root / "pg", durable=False)
    admin = pg.start()
    try:
        db = admin.rsplit("/", 1)[0] + "/bench_quotes"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute("CREATE DATABASE bench_quotes")
        migrate(db)
        print("building the chain (devnet, indexer, dbt) …", flush=True)
        chain = await start_api_chain(db, root)
        try:
            await chain.tick()
            now = await chain.burn_height()
            settings = api_settings(devnet_port=int(chain.devnet.rpc_url.rsplit(":", 1)[1]))
            quoter = Quoter(signer_from_settings(settings), settings.api_quote_life_blocks)
            api_db = role_url(db, "bithedge_api")
            policies = (await chain.rows("SELECT count(*) FROM analytics.policies"))[0][0]
            print(f"analytics: {policies} policies; quoting at burn height {now}; "
                  f"{args.quotes} quotes per run")
            print(await bench_issue(api_db, requests(args.quotes, now), quoter))
            print(await bench_http(chain, requests(args.quotes, now), args.concurrency))
            for line in await bench_parts(api_db, requests(args.quotes, now), quoter):
                print(line)
            stored = (await chain.rows("SELECT count(*) FROM api.quotes"))[0][0]
            print(f"stored quotes: {stored}")
        finally:
            await chain.stop()
    finally:
        pg.stop()


if __name__ == "__main__":
    asyncio.run(main())
