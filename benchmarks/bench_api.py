"""API latency on indexed lookups against the bare database loop running the same queries.

    .venv/bin/python benchmarks/bench_api.py [--policies 100000] [--rates 250 500 1000 1500 2000] [--seconds 5]
        [--workers N] [--baseline DIR] [--reuse URL] [--anonymous] [--mix policy owner pools]

The scale-data chain of ``synth_policies.py`` (cached under ``.bithedge/bench/``) is replayed through the real
indexer into a fresh database (embedded Postgres) and dbt deploys every model. Then, for each offered rate
(open loop: request ``i`` is due at ``t0 + i / rate``, and its latency counts from then, so a server that falls
behind is charged for the queueing it causes):

* **api**: ``bithedge api serve`` as its own process (role ``bithedge_api``), driven over loopback by an aiohttp
  client in this process: a third each of ``GET /v1/policies/{id}`` (one policy and its lifecycle),
  ``GET /v1/policies?owner=…&limit=20`` (a page of an owner's policies) and ``GET /v1/pools``;
* **floor**: a bare asyncpg pool in this process running the same SQL the handlers run for those three, at the
  same rate (numerics as text, as the API's reads pool decodes them);
* **base** (``--baseline DIR``): the API of another checkout (e.g. ``git archive <commit> | tar -x -C DIR``),
  served the same way beside this one, so a change's effect is measured side by side in one run.

``--workers N`` serves each API with ``bithedge api serve --workers N``; its CPU is the parent's and every
worker's. At each rate the sides run in turn (floor, api, base), so a change of the machine's load touches all.
Per rate: p50/p99 (ms), errors, the CPU seconds the load generator (this process) and the API processes used,
and the load average.
The highest rate whose p99 ≤ 10 ms is reported for both (target: api ≥ 50 % of the floor's; p99 ≤ 10 ms at
1,000 rps). ``--what-if-indexes`` adds the indexes these lookups would need on the marts (owner; policy id on
the pool/treasury/fund histories) to the benchmark's own database and runs the sweep again.

Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

import aiohttp  # noqa: E402
import asyncpg  # noqa: E402
from bench_indexer import _proc_cpu, fresh_db  # noqa: E402
from bench_transforms import replay, run_ok  # noqa: E402
from synth_policies import cached  # noqa: E402

from api import keys  # noqa: E402
from api.policies import POLICIES, POLICY_DETAIL_SQL  # noqa: E402
from api.pools import POOLS  # noqa: E402
from api.state import _release as release  # noqa: E402
from api.state import text_numerics  # noqa: E402
from api.views import select_list  # noqa: E402
from bithedge import logs  # noqa: E402
from bithedge.database import role_url  # noqa: E402
from bithedge.embedded_pg import EmbeddedPostgres  # noqa: E402
from transforms.runner import Dbt  # noqa: E402

TARGET_MS = 10.0
WHAT_IF_INDEXES = (
    "CREATE INDEX IF NOT EXISTS bench_policies_owner ON marts.policies (owner, policy_id)",
    "CREATE INDEX IF NOT EXISTS bench_pool_history_policy ON marts.pool_history (policy_id)",
    "CREATE INDEX IF NOT EXISTS bench_treasury_policy ON marts.treasury_events (policy_id)",
    "CREATE INDEX IF NOT EXISTS bench_fund_policy ON marts.fund_events (policy_id)",
)


def _sql(view, where: str, order: str, limit: str = "") -> str:
    return f"SELECT {select_list(view.model)} FROM {view.relation} WHERE {where} ORDER BY {order}{limit}"


#: the SQL the three handlers run (api.policies / api.pools), for the floor
POLICY_SQL = [POLICY_DETAIL_SQL]
OWNER_SQL = _sql(POLICIES, "owner = $1", "policy_id DESC", " LIMIT 21")
POOLS_SQL = f"SELECT {select_list(POOLS.model)} FROM {POOLS.relation} ORDER BY token, tier"


def percentile(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(q * (len(xs) - 1)))]


async def open_loop(rate: float, seconds: float, one: Callable[[int], Awaitable[str]]) -> dict:
    """Offer ``rate`` requests a second for ``seconds``; latency from each request's due time (``one`` returns
    the request's kind, for the per-kind medians). A dispatcher starts each request when it is due: creating
    every request's task up front (as this did until session 9) cost the generator ~0.1 s of its own at the
    start of a run, charged to the first requests as latency. The generator's garbage collector is off during a
    run, so its own pauses (a full collection walks everything this process imported) are not charged either."""
    n = int(rate * seconds)
    lat: list[float] = []
    by_kind: dict[str, list[float]] = {}
    errors = 0
    loop = asyncio.get_running_loop()

    async def fire(i: int, due: float) -> None:
        nonlocal errors
        try:
            kind = await one(i)
        except Exception:  # noqa: BLE001 - counted, the run goes on
            errors += 1
            return
        lat.append((loop.time() - due) * 1000)
        by_kind.setdefault(kind, []).append(lat[-1])

    gc.collect()
    gc.disable()
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    tasks = []
    try:
        t0, i = loop.time() + 0.05, 0
        while i < n:
            now = loop.time()
            while i < n and t0 + i / rate <= now:
                tasks.append(loop.create_task(fire(i, t0 + i / rate)))
                i += 1
            if i < n:
                await asyncio.sleep(t0 + i / rate - loop.time())
        await asyncio.gather(*tasks)
    finally:
        gc.enable()
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    gen_cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    ok = lat or [float("inf")]
    return {"rate": rate, "requests": n, "errors": errors, "p50_ms": round(statistics.median(ok), 2),
            "p99_ms": round(percentile(ok, 0.99), 2), "loadgen_cpu_s": round(gen_cpu, 2),
            "p50_by_kind_ms": {k: round(statistics.median(v), 2) for k, v in sorted(by_kind.items())}}


KINDS = ("policy", "owner", "pools")


class Targets:
    def __init__(self, ids: list[int], owners: list[str], mix: list[str]) -> None:
        self.ids, self.owners, self.mix = ids, owners, mix
        self.rng = random.Random(7)

    def pick(self, i: int) -> tuple[str, object]:
        kind = self.mix[i % len(self.mix)]
        if kind == "policy":
            return kind, self.rng.choice(self.ids)
        if kind == "owner":
            return kind, self.rng.choice(self.owners)
        return kind, None


def tree_cpu(pid: int) -> float:
    """CPU seconds of a process and its children (the workers of ``--workers``)."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            children = [int(c) for c in f.read().split()]
    except OSError:
        children = []
    return _proc_cpu(pid) + sum(tree_cpu(c) for c in children)


