"""One kept scale database that the API, dashboards, views and transforms benchmarks share, built once.

    .venv/bin/python benchmarks/scale_db.py --policies 1000000 --dir DIR [--new-blocks 8] [--no-deploy]
    .venv/bin/python benchmarks/scale_db.py --dir DIR --stop

Replaying 1M policies through the real indexer takes about half an hour and the first ``dbt run`` about twenty
minutes, so every benchmark at that size reuses one database instead of building its own. The generator's chain
(``synth_policies.cached``) is cut as ``bench_transforms.py`` cuts it: everything before the last
``--new-blocks`` policy-creating blocks is replayed into database ``scale`` of an embedded server under
``DIR/pg`` (left running), and each of those blocks is kept as ``DIR/new-<i>.tsv`` for a per-block
measurement on a copy (``CREATE DATABASE … TEMPLATE scale``). Then the models of this checkout are deployed
(``dbt run``) and the database analyzed. A second run skips the replay and only re-deploys. Prints the admin URL
of the database (``--reuse`` / ``--database-url`` of the other benchmarks).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

import psycopg  # noqa: E402
from bench_indexer import fresh_db  # noqa: E402
from bench_transforms import replay, run_ok, split  # noqa: E402
from synth_policies import cached  # noqa: E402

from bithedge import logs  # noqa: E402
from bithedge.database import role_url  # noqa: E402
from bithedge.embedded_pg import EmbeddedPostgres  # noqa: E402
from transforms.runner import Dbt  # noqa: E402

DB = "scale"


async def build(pg: EmbeddedPostgres, root: Path, policies: int, new_blocks: int, deploy: bool) -> str:
    admin = pg.start()
    url = admin.rsplit("/", 1)[0] + "/" + DB
    marker = root / f"replayed-{policies}"
    if not marker.exists():
        src, summary = cached(policies)
        base, _ = split(src, root, summary["stats"]["creation-blocks"], new_blocks)
        url = await fresh_db(admin, DB)
        t0 = time.perf_counter()
        stats = await replay(url, base)
        print(f"replayed {base} ({src.name} less its last {new_blocks} creation blocks): {stats['events']:,} "
              f"events, {stats['dead_letters']} dead letters, in {time.perf_counter() - t0:.0f}s", flush=True)
        base.unlink()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("ANALYZE")
        marker.touch()
    if deploy:
        dbt = Dbt(role_url(url, "bithedge_transform"), work_dir=root / "dbt")
        t0 = time.perf_counter()
        # a first build writes the marts whole: vacuumed and analyzed after it, as the daemon's first run does
        run_ok(dbt.writing_whole(lambda: dbt.run("run", "--quiet")), "dbt run")
        print(f"dbt run (then its marts vacuumed and analyzed) {time.perf_counter() - t0:.0f}s", flush=True)
        with psycopg.connect(url, autocommit=True) as conn:
            (n,) = conn.execute("SELECT count(*) FROM analytics.policies").fetchone()
        print(f"analytics.policies: {n:,} rows", flush=True)
    return url


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--policies", type=int, default=1_000_000)
    ap.add_argument("--dir", type=Path, required=True)
    ap.add_argument("--new-blocks", type=int, default=8)
    ap.add_argument("--no-deploy", action="store_true", help="replay only; no dbt run")
    ap.add_argument("--stop", action="store_true", help="stop the kept server")
    args = ap.parse_args()
    logs.configure("warning")
    pg = EmbeddedPostgres(args.dir / "pg")
    if args.stop:
        pg.stop()
        return
    args.dir.mkdir(parents=True, exist_ok=True)
    args.dir.chmod(0o755)
    url = asyncio.run(build(pg, args.dir, args.policies, args.new_blocks, not args.no_deploy))
    print(f"scale database (server left running; --stop stops it): {url}")


if __name__ == "__main__":
    main()
