"""What the API and the dashboards pay to read the analytics views at scale: EXPLAIN ANALYZE of each view.

    .venv/bin/python benchmarks/bench_views.py [--policies 100000] [--keep DIR] [--views pools pool_risk …]

The scale-data chain of ``synth_policies.py`` (cached under ``.bithedge/bench/``) is replayed through the real
indexer into a fresh database (embedded Postgres) and dbt builds every model (``dbt build``: the marts, the views
and their tests). Then each view is read whole, the way a reader does (``SELECT * FROM analytics.<view>``), under
``EXPLAIN (ANALYZE, BUFFERS)``, three times in one connection; the best execution time is printed with the plan's
top node and the number of rows, and the machine's load average beside it.

``--keep DIR`` keeps the Postgres data directory there: a later run with the same DIR skips the replay and only
re-deploys the models of the worktree (``dbt build``, or ``dbt run`` with ``--no-tests``) before measuring, which is how a change to a view is measured
against the same data. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

import psycopg  # noqa: E402
from bench_indexer import fresh_db  # noqa: E402
from bench_transforms import replay, run_ok  # noqa: E402
from synth_policies import cached  # noqa: E402

from bithedge import logs  # noqa: E402
from bithedge.database import role_url  # noqa: E402
from bithedge.embedded_pg import EmbeddedPostgres  # noqa: E402
from transforms.runner import Dbt  # noqa: E402

#: the views the API and the dashboards read whole
VIEWS = ("pools", "pool_risk", "freshness", "platform_daily", "providers", "pool_history", "expiries",
         "exposure_grid", "concentration", "oracle_stats", "indexer_status")
DB = "bench_views"


def explain(url: str, view: str, repeat: int = 3) -> tuple[float, int, str]:
    """Best execution time (ms) of reading the view whole, its row count and the plan's top node."""
    best, rows, top = float("inf"), 0, ""
    with psycopg.connect(url, autocommit=True) as conn:
        for _ in range(repeat):
            plan = conn.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) SELECT * FROM analytics.{view}").fetchone()[0][0]
            ms = plan["Planning Time"] + plan["Execution Time"]
            if ms < best:
                best, rows, top = ms, plan["Plan"]["Actual Rows"], plan["Plan"]["Node Type"]
    return best, rows, top


async def prepare(admin: str, work: Path, policies: int) -> str:
    url = admin.rsplit("/", 1)[0] + "/" + DB
    marker = work / f"replayed-{policies}"
    if marker.exists():
        return url
    src, _ = cached(policies)
    url = await fresh_db(admin, DB)
    t0 = time.perf_counter()
    stats = await replay(url, src)
    print(f"replayed {src.name}: {stats['events']:,} events in {time.perf_counter() - t0:.0f}s", flush=True)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ANALYZE")
    marker.touch()
    return url


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--policies", type=int, default=100_000)
    ap.add_argument("--keep", type=Path, help="keep the database here (a later run reuses it)")
    ap.add_argument("--views", nargs="+", default=list(VIEWS))
    ap.add_argument("--no-tests", action="store_true", help="deploy with `dbt run` (no dbt tests) before measuring")
    args = ap.parse_args()
    logs.configure("warning")
    root = args.keep or Path(tempfile.mkdtemp(prefix="bench-views-"))
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o755)
    pg = EmbeddedPostgres(root / "pg")
    admin = pg.start()
    try:
        url = await prepare(admin, root, args.policies)
        dbt = Dbt(role_url(url, "bithedge_transform"), work_dir=root / "dbt")
        t0 = time.perf_counter()
        command = "run" if args.no_tests else "build"
        run_ok(dbt.run(command, "--quiet"), f"dbt {command}")
        print(f"dbt {command} {time.perf_counter() - t0:.0f}s", flush=True)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("ANALYZE")
        for view in args.views:
            ms, rows, top = explain(url, view)
            print(f"analytics.{view:<16} {ms:9.1f} ms  {rows:>7} rows  top {top:<14} load {os.getloadavg()[0]:.1f}",
                  flush=True)
    finally:
        pg.stop()
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
