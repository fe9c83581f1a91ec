"""dbt cost against history: the per-block incremental run at two chain sizes, and a full rebuild beside the
bare scan of the same raw rows.

    .venv/bin/python benchmarks/bench_transforms.py [--sizes 10000 1000000] [--per-block 200] [--new-blocks 8]
    .venv/bin/python benchmarks/bench_transforms.py --reuse ADMIN_URL --tails DIR [--template scale] [--rebuild]

For each size, the scale-data chain of ``synth_policies.py`` (cached under ``.bithedge/bench/``) is cut after
its last policy-creating block less ``--new-blocks``: the prefix is replayed through the real indexer into a
fresh database (embedded Postgres with its default, durable settings), dbt deploys every model, then

* full rebuild: ``dbt run --full-refresh`` of every model, timed (with its slowest nodes; then the marts are
  analyzed, as ``Dbt.deploy(full_refresh=True)`` does, before the per-block runs), next to the floor:
  ``SELECT count(*)`` over the raw rows the models read (``raw.events``, ``raw.blocks``, ``raw.transactions``,
  ``raw.burn_blocks``), and next to one scan of the staging layer that decodes and checks every print event's
  JSON once, both measured warm in the same run;
* incremental: each of the ``--new-blocks`` blocks (``--per-block`` new policies each, plus settlements,
  prices, deposits) is replayed, then the daemon's per-block in-process run (``Dbt.refresh_marts``: the marts
  whose contracts printed) is timed, with this process's CPU time beside the wall time (the machine is
  shared, the load average is printed); median and p95 per size, and the ratio largest/smallest of the
  medians (target <= 1.5).

Every timing is printed with the CPU seconds Postgres spent on it (every server process, exited backends
included: the postmaster's reaped children) and this process's CPU: on the shared 2-core machine the wall
time grows with the load average, several times over at a load of 10+, while the CPU time does not.

With ``--reuse`` (a 1M chain takes hours to replay and build), the same per-block runs, and with ``--rebuild``
the full rebuild, its floor and the staging scan, run against a copy of a database already built by
``benchmarks/scale_db.py`` (its ``scale`` database is never written) and the per-block tail files it kept
(``new-<i>.tsv``); marts this checkout adds are built first.

Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

import psycopg  # noqa: E402
from bench_indexer import fresh_db  # noqa: E402
from synth_policies import cached  # noqa: E402

from bithedge import logs  # noqa: E402
from bithedge.database import role_url  # noqa: E402
from bithedge.embedded_pg import EmbeddedPostgres  # noqa: E402
from indexer import tsv  # noqa: E402
from indexer.ingest import Writer  # noqa: E402
from indexer.replay import replay_file  # noqa: E402
from transforms.runner import Dbt, mart_tables, vacuum_marts  # noqa: E402

RAW_TABLES = ("events", "blocks", "transactions", "burn_blocks")
_CLK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str]:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()
    except OSError:
        return []


def pg_cpu(pg: EmbeddedPostgres) -> float:
    """CPU seconds of the whole Postgres server so far: the postmaster, its live children, and (cutime +
    cstime of the postmaster) every child it has reaped, so a backend that exits inside a measurement counts."""
    pm = int((pg.data / "postmaster.pid").read_text().split()[0])
    f = _stat(pm)
    total = sum(int(x) for x in f[11:15]) if f else 0
    for d in os.listdir("/proc"):
        if d.isdigit() and d != str(pm):
            c = _stat(int(d))
            if c and int(c[1]) == pm:
                total += int(c[11]) + int(c[12])
    return total / _CLK


class Cpu:
    """Wall, Postgres and this process's CPU seconds over a ``with`` block."""

    def __init__(self, pg: EmbeddedPostgres) -> None:
        self.pg = pg

    def __enter__(self) -> Cpu:
        self.t0, self.pg0, self.self0 = time.perf_counter(), pg_cpu(self.pg), time.process_time()
        return self

    def __exit__(self, *exc) -> None:
        self.wall = time.perf_counter() - self.t0
        self.server = pg_cpu(self.pg) - self.pg0
        self.client = time.process_time() - self.self0

    def __str__(self) -> str:
        return f"{self.wall:.2f}s wall, Postgres CPU {self.server:.2f}s, dbt/client CPU {self.client:.2f}s"