async def sweep(sides: list[tuple[str, Callable, Callable[[], float] | None]], rates: list[float],
                seconds: float) -> dict[str, list]:
    """Every rate on every side in turn; ``sides``: (name, one request, the server's CPU seconds or None)."""
    out: dict[str, list] = {name: [] for name, _, _ in sides}
    for rate in rates:
        for name, one, cpu_of in sides:
            before = cpu_of() if cpu_of else 0.0
            res = await open_loop(rate, seconds, one)
            if cpu_of:
                res["server_cpu_s"] = round(cpu_of() - before, 2)
            res["load"] = os.getloadavg()[0]
            out[name].append(res)
            print(f"  {name:<5} {rate:>6.0f} rps: p50 {res['p50_ms']:>8.2f} ms  p99 {res['p99_ms']:>8.2f} ms  "
                  f"errors {res['errors']}  load generator CPU {res['loadgen_cpu_s']:.2f}s"
                  + (f"  api CPU {res['server_cpu_s']:.2f}s ({1000 * res['server_cpu_s'] / res['requests']:.3f} ms/req)"
                     if cpu_of else "")
                  + f"  load {res['load']:.1f}  p50 by kind {res['p50_by_kind_ms']}", flush=True)
    return out


def best(results: list[dict]) -> float:
    ok = [r["rate"] for r in results if r["p99_ms"] <= TARGET_MS and r["errors"] == 0]
    return max(ok, default=0.0)


async def build(admin: str, root: Path, policies: int) -> str:
    src, summary = cached(policies)
    url = await fresh_db(admin, f"bench_api_{policies}")
    t0 = time.perf_counter()
    stats = await replay(url, src)
    print(f"replayed {src.name} ({summary['mb']} MB): {stats['events']} events in {time.perf_counter() - t0:.0f}s",
          flush=True)
    conn = await asyncpg.connect(url)
    await conn.execute("ANALYZE")
    await conn.close()
    t0 = time.perf_counter()
    run_ok(Dbt(role_url(url, "bithedge_transform"), work_dir=root / "dbt").run("build", "--quiet"), "dbt build")
    print(f"dbt build {time.perf_counter() - t0:.0f}s", flush=True)
    return url


