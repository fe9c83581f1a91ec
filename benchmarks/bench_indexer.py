"""Indexer throughput: TSV replay vs a bare COPY of the same rows, and live ack latency.

    .venv/bin/python benchmarks/bench_indexer.py [--tsv FILE] [--blocks 10000] [--events-per-block 100]

* Replay: ``replay_file`` (parse + decode + fork choice + COPY, one transaction per batch) into a fresh
  database; events/s and blocks/s.
* Postgres bound: the very rows that replay wrote (observer_requests, blocks, transactions, events, burn blocks, mempool),
  pre-built in memory, COPYed into another fresh database with the same tables and indexes; events/s.
* Live: an observer server; 100- and 1,000-event blocks POSTed one at a time like a stacks-node;
  ack latency p50/p99 (receipt to 200 after commit).

Per-side CPU (from /proc and getrusage) explains the bound: µs of CPU per event in the writer (main
process), the decoder workers, the Postgres backend of the COPY connection and the other Postgres
processes (WAL writer, checkpointer, background writer), next to the WAL volume and checkpoints.

``--durable`` runs Postgres with fsync on (the production setting; replay commits asynchronously either
way, a live 200 always waits for the flush). Without ``--tsv`` a synthetic export is generated (print events with real Clarity tuples, STX transfers,
burn blocks, forks). Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import aiohttp  # noqa: E402
import asyncpg  # noqa: E402

from bithedge import logs  # noqa: E402
from bithedge.embedded_pg import EmbeddedPostgres  # noqa: E402
from bithedge.migrate import migrate  # noqa: E402
from indexer import rows  # noqa: E402
from indexer.ingest import Writer  # noqa: E402
from indexer.replay import replay_file  # noqa: E402
from indexer.server import IndexerServer, ServerConfig  # noqa: E402
from tests.indexer import synth  # noqa: E402


def generate(path: Path, blocks: int, events_per_block: int, seed: int = 1) -> tuple[int, int]:
    rng = random.Random(seed)
    n = 0
    total_events = 0
    parent = synth.GENESIS_PARENT
    with open(path, "w") as f:
        for h in range(blocks):
            n += 1
            burn = {"burn_block_hash": synth.h32("burn", h), "burn_block_height": 100 + h,
                    "reward_recipients": [], "reward_slot_holders": [], "burn_amount": 0}
            f.write(f"{n}\t2026-01-01 00:00:00+00\t/new_burn_block\t{json.dumps(burn)}\n")
            b = synth.block(h, parent, "a", events=events_per_block)
            if h > 10 and rng.random() < 0.01:  # an occasional sibling that loses
                sib = synth.block(h, parent, f"s{h}", events=events_per_block)
                n += 1
                f.write(f"{n}\t2026-01-01 00:00:00+00\t/new_block\t{json.dumps(sib)}\n")
                total_events += events_per_block
            n += 1
            f.write(f"{n}\t2026-01-01 00:00:00+00\t/new_block\t{json.dumps(b)}\n")
            total_events += events_per_block
            parent = b["index_block_hash"]
    return n, total_events


async def fresh_db(admin: str, name: str) -> str:
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await conn.execute(f"CREATE DATABASE {name}")
    finally:
        await conn.close()
    url = admin.rsplit("/", 1)[0] + "/" + name
    migrate(url)
    return url


_CLK = os.sysconf("SC_CLK_TCK")


def _proc_cpu(pid: int) -> float:
    """utime + stime of one process, seconds (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _CLK


def _pg_pids(pg: EmbeddedPostgres) -> list[int]:
    """The postmaster and its children."""
    pm = int((pg.data / "postmaster.pid").read_text().split()[0])
    pids = [pm]
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pm:
                        pids.append(int(d))
            except (OSError, ValueError, IndexError):
                continue
    return pids


def _self_cpu(who: int = resource.RUSAGE_SELF) -> float:
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


class CpuMeter:
    """CPU seconds per side over a measured section: this process, its reaped children (decoder workers),
    one Postgres backend, and every other Postgres process."""

    def __init__(self, pg: EmbeddedPostgres, backend_pid: int) -> None:
        self.pg, self.backend = pg, backend_pid
        self.pids = _pg_pids(pg)
        self.t0 = (_self_cpu(), _self_cpu(resource.RUSAGE_CHILDREN), {p: _proc_cpu(p) for p in self.pids})

    def stop(self) -> dict[str, float]:
        me, kids, pgs = self.t0
        now = {p: _proc_cpu(p) for p in set(self.pids) | set(_pg_pids(self.pg))}
        backend = now.get(self.backend, 0.0) - pgs.get(self.backend, 0.0)
        # a process that exited during the section (an autovacuum worker) took its CPU time with it: skip it
        # rather than count its whole earlier time as negative
        other = sum(v - pgs.get(p, 0.0) for p, v in now.items() if p != self.backend and v >= pgs.get(p, 0.0))
        return {"writer": _self_cpu() - me, "workers": _self_cpu(resource.RUSAGE_CHILDREN) - kids,
                "pg backend": backend, "pg other": other}


def cpu_line(cpu: dict[str, float], events: int) -> str:
    total = sum(cpu.values())
    parts = "  ".join(f"{k} {v / events * 1e6:.0f}" for k, v in cpu.items() if v > 0 or k != "workers")
    backend = cpu.get("pg backend", 0.0)
    return (f"            CPU µs/event: {parts}  total {total / events * 1e6:.0f}  (bounds: 2 cores / total "
            f"{2 * events / total:,.0f} events/s; one core for the backend {events / backend:,.0f} events/s)")


async def _wal_stats(url: str) -> tuple[float, int]:
    c = await asyncpg.connect(url)
    try:
        wal = await c.fetchval("SELECT wal_bytes FROM pg_stat_wal")
        ck = await c.fetchval("SELECT num_timed + num_requested FROM pg_stat_checkpointer")
    finally:
        await c.close()
    return float(wal), int(ck)


async def bench_replay(url: str, tsv: Path, workers: int, pg: EmbeddedPostgres) -> tuple[float, int, int, dict]:
    w = await Writer.open(url)
    try:
        wal0, ck0 = await _wal_stats(url)
        meter = CpuMeter(pg, await w.conn.fetchval("SELECT pg_backend_pid()"))
        t0 = time.perf_counter()
        stats = await replay_file(w, tsv, progress=True, workers=workers)
        dt = time.perf_counter() - t0
        cpu = meter.stop()
        wal1, ck1 = await _wal_stats(url)
    finally:
        await w.close()
    print(f"            WAL {(wal1 - wal0) / 1e6:,.0f} MB, checkpoints {ck1 - ck0}")
    return dt, stats["events"], stats["blocks"], cpu


async def bench_bare_copy(src: str, dst: str, pg: EmbeddedPostgres | None = None) -> tuple[float, int, dict]:
    """COPY the rows replay produced (read back first, untimed) into an identical empty schema."""
    s = await asyncpg.connect(src)
    tables = {
        "observer_requests": rows.REQUEST_COLUMNS,
        "blocks": rows.BLOCK_COLUMNS,
        "transactions": rows.TX_COLUMNS,
        "events": rows.EVENT_COLUMNS,
        "burn_blocks": rows.BURN_COLUMNS,
        "mempool_txs": ("txid", "raw_tx", "received_at", "request_id", "dropped_at", "drop_reason", "replaced_by"),
    }
    records = {}
    try:
        for t, cols in tables.items():
            records[t] = [tuple(r) for r in await s.fetch(f"SELECT {', '.join(cols)} FROM raw.{t}")]
    finally:
        await s.close()
    d = await asyncpg.connect(dst)
    try:
        meter = CpuMeter(pg, await d.fetchval("SELECT pg_backend_pid()")) if pg is not None else None
        t0 = time.perf_counter()
        async with d.transaction():
            for t, cols in tables.items():
                for i in range(0, len(records[t]), 20000):  # same chunking order of magnitude as replay batches
                    await d.copy_records_to_table(t, schema_name="raw", columns=cols, records=records[t][i:i + 20000])
        dt = time.perf_counter() - t0
        cpu = meter.stop() if meter is not None else {}
    finally:
        await d.close()
    return dt, len(records["events"]), cpu


async def bench_live(url: str, events: int, n: int) -> tuple[float, float]:
    srv = IndexerServer(ServerConfig(dsn=url, port=0, gap_fill=False))
    port = await srv.start()
    lat = []
    try:
        parent = synth.GENESIS_PARENT
        async with aiohttp.ClientSession() as s:
            for h in range(n):
                b = synth.block(h, parent, f"live{events}", events=events)
                body = json.dumps(b).encode()
                t0 = time.perf_counter()
                async with s.post(f"http://127.0.0.1:{port}/new_block", data=body) as r:
                    assert r.status == 200
                    await r.read()
                lat.append(time.perf_counter() - t0)
                parent = b["index_block_hash"]
    finally:
        await srv.stop()
    lat.sort()
    return statistics.median(lat) * 1000, lat[int(len(lat) * 0.99) - 1] * 1000


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tsv", type=Path)
    ap.add_argument("--record", type=int, metavar="EVENTS", default=None,
                    help="replay a devnet recording of at least EVENTS events (.bithedge/bench/, made by "
                         "benchmarks/record_devnet_tsv.py when missing) instead of a synthetic export")
    ap.add_argument("--blocks", type=int, default=10_000)
    ap.add_argument("--events-per-block", type=int, default=100)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--live-blocks", type=int, default=300)
    ap.add_argument("--durable", action="store_true",
                    help="fsync on (the production setting); default: fsync off, like the tests")
    args = ap.parse_args()
    logs.configure("warning")
    root = Path(tempfile.mkdtemp(prefix="bench-indexer-"))
    root.chmod(0o755)
    pg = EmbeddedPostgres(root / "pg", durable=args.durable)
    admin = pg.start()
    print(f"postgres: {'durable (fsync on)' if args.durable else 'fsync off, as in the tests'}")
    try:
        tsv = args.tsv
        if tsv is None and args.record:
            from record_devnet_tsv import recording_for

            tsv = recording_for(args.record)
            print(f"devnet recording {tsv} ({tsv.stat().st_size / 1e6:.0f} MB)")
        if tsv is None:
            tsv = root / "synthetic.tsv"
            t0 = time.perf_counter()
            n, ev = generate(tsv, args.blocks, args.events_per_block)
            print(f"generated {tsv.name}: {n} requests, {ev} events, {tsv.stat().st_size / 1e6:.0f} MB "
                  f"in {time.perf_counter() - t0:.1f}s")
        a = await fresh_db(admin, "bench_replay")
        print(f"load average before replay: {os.getloadavg()[0]:.2f} ({os.cpu_count()} CPUs)")
        dt, events, blocks, cpu = await bench_replay(a, tsv, args.workers, pg)
        print(f"replay      {events:>9} events {blocks:>6} blocks  {dt:7.1f}s  "
              f"{events / dt:>9.0f} events/s  {blocks / dt:>7.0f} blocks/s  (workers={args.workers})")
        print(cpu_line(cpu, events))
        b = await fresh_db(admin, "bench_copy")
        cdt, cevents, ccpu = await bench_bare_copy(a, b, pg)
        print(f"bare COPY   {cevents:>9} events same rows       {cdt:7.1f}s  {cevents / cdt:>9.0f} events/s")
        print(cpu_line(ccpu, cevents))
        print(f"load average after: {os.getloadavg()[0]:.2f}")
        print(f"replay / bare COPY = {(events / dt) / (cevents / cdt) * 100:.0f}%")
        c = await fresh_db(admin, "bench_live")
        for ev in (100, 1000):
            p50, p99 = await bench_live(c, ev, args.live_blocks if ev == 100 else max(50, args.live_blocks // 3))
            print(f"live ack    {ev:>5}-event blocks  p50 {p50:6.1f} ms  p99 {p99:6.1f} ms")
    finally:
        pg.stop()
        shutil.rmtree(root, ignore_errors=True)  # a 1M-event run leaves ~10 GB of database and WAL


if __name__ == "__main__":
    asyncio.run(main())