def split(src: Path, out: Path, cut_block: int, new_blocks: int) -> tuple[Path, list[Path]]:
    """The requests up to Stacks block ``cut_block − new_blocks`` as one file, then one file per later block
    up to ``cut_block`` (its burn block and its block); later requests are left out."""
    base = out / "base.tsv"
    tails = [out / f"new-{i}.tsv" for i in range(new_blocks)]
    files = [base.open("w"), *(t.open("w") for t in tails)]
    first_new = cut_block - new_blocks + 1
    block = 0
    try:
        for row in tsv.read(src):
            if row.path == "/new_burn_block":
                block += 1  # one burn block before each Stacks block
            if block > cut_block:
                break
            f = files[0] if block < first_new else files[1 + block - first_new]
            f.write(f"{row.id}\t{row.received_at.isoformat(sep=' ')}\t{row.path}\t{row.payload}\n")
    finally:
        for f in files:
            f.close()
    return base, tails


async def replay(url: str, path: Path) -> dict:
    w = await Writer.open(url)
    try:
        return await replay_file(w, path, progress=False)
    finally:
        await w.close()


def timed_warm(pg: EmbeddedPostgres, url: str, queries: list[str]) -> Cpu:
    """Wall and CPU time of ``queries`` in one connection, warm: the second of two runs."""
    with psycopg.connect(url) as conn:
        for _ in range(2):
            with Cpu(pg) as m:
                for q in queries:
                    conn.execute(q).fetchall()
    return m


def floor_scan(pg: EmbeddedPostgres, url: str) -> Cpu:
    """The floor: a bare count(*) of every raw table the models read."""
    return timed_warm(pg, url, [f"SELECT count(*) FROM raw.{t}" for t in RAW_TABLES])


def decode_scan(pg: EmbeddedPostgres, url: str) -> Cpu:
    """Reading every print once through the staging layer: the JSON of every BitHedge print event detoasted,
    its event name extracted and every field checked against the catalog (what any build must do once)."""
    return timed_warm(pg, url, ["SELECT count(*) FROM staging.stg_bithedge_prints WHERE problem IS NULL"])


def slowest_nodes(work: Path, n: int = 5) -> list[tuple[str, float]]:
    """The ``n`` slowest nodes of the last dbt run that wrote run_results.json."""
    results = json.loads((work / "dbt" / "target" / "run_results.json").read_text())["results"]
    return sorted(((r["unique_id"].split(".")[-1], round(r["execution_time"], 2)) for r in results),
                  key=lambda x: -x[1])[:n]


def run_ok(outcome, what: str):
    if not outcome.success:
        raise RuntimeError(f"{what} failed: {outcome.errors[:3]}")
    return outcome


async def bench_size(pg: EmbeddedPostgres, admin: str, root: Path, policies: int, args) -> dict:
    t0 = time.perf_counter()
    src, summary = cached(policies, args.per_block, args.seed)
    gen_s = time.perf_counter() - t0
    work = root / f"p{policies}"
    work.mkdir()
    base, tails = split(src, work, summary["stats"]["creation-blocks"], args.new_blocks)
    url = await fresh_db(admin, f"bench_transforms_{policies}")
    t0 = time.perf_counter()
    stats = await replay(url, base)
    replay_s = time.perf_counter() - t0
    with psycopg.connect(url) as conn:
        counts = {t: conn.execute(f"SELECT count(*) FROM raw.{t}").fetchone()[0] for t in RAW_TABLES}
        conn.execute("ANALYZE")
        conn.commit()
        (in_base,) = conn.execute(
            "SELECT count(*) FROM raw.events WHERE value->'value'->'event'->>'value' = 'policy-created'").fetchone()
    dbt = Dbt(role_url(url, "bithedge_transform"), work_dir=work / "dbt")
    t0 = time.perf_counter()
    run_ok(dbt.run("build", "--quiet"), "dbt build")
    deploy_s = time.perf_counter() - t0
    with Cpu(pg) as rebuild_m:
        rebuild = run_ok(dbt.run("run", "--full-refresh", "--quiet"), "full rebuild").duration_s
    vacuum_marts(dbt.url)  # as `Dbt.deploy(full_refresh=True)` does after it, before the per-block runs
    slowest = slowest_nodes(work)
    floor_m = floor_scan(pg, url)
    decode_m = decode_scan(pg, url)
    floor, decode = floor_m.wall, decode_m.wall
    with psycopg.connect(url) as conn:
        (db_mb,) = conn.execute("SELECT pg_database_size(current_database()) / 1e6").fetchone()
    incr, cpu, server_cpu, built, p95 = await per_block(pg, url, dbt, tails)
    res = {"policies": policies, "policies_in_base": in_base, "tsv_mb": round(src.stat().st_size / 1e6, 1),
           "generate_s": round(gen_s, 1), "replay_s": round(replay_s, 1), "replayed_events": stats["events"],
           "dead_letters": stats["dead_letters"], "raw_rows": counts, "deploy_s": round(deploy_s, 1),
           "rebuild_s": round(rebuild, 2), "floor_s": round(floor, 3), "rebuild_over_floor": round(rebuild / floor, 1),
           "decode_s": round(decode, 3), "incremental_s": [round(x, 3) for x in incr],
           "incremental_median_s": round(statistics.median(incr), 3), "incremental_p95_s": round(p95, 3),
           "incremental_cpu_median_s": round(statistics.median(cpu), 3),
           "incremental_pg_cpu_median_s": round(statistics.median(server_cpu), 3),
           "rebuild_pg_cpu_s": round(rebuild_m.server, 2), "rebuild_client_cpu_s": round(rebuild_m.client, 2),
           "floor_pg_cpu_s": round(floor_m.server, 3), "decode_pg_cpu_s": round(decode_m.server, 2),
           "load": os.getloadavg()[0]}
    print(f"{policies:>8} policies ({in_base} in the base, {res['tsv_mb']} MB TSV, {sum(counts.values()):,} raw rows: "
          f"{counts}); replay {replay_s:.1f}s, dead letters {stats['dead_letters']}; database {db_mb:,.0f} MB; "
          f"deploy (dbt build) {deploy_s:.1f}s", flush=True)
    print(f"         full rebuild (dbt run --full-refresh) {rebuild:.2f}s; floor count(*) {floor * 1000:.1f} ms; "
          f"rebuild/floor {rebuild / floor:.1f}x (target <= 5x); decoding every print once (staging scan) "
          f"{decode:.2f}s, rebuild/decode {rebuild / decode:.1f}x; slowest nodes {slowest}", flush=True)
    print(f"         CPU: full rebuild {rebuild_m}; floor {floor_m}; staging scan {decode_m}; "
          f"load average {os.getloadavg()[0]:.1f}", flush=True)
    print(f"         incremental marts run per new block: median {res['incremental_median_s']:.3f}s, p95 "
          f"{res['incremental_p95_s']:.3f}s over {len(incr)} blocks ({', '.join(f'{x:.2f}' for x in incr)}); "
          f"marts built {built} of {len(selection_marts(dbt))}; this process's CPU median "
          f"{res['incremental_cpu_median_s']:.3f}s, Postgres CPU median {res['incremental_pg_cpu_median_s']:.3f}s; load average {os.getloadavg()[0]:.1f}", flush=True)
    return res