async def run_pair(url: str, args, servers: list[tuple[str, str, int]], key: str | None) -> dict[str, list]:
    """The floor and each API server (name, base URL, pid) at every rate."""
    conn = await asyncpg.connect(url)
    ids = [r[0] for r in await conn.fetch("SELECT policy_id FROM analytics.policies")]
    owners = [r[0] for r in await conn.fetch("SELECT DISTINCT owner FROM analytics.policies")]
    await conn.close()
    targets = Targets(ids, owners, args.mix)
    await explain(url, ids[len(ids) // 2], owners[0])
    # the same release as the API's pool (no reset round trip) and its numerics as text, so the floor is what
    # asyncpg can do at best
    pool = await asyncpg.create_pool(role_url(url, "bithedge_api"), min_size=10, max_size=10, reset=release,
                                     init=text_numerics, server_settings={"jit": "off"})

    async def floor_one(i: int) -> None:
        kind, arg = targets.pick(i)
        async with pool.acquire() as c:
            if kind == "policy":
                for sql in POLICY_SQL:
                    await c.fetch(sql, arg)
            elif kind == "owner":
                await c.fetch(OWNER_SQL, arg)
            else:
                await c.fetch(POOLS_SQL)
        return kind

    session = aiohttp.ClientSession(headers={"x-api-key": key} if key else {},
                                    connector=aiohttp.TCPConnector(limit=64, keepalive_timeout=60))

    def api_one(base: str):  # noqa: ANN202 - one request to the server at ``base``
        async def one(i: int) -> str:
            kind, arg = targets.pick(i)
            path = {"policy": f"/v1/policies/{arg}", "owner": f"/v1/policies?owner={arg}&limit=20",
                    "pools": "/v1/pools"}[kind]
            async with session.get(base + path) as r:
                await r.read()
                if r.status != 200:
                    raise RuntimeError(r.status)
            return kind
        return one

    sides = [("floor", floor_one, None),
             *((name, api_one(base), lambda pid=pid: tree_cpu(pid)) for name, base, pid in servers)]
    try:
        for _, one, _ in sides:
            # warm all: every connection has prepared every statement, then the sweep's top rate has opened
            # the client connections it needs (a first run at 1,000 rps after only this at 200 rps spent its
            # first ~0.15 s at up to 86 ms a request, each later run none: the start, not the steady state)
            await open_loop(200, 2, one)
            await open_loop(max(args.rates), 2, one)
        print(f"  ({len(ids)} policies, {len(owners)} owners; {args.seconds:g}s per rate; "
              f"api workers {args.workers})")
        return await sweep(sides, args.rates, args.seconds)
    finally:
        await session.close()
        await pool.close()


async def explain(url: str, policy_id: int, owner: str) -> None:
    """Each query's own execution time (EXPLAIN ANALYZE, warm), to tell the database's cost from the API's."""
    conn = await asyncpg.connect(role_url(url, "bithedge_api"))
    try:
        for label, sql, args in [*((f"policy q{i}", q, (policy_id,)) for i, q in enumerate(POLICY_SQL)),
                                 ("owner page", OWNER_SQL, (owner,)), ("pools", POOLS_SQL, ())]:
            plan = []
            for _ in range(2):
                plan = await conn.fetch("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, *args)
            ms = json.loads(plan[0][0])[0]["Execution Time"]
            print(f"  {label:<10} executes in {ms:.2f} ms", flush=True)
    finally:
        await conn.close()


def report(title: str, results: dict[str, list]) -> None:
    floor = results["floor"]
    b_floor = best(floor)
    for name, runs in results.items():
        if name == "floor":
            continue
        at = {r["rate"]: r for r in runs}.get(1000.0)
        b_api = best(runs)
        share = f"{100 * b_api / b_floor:.0f} %" if b_floor else "n/a (the floor never met it)"
        print(f"{title}: highest rate with p99 <= {TARGET_MS:g} ms: {name} {b_api:.0f} rps, floor {b_floor:.0f} rps "
              f"({name}/floor {share}; target >= 50 %)")
        if at:
            print(f"{title}: at 1,000 rps offered the {name}'s p50 {at['p50_ms']} ms, p99 {at['p99_ms']} ms "
                  "(target p99 <= 10)")
        cpu = sum(r["server_cpu_s"] for r in runs) / sum(r["requests"] for r in runs) * 1000
        print(f"{title}: {name} CPU {cpu:.3f} ms per request over the sweep")
    for name, runs in results.items():
        print(f"{title}: load generator CPU while driving {name}: "
              + ", ".join(f"{r['loadgen_cpu_s']:.2f}s at {r['rate']:.0f} rps" for r in runs))


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--policies", type=int, default=100_000)
    ap.add_argument("--rates", type=float, nargs="+", default=[250, 500, 1000, 1500, 2000])
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--what-if-indexes", action="store_true")
    ap.add_argument("--mix", nargs="+", choices=KINDS, default=list(KINDS), help="Request kinds, in turn.")
    ap.add_argument("--reuse", metavar="URL", help="A database an earlier run built (kept with --keep).")
    ap.add_argument("--anonymous", action="store_true",
                    help="Create no key (a database only to be read, e.g. the shared scale database): the API "
                         "serves the bench as anonymous reads, which skip the key check as a kept key does.")
    ap.add_argument("--keep", action="store_true", help="Leave the database and its server running, print its URL.")
    ap.add_argument("--workers", type=int, default=1, help="API worker processes (bithedge api serve --workers).")
    ap.add_argument("--baseline", metavar="DIR", type=Path,
                    help="Another checkout whose API is measured beside this one's (the 'base' side).")
    args = ap.parse_args()
    logs.configure("warning")
    root = Path(tempfile.mkdtemp(prefix="bench-api-"))
    root.chmod(0o755)
    pg = None if args.reuse else EmbeddedPostgres(root / "pg")
    procs: list[subprocess.Popen] = []
    try:
        url = args.reuse or await build(pg.start(), root, args.policies)
        key = None
        if not args.anonymous:
            conn = await asyncpg.connect(url)
            key = (await keys.create(conn, "bench", ["read"], audit_as=None)).key
            await conn.close()
        env = {**os.environ, "DATABASE_URL": role_url(url, "bithedge_api"),
               "BITHEDGE_API_RATE_PER_S": "1000000", "BITHEDGE_LOG_LEVEL": "warning",
               # analytics.pools takes seconds at 100k policies: let it finish once, the cache serves the rest
               "BITHEDGE_API_STATEMENT_TIMEOUT_MS": "60000"}
        if args.anonymous:
            env["BITHEDGE_API_ANONYMOUS_RATE_PER_S"] = "1000000"
        servers = []
        for name, checkout in [("api", REPO), *([("base", args.baseline.resolve())] if args.baseline else [])]:
            port = 4100 + random.Random().randrange(1000, 20000)
            # the checkout's packages come first on the path (python -m puts the working directory there)
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "bithedge", "api", "serve",
                 *(["--workers", str(args.workers)] if args.workers > 1 else [])],
                env={**env, "BITHEDGE_API_PORT": str(port)}, cwd=checkout))
            servers.append((name, f"http://127.0.0.1:{port}", procs[-1].pid))
        async with aiohttp.ClientSession() as s:
            for (name, base, _), proc in zip(servers, procs, strict=True):
                for _ in range(600):
                    try:
                        async with s.get(base + "/health") as r:
                            if r.status == 200:
                                break
                    except aiohttp.ClientError:
                        if proc.poll() is not None:
                            raise SystemExit(f"the {name} API exited with {proc.returncode}") from None
                        await asyncio.sleep(0.1)
        print(f"load before: {os.getloadavg()}", flush=True)
        report("as shipped", await run_pair(url, args, servers, key))
        if args.what_if_indexes:
            conn = await asyncpg.connect(url)
            for sql in WHAT_IF_INDEXES:
                await conn.execute(sql)
            await conn.execute("ANALYZE")
            await conn.close()
            print("with the what-if indexes:")
            report("what-if indexes", await run_pair(url, args, servers, key))
        print(f"load after: {os.getloadavg()}", flush=True)
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGINT)
            proc.wait(60)
        if args.keep and pg is not None:
            print(f"kept: {url} (stop with: pg_ctl -D {root / 'pg'} stop; then remove {root})")
        else:
            if pg is not None:
                pg.stop()
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
