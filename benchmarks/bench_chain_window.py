"""Writer start-up and memory with a long chain: the in-memory window against the whole chain, side by side.

    .venv/bin/python benchmarks/bench_chain_window.py [--blocks 1000000] [--window 50000]

Fills ``raw.blocks`` of a fresh database with a linear canonical chain (COPY, untimed), then opens the writer
twice: with the window (what ``serve`` does) and with a window covering everything (what it did before).
Prints the time to open (the load), the blocks held and the Python memory they take (tracemalloc), and the
time of one write of a side-branch block from below the window (the windowed writer reads that history back).
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import shutil
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import asyncpg  # noqa: E402

from bithedge import logs  # noqa: E402
from bithedge.embedded_pg import EmbeddedPostgres  # noqa: E402
from bithedge.migrate import migrate  # noqa: E402
from indexer.ingest import Writer  # noqa: E402
from indexer.prepare import Request, now  # noqa: E402
from tests.indexer import synth  # noqa: E402


def _h(i: int, salt: str = "a") -> bytes:
    return hashlib.sha256(f"{salt}{i}".encode()).digest()


async def fill(url: str, n: int) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("INSERT INTO raw.observer_requests (path, payload, body_size, outcome) "
                           "VALUES ('/new_block', '{}', 2, 'block')")
        rows = ((_h(i), _h(i, "b"), i, _h(i - 1) if i else b"\0" * 32, False, 0, 0, True, 1) for i in range(n))
        await conn.copy_records_to_table(
            "blocks", schema_name="raw", records=rows,
            columns=("index_block_hash", "block_hash", "block_height", "parent_index_block_hash", "nakamoto",
                     "tx_count", "event_count", "canonical", "request_id"))
    finally:
        await conn.close()


async def measure(url: str, window: int, n: int, depth: int) -> None:
    tracemalloc.start()
    t0 = time.perf_counter()
    w = await Writer.open(url, chain_window=window)
    opened = time.perf_counter() - t0
    held, mem = len(w.chain), tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    try:
        # a side branch (pre-Nakamoto, shorter: stays non-canonical) from below the window
        fork_at = max(0, n - depth)
        block = synth.block(fork_at + 1, "0x" + _h(fork_at).hex(), f"fork{window}", events=0)
        t0 = time.perf_counter()
        res = await w.write([Request("/new_block", synth.dumps(block), now())])
        wrote = time.perf_counter() - t0
        assert res.blocks == 1 and not res.reorgs
    finally:
        await w.close()
    print(f"window {window:>9,}: open {opened * 1000:8.0f} ms  holds {held:>9,} blocks  {mem / 1e6:7.1f} MB  "
          f"side-branch block {n - fork_at:,} below the tip written in {wrote * 1000:6.1f} ms")


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--blocks", type=int, default=1_000_000)
    ap.add_argument("--window", type=int, default=50_000)
    args = ap.parse_args()
    logs.configure("warning")
    root = Path(tempfile.mkdtemp(prefix="bench-chain-"))
    root.chmod(0o755)
    pg = EmbeddedPostgres(root / "pg", durable=False)
    admin = pg.start()
    try:
        conn = await asyncpg.connect(admin)
        await conn.execute("CREATE DATABASE bench_chain")
        await conn.close()
        url = admin.rsplit("/", 1)[0] + "/bench_chain"
        migrate(url)
        t0 = time.perf_counter()
        await fill(url, args.blocks)
        print(f"{args.blocks:,} canonical blocks in raw.blocks ({time.perf_counter() - t0:.0f} s to fill)")
        for window in (args.window, args.blocks + 1):  # (the second: the whole chain, as before)
            await measure(url, window, args.blocks, depth=2 * args.window)
    finally:
        pg.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