async def per_block(pg: EmbeddedPostgres, url: str, dbt: Dbt, tails: list[Path]):
    """Each tail replayed, then the daemon's per-block run timed: wall, this process's and Postgres' CPU."""
    incr, cpu, server_cpu, built = [], [], [], []
    for t in tails:
        await replay(url, t)
        with Cpu(pg) as m:
            out = run_ok(dbt.refresh_marts(), "marts run")
        cpu.append(m.client)
        server_cpu.append(m.server)
        incr.append(out.duration_s)
        built.append(len(out.statuses))
    incr_sorted = sorted(incr)
    return incr, cpu, server_cpu, built, incr_sorted[min(len(incr) - 1, round(0.95 * (len(incr) - 1)))]


async def bench_reuse(args) -> None:
    """``--reuse``: the per-block run (and with ``--rebuild`` the full rebuild) against a copy of an already
    built database (``benchmarks/scale_db.py``'s ``scale``), which is never written: ``CREATE DATABASE ...
    TEMPLATE`` (file copy), this checkout's views deployed over it, the tails of ``--tails`` replayed one per
    run, the copy dropped at the end."""
    pg = EmbeddedPostgres(args.pg_root or args.tails / "pg")
    base = args.reuse.rsplit("/", 1)[0]
    copy = "bench_transforms_copy"
    with psycopg.connect(args.reuse, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {copy} WITH (FORCE)")
        with Cpu(pg) as copy_m:
            conn.execute(f"CREATE DATABASE {copy} TEMPLATE {args.template} STRATEGY FILE_COPY")
        # a template copies the schemas, not the database's own grants (CREATE for the transform role)
        for role, privilege in conn.execute(
                "SELECT r.rolname, a.privilege_type FROM pg_database d CROSS JOIN aclexplode(d.datacl) a "
                "JOIN pg_roles r ON r.oid = a.grantee WHERE d.datname = %s", (args.template,)).fetchall():
            conn.execute(f'GRANT {privilege} ON DATABASE {copy} TO "{role}"')
    url = f"{base}/{copy}"
    work = Path(tempfile.mkdtemp(prefix="bench-transforms-reuse-"))
    try:
        with psycopg.connect(url) as conn:
            (db_mb,) = conn.execute("SELECT pg_database_size(current_database()) / 1e6").fetchone()
            (policies,) = conn.execute("SELECT count(*) FROM marts.policies").fetchone()
        print(f"copy of {args.template} ({db_mb:,.0f} MB, {policies:,} policies in marts.policies): {copy_m}; "
              f"load average {os.getloadavg()[0]:.1f}", flush=True)
        dbt = Dbt(role_url(url, "bithedge_transform"), work_dir=work / "dbt")
        dbt.parse()
        if new := [m.name for m in selection_marts(dbt) if m.table not in mart_tables(dbt.url)]:
            with Cpu(pg) as m:  # marts this checkout adds, which its views may read: built first, from nothing,
                # then vacuumed and analyzed, as a deploy does (without statistics the per-block runs' plans
                # read them whole: 3.5 s a block at 1M)
                run_ok(dbt.writing_whole(lambda: dbt.run("run", "--select", *new, "--quiet")), "new marts")
            print(f"         marts new in this checkout ({', '.join(new)}) built: {m}", flush=True)
        with Cpu(pg) as m:  # this checkout's views and functions; the marts follow in the runs below
            run_ok(dbt.run("run", "--exclude", "config.materialized:mart", "--quiet"), "views deploy")
        print(f"         views of this checkout deployed: {m}", flush=True)
        floor_m = floor_scan(pg, url)
        print(f"         floor count(*) of the raw rows: {floor_m}", flush=True)
        if args.rebuild:
            with Cpu(pg) as rebuild_m:
                run_ok(dbt.run("run", "--full-refresh", "--quiet"), "full rebuild")
            print(f"         full rebuild {rebuild_m}; rebuild/floor {rebuild_m.wall / floor_m.wall:.1f}x (target <= 5x); "
                  f"slowest nodes {slowest_nodes(work)}; load average {os.getloadavg()[0]:.1f}", flush=True)
            decode_m = decode_scan(pg, url)
            print(f"         decoding every print once (staging scan, no mart written): {decode_m}; "
                  f"{decode_m.wall / floor_m.wall:.1f}x the floor", flush=True)
            with Cpu(pg) as m:  # as `Dbt.deploy(full_refresh=True)` does after it
                vacuum_marts(dbt.url)
            print(f"         VACUUM (ANALYZE) of the marts after it: {m}", flush=True)
        tails = sorted(args.tails.glob("new-*.tsv"), key=lambda p: int(p.stem.split("-")[1]))
        incr, cpu, server_cpu, built, p95 = await per_block(pg, url, dbt, tails)
        print(f"         incremental marts run per new block: median {statistics.median(incr):.3f}s, p95 {p95:.3f}s "
              f"over {len(incr)} blocks ({', '.join(f'{x:.2f}' for x in incr)}); marts built {built}; this "
              f"process's CPU median {statistics.median(cpu):.3f}s, Postgres CPU median "
              f"{statistics.median(server_cpu):.3f}s; load average {os.getloadavg()[0]:.1f}", flush=True)
    finally:
        with psycopg.connect(args.reuse, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {copy} WITH (FORCE)")
        shutil.rmtree(work, ignore_errors=True)


def selection_marts(dbt: Dbt) -> list:
    from transforms import selection

    return selection.marts(dbt._manifest, dbt.vars["deployer"])


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--per-block", type=int, default=200)
    ap.add_argument("--new-blocks", type=int, default=8)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--reuse", metavar="ADMIN_URL",
                    help="measure against a copy of an already built database on this server (superuser URL)")
    ap.add_argument("--template", default="scale", help="with --reuse: the database to copy")
    ap.add_argument("--tails", type=Path, help="with --reuse: the directory of the per-block new-<i>.tsv files")
    ap.add_argument("--pg-root", type=Path, help="with --reuse: the embedded server's root (default TAILS/pg), "
                    "for its CPU time")
    ap.add_argument("--rebuild", action="store_true", help="with --reuse: also time a full rebuild")
    args = ap.parse_args()
    logs.configure("warning")
    if args.reuse:
        if args.tails is None:
            ap.error("--reuse needs --tails")
        await bench_reuse(args)
        return
    root = Path(tempfile.mkdtemp(prefix="bench-transforms-"))
    root.chmod(0o755)
    pg = EmbeddedPostgres(root / "pg")
    admin = pg.start()
    try:
        results = [await bench_size(pg, admin, root, n, args) for n in args.sizes]
    finally:
        pg.stop()
        shutil.rmtree(root, ignore_errors=True)
    small, large = results[0], results[-1]
    ratio = large["incremental_median_s"] / small["incremental_median_s"]
    print(f"incremental ratio {large['policies']}/{small['policies']} policies: {ratio:.2f} (target <= 1.5)")


if __name__ == "__main__":
    asyncio.run(main())
