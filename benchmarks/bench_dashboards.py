"""Dashboards in the browser on the scale-data chain: first render of every page and p95 of the callbacks
(filtering and paging the policies table, the stress control), each beside the time of the SQL it runs.

    .venv/bin/python benchmarks/bench_dashboards.py [--policies 10000] [--runs 15]

The chain of ``synth_policies.py`` (cached under ``.bithedge/bench/``) is replayed through the real indexer
into a fresh database (embedded Postgres in a temporary directory), dbt deploys every model, and the app is
served from this process as ``bithedge_reader``; Debian's chromium (Playwright) opens each page in a fresh
context. "first render" is navigation start to the page's main table or chart being in the DOM, cold (a fresh
context: every script fetched and compiled) and warm (the same page opened again in that context: the scripts
come from the HTTP cache, as for a returning analyst), timed in the page: navigation start to the first animation
frame in which that element is there and visible (``_READY``). What the Playwright driver sees, its own round trips
through the Node driver and CDP on top, is printed beside it (``driver``); a callback is
the action to the DOM showing its result. The SQL floor is the page's (or the callback's) queries run alone,
warm, through the same Database object. Targets (issue 15): first render <= 1 s, callback p95 <= 200 ms.

``--database-url URL`` skips the replay and build and measures a database already built (e.g. the transforms
engineers' 1M chain: its admin URL; the app reads it as ``bithedge_reader``). ``--keep DIR`` keeps the embedded
server's data in DIR (outside the checkout) and reuses the built database on the next run.

Beside the browser's time, every callback's server time (the POST to ``/_dash-update-component``, by output) is
recorded, so the gap between the two is Dash's and the browser's share.

``--profile`` prints instead, per page, where one cold and one warm first render go: bytes over the wire and
decoded (Resource Timing, the page's own requests), the scripts fetched, Dash callback requests, and Chromium's
own counters (CDP ``Performance.getMetrics``: script, layout and style time, all main-thread tasks).

``--compare [before|DIR]`` serves the app twice and alternates first renders between the two: as it is, and
as it was before compression and the cartesian plotly.js (``before``, from this process: the requests offer no
compression, and plotly.js's path answers with Dash's full bundle, as Dash serves it) or as another checkout DIR
serves it (say ``git worktree add DIR HEAD`` before a change, with its ``dashboards/js/node_modules``; from a
child process, on the same database): the same load on both sides of each ratio.

Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import shutil
import statistics
import sys
import tempfile
import threading
import time
from decimal import Decimal
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
from indexer.ingest import Writer  # noqa: E402
from indexer.replay import replay_file  # noqa: E402
from transforms.runner import Dbt  # noqa: E402

FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage",
         "--no-first-run", "--disable-component-update", "--disable-sync"]
#: page -> (what shows it is rendered, the named queries it runs)
PAGES = {
    "/": ("#overview-daily .main-svg", ["overview_totals", "overview_tokens", "overview_balances",
                                         "pauses_in_force", "overview_daily", "policy_statuses"]),
    "/policies": ("#policies-table", ["policies_count", "policies_page"]),
    "/pools": ("#pools-history .main-svg", ["pools", "pool_history_bucketed", "providers", "provider_count"]),
    "/oracle": ("#oracle-history .main-svg", ["oracle_stats", "oracle_history"]),
    "/risk": ("#stress-table", ["stress", "pool_risk", "exposure_grid", "concentration", "expiries_soon"]),
    "/governance": ("#proposals-table, #governance-body .notice-empty", ["proposals", "governance_timeline"]),
    "/operations": ("#reconcile-table, #operations-body .notice", ["indexer_status", "transforms_status",
                                                                    "quarantined", "reconcile_runs"]),
}


#: in every page of a benchmark context: the first animation frame that has the path's ready element, visible,
#: as window.__ready (ms since navigation start); a frame runs after the task that drew it
_READY = """
(readyBy => {
  const ready = readyBy[location.pathname];
  if (!ready) return;
  (function poll() {
    const el = document.querySelector(ready);
    if (el && el.checkVisibility()) { window.__ready = performance.now(); return; }
    requestAnimationFrame(poll);
  })();
})""" + f"({json.dumps({path: ready for path, (ready, _names) in PAGES.items()})});"


def _context(browser):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    ctx.add_init_script(_READY)
    return ctx


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(q * (len(xs) - 1)))]


def sql_time(db, names, runs=3) -> str:
    """Median seconds of the named queries run back to back (warm), or which one hit the statement timeout."""
    from dashboards.db import QUERIES, Unavailable
    from dashboards.policy_query import PolicyFilter

    flt = PolicyFilter()
    extra = {"policies_count": flt.count_sql(), "policies_page": flt.page_sql(0),
             "stress": ("stress", {"btc_shock": Decimal("-0.3"), "stx_shock": Decimal("-0.3")})}
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        for n in names:
            q, params = extra.get(n, (n, {"policy_id": 1} if ":policy_id" in QUERIES.get(n, "") else {}))
            try:
                db.frame(q, **params)
            except Unavailable as u:
                return f"{n}: {u}"
        times.append(time.perf_counter() - t0)
    return f"{statistics.median(times):.3f}"


async def prepare(admin: str, policies: int, per_block: int, seed: int, work: Path) -> str:
    src, _ = cached(policies, per_block, seed)
    url = await fresh_db(admin, f"bench_dashboards_{policies}")
    w = await Writer.open(url)
    try:
        t0 = time.perf_counter()
        stats = await replay_file(w, src, progress=False)
    finally:
        await w.close()
    print(f"replayed {src.name}: {stats['events']:,} events in {time.perf_counter() - t0:.1f}s", flush=True)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ANALYZE")
    dbt = Dbt(role_url(url, "bithedge_transform"), work_dir=work / "dbt")
    t0 = time.perf_counter()
    out = dbt.run("build", "--quiet")
    if not out.success:
        raise RuntimeError(f"dbt build failed: {out.errors[:3]}")
    print(f"dbt build {time.perf_counter() - t0:.1f}s", flush=True)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ANALYZE")
        (n,) = conn.execute("SELECT count(*) FROM marts.policies").fetchone()
    print(f"{n:,} policies in the marts", flush=True)
    return url


class ServerTimes:
    """WSGI middleware: seconds spent serving each Dash callback request, by its output ids."""

    def __init__(self, wsgi) -> None:
        self.wsgi, self.times, self._lock = wsgi, {}, threading.Lock()

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") != "/_dash-update-component":
            return self.wsgi(environ, start_response)
        import io
        import json

        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        try:
            output = json.loads(body).get("output", "?")
        except ValueError:
            output = "?"
        t0 = time.perf_counter()
        out = list(self.wsgi(environ, start_response))
        with self._lock:
            self.times.setdefault(output[:60], []).append(time.perf_counter() - t0)
        return out

    def take(self) -> dict[str, list[float]]:
        with self._lock:
            out, self.times = self.times, {}
        return out


def _server_line(times: dict[str, list[float]]) -> str:
    return "; ".join(f"{k} n={len(v)} p50={statistics.median(v):.3f}" for k, v in sorted(times.items()))


def query_table(reader: str) -> None:
    """Every named query of dashboards/queries.sql alone, warm (median of 3): which view costs what."""
    from dashboards.db import QUERIES, Database

    db = Database(reader)
    print(f"{'query':<24} {'SQL s':>8}")
    for name in QUERIES:
        print(f"{name:<24} {sql_time(db, [name]):>8}", flush=True)
    db.engine.dispose()


#: Chromium's cumulative main-thread counters (seconds) a first render is split into
_METRICS = ("TaskDuration", "ScriptDuration", "LayoutDuration", "RecalcStyleDuration")
_RESOURCES = """() => performance.getEntriesByType('resource').map(e => ({
    name: e.name, type: e.initiatorType, wire: e.transferSize, body: e.encodedBodySize, decoded: e.decodedBodySize,
    dur: e.duration}))"""


def profile_render(ctx, page, url: str) -> dict:
    """One first render of ``url`` with where its time and bytes went."""
    cdp = ctx.new_cdp_session(page)
    cdp.send("Performance.enable")

    def metrics():
        return {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}

    before = metrics()
    total, _driver = _render(page, url)
    after = metrics()
    res = page.evaluate(_RESOURCES)
    nav = page.evaluate("performance.getEntriesByType('navigation')[0].transferSize")
    scripts = [r for r in res if r["name"].split("?")[0].endswith(".js")]
    cdp.detach()
    return {"total": total, **{k: after.get(k, 0) - before.get(k, 0) for k in _METRICS},
            "wire": nav + sum(r["wire"] for r in res), "decoded": sum(r["decoded"] for r in res),
            "scripts": len(scripts), "script_wire": sum(r["wire"] for r in scripts),
            "plotly": any("plotly" in r["name"] for r in scripts),
            "callbacks": sum(1 for r in res if "_dash-update-component" in r["name"])}


class Baseline:
    """WSGI in front of the app: no compression (the request offers none) and Dash's full plotly.js at its path,
    with an ETag and no cache header, as Dash serves it."""

    def __init__(self, wsgi) -> None:
        import hashlib
        from importlib.resources import files

        from dashboards.app import PLOTLY_PATH

        self.wsgi, self.path = wsgi, PLOTLY_PATH
        self.plotly = (files("plotly") / "package_data" / "plotly.min.js").read_bytes()
        self.etag = f'"{hashlib.sha256(self.plotly).hexdigest()[:32]}"'

    def __call__(self, environ, start_response):
        environ.pop("HTTP_ACCEPT_ENCODING", None)
        if environ.get("PATH_INFO") != self.path:
            return self.wsgi(environ, start_response)
        if environ.get("HTTP_IF_NONE_MATCH") == self.etag:
            start_response("304 Not Modified", [("ETag", self.etag)])
            return [b""]
        start_response("200 OK", [("Content-Type", "application/javascript"), ("ETag", self.etag),
                                  ("Content-Length", str(len(self.plotly)))])
        return [self.plotly]


#: serves another checkout's app (its path in BENCH_CHECKOUT) for --compare DIR; prints its port
_SERVE_CHECKOUT = """
import logging, os, sys
sys.path.insert(0, os.environ["BENCH_CHECKOUT"])
import dashboards
from werkzeug.serving import make_server
from dashboards.app import create_app
logging.getLogger("werkzeug").setLevel(logging.ERROR)
srv = make_server("127.0.0.1", 0, create_app(os.environ["BENCH_READER"]).server, threaded=True)
print(srv.port, dashboards.__file__, flush=True)
srv.serve_forever()
"""


def serve_checkout(checkout: Path, reader: str):
    """Another checkout's app in a child process (its own imports): the process and its base URL."""
    import os
    import subprocess

    env = {**os.environ, "BENCH_CHECKOUT": str(checkout), "BENCH_READER": reader}
    proc = subprocess.Popen([sys.executable, "-c", _SERVE_CHECKOUT], env=env, cwd=checkout, stdout=subprocess.PIPE,
                            text=True)
    port, module = proc.stdout.readline().split()
    if not Path(module).resolve().is_relative_to(checkout.resolve()):
        proc.kill()
        raise SystemExit(f"{checkout}'s app imported {module}, not its own dashboards")
    return proc, f"http://127.0.0.1:{port}"


def _serve(wsgi) -> tuple[object, str]:
    """``wsgi`` on a loopback port, in a thread of this process: the server and its base URL."""
    from werkzeug.serving import make_server

    srv = make_server("127.0.0.1", 0, wsgi, threaded=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, f"http://127.0.0.1:{srv.port}"


def compare(reader: str, renders: int, against: str) -> None:
    """``against``: "before" (this app behind ``Baseline``) or another checkout's directory (named "then")."""
    from dashboards.app import create_app

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    app = create_app(reader)
    child = None
    if against == "before":
        bases = {"before": _serve(Baseline(app.server))[1]}
    else:
        child, then = serve_checkout(Path(against), reader)
        bases, against = {"then": then}, "then"
    bases["now"] = _serve(app.server)[1]
    try:
        _alternate(bases, renders, against)
    finally:
        if child:
            child.kill()


def _alternate(bases: dict[str, str], renders: int, against: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=shutil.which("chromium"), headless=True, args=FLAGS)
        print(f"{'page':<12} {'served':<6} {'cold p50 s':>10} {'script s':>8} {'wire kB':>8} {'warm p50 s':>10} "
              f"{'script s':>8}   cold now/{against}  warm now/{against}")
        for path, (_ready, _names) in PAGES.items():
            got = {name: {"cold": [], "warm": []} for name in bases}
            for i in range(renders):
                for name in (list(bases) if i % 2 == 0 else list(bases)[::-1]):  # alternate who goes first
                    ctx = _context(browser)
                    page = ctx.new_page()
                    for kind in ("cold", "warm"):
                        got[name][kind].append(profile_render(ctx, page, bases[name] + path))
                    ctx.close()
            med = {name: {kind: {k: statistics.median(r[k] for r in runs) for k in ("total", "ScriptDuration", "wire")}
                          for kind, runs in kinds.items()} for name, kinds in got.items()}
            for name in bases:
                m = med[name]
                ratio = (f"   {m['cold']['total'] / med[against]['cold']['total']:>15.2f} "
                         f"{m['warm']['total'] / med[against]['warm']['total']:>15.2f}" if name == "now" else "")
                print(f"{path:<12} {name:<6} {m['cold']['total']:>10.2f} {m['cold']['ScriptDuration']:>8.2f} "
                      f"{m['cold']['wire'] / 1e3:>8.0f} {m['warm']['total']:>10.2f} {m['warm']['ScriptDuration']:>8.2f}"
                      f"{ratio}", flush=True)
        browser.close()


def profile(reader: str) -> None:
    from playwright.sync_api import sync_playwright

    from dashboards.app import create_app

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    srv, base = _serve(create_app(reader).server)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=shutil.which("chromium"), headless=True, args=FLAGS)
        print(f"{'page':<12} {'render':<5} {'total s':>7} {'tasks s':>7} {'script s':>8} {'layout s':>8} "
              f"{'style s':>7} {'wire kB':>8} {'decoded kB':>10} {'js n':>4} {'js wire kB':>10} plotly callbacks")
        for path, (_ready, _names) in PAGES.items():
            ctx = _context(browser)
            page = ctx.new_page()
            for kind in ("cold", "warm"):
                p = profile_render(ctx, page, base + path)
                print(f"{path:<12} {kind:<5} {p['total']:>7.2f} {p['TaskDuration']:>7.2f} {p['ScriptDuration']:>8.2f} "
                      f"{p['LayoutDuration']:>8.2f} {p['RecalcStyleDuration']:>7.2f} {p['wire'] / 1e3:>8.0f} "
                      f"{p['decoded'] / 1e3:>10.0f} {p['scripts']:>4} {p['script_wire'] / 1e3:>10.0f} "
                      f"{'yes' if p['plotly'] else 'no':<6} {p['callbacks']}", flush=True)
            ctx.close()
        browser.close()
    srv.shutdown()


def browse(reader: str, runs: int, renders: int) -> None:
    from playwright.sync_api import sync_playwright

    from dashboards import context
    from dashboards.app import create_app

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    app = create_app(reader)
    timing = ServerTimes(app.server.wsgi_app)
    app.server.wsgi_app = timing
    srv, base = _serve(app.server)
    db = context.db()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=shutil.which("chromium"), headless=True, args=FLAGS)
        print(f"{'page':<12} {'cold p50 s':>10} {'cold max s':>10} {'warm p50 s':>10} {'SQL s':>7}"
              f"   driver: {'cold p50 s':>10} {'warm p50 s':>10}")
        for path, (_ready, names) in PAGES.items():
            firsts, warms = [], []
            for _ in range(renders):
                ctx = _context(browser)
                page = ctx.new_page()
                firsts.append(_render(page, base + path))
                # the same page opened again in that context: a returning analyst, whose browser has Dash's and
                # plotly's scripts cached (fingerprinted URLs, long-lived cache headers)
                warms.append(_render(page, base + path))
                ctx.close()
            server = timing.take()
            print(f"{path:<12} {statistics.median(r[0] for r in firsts):>10.2f} {max(r[0] for r in firsts):>10.2f} "
                  f"{statistics.median(r[0] for r in warms):>10.2f} {sql_time(db, names):>7}"
                  f"           {statistics.median(r[1] for r in firsts):>10.2f} "
                  f"{statistics.median(r[1] for r in warms):>10.2f}", flush=True)
            print(f"    server: {_server_line(server)}", flush=True)

        ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = ctx.new_page()
        page.goto(base + "/policies")
        page.wait_for_selector("#policies-table")
        owners = [r[0] for r in db.rows("SELECT owner FROM analytics.policies GROUP BY owner ORDER BY count(*) DESC "
                                        f"LIMIT {runs}")]
        results = {}
        timing.take()

        def timed(action, done):
            t0 = time.perf_counter()
            action()
            try:
                page.wait_for_function(done, timeout=60_000)
            except Exception:
                print(f"    gave up waiting for {done!r}; #pol-range is {page.inner_text('#pol-range')!r}", flush=True)
                raise
            return time.perf_counter() - t0

        filt = []
        for owner in owners:
            filt.append(timed(lambda o=owner: (page.fill("#pol-owner", o), page.press("#pol-owner", "Enter")),
                              f"document.querySelector('#policies-table td[data-col=owner]')?.dataset.value === "
                              f"'{owner}'"))
        from dashboards.policy_query import PolicyFilter

        f = PolicyFilter(owner=owners[0])
        results["policies filter (owner)"] = (filt, _sql_pair(db, f))
        servers = {"policies filter (owner)": timing.take()}
        page.fill("#pol-owner", "")
        page.press("#pol-owner", "Enter")
        ((total,),) = db.rows("SELECT count(*) FROM analytics.policies")
        # the unfiltered first page (not the filtered one still showing): a click racing the clear would be taken
        # together with it, and a filter change goes back to the first page
        page.wait_for_function(f"document.querySelector('#pol-range')?.textContent === '1–50 of {total:,} policies'")
        timing.take()
        paging = []
        for i in range(1, runs + 1):
            paging.append(timed(lambda: page.click("#pol-next"),
                                f"document.querySelector('#pol-range')?.textContent.startsWith('{i * 50 + 1:,}–')"))
        results["policies next page"] = (paging, _sql_pair(db, PolicyFilter(), page=runs))
        servers["policies next page"] = timing.take()

        page.goto(base + "/risk")
        page.wait_for_selector("#stress-table")
        timing.take()
        stress = []
        for i in range(runs):
            v = -10 - i
            stress.append(timed(lambda v=v: (page.fill("#risk-btc", str(v)), page.press("#risk-btc", "Enter")),
                                f"document.querySelector('#risk-stress h3')?.textContent.includes('BTC {v}.00 %')"))
        results["stress control"] = (stress, float(sql_time(db, ["stress"])))
        servers["stress control"] = timing.take()
        print(f"{'callback':<26} {'n':>3} {'p50 s':>7} {'p95 s':>7} {'SQL s':>7}")
        for name, (xs, floor) in results.items():
            print(f"{name:<26} {len(xs):>3} {statistics.median(xs):>7.3f} {pct(xs, 0.95):>7.3f} {floor:>7.3f}")
            print(f"    server: {_server_line(servers[name])}")
        browser.close()
    srv.shutdown()


def _render(page, url: str) -> tuple[float, float]:
    """Seconds from navigation start to the page's ready element (``_READY``): in the page, and as the driver
    sees it (a round trip later)."""
    page.goto(url, wait_until="commit")
    page.wait_for_function("window.__ready !== undefined", timeout=120_000, polling=50)
    in_page, driver = page.evaluate("[window.__ready, performance.now()]")
    return in_page / 1000, driver / 1000


def _sql_pair(db, flt, page: int = 0, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        for sql, params in (flt.count_sql(), flt.page_sql(page)):
            db.frame(sql, **params)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--policies", type=int, default=10_000)
    ap.add_argument("--per-block", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--runs", type=int, default=15, help="repetitions of each callback")
    ap.add_argument("--renders", type=int, default=3, help="first renders of each page (fresh browser context each)")
    ap.add_argument("--database-url", help="admin URL of a database already built (no replay, no build)")
    ap.add_argument("--keep", type=Path, help="keep the embedded server's data here and reuse its built database")
    ap.add_argument("--queries", action="store_true", help="also time every named query alone (before the browser)")
    ap.add_argument("--profile", action="store_true", help="where one cold and one warm first render go, per page")
    ap.add_argument("--compare", nargs="?", const="before", metavar="before|DIR",
                    help="first renders served as now and, alternated, as before compression and the cartesian "
                         "plotly (before, the default) or by another checkout DIR (its dashboards/js node modules "
                         "installed), from a child process")
    args = ap.parse_args()
    measure = (profile if args.profile else (lambda reader: compare(reader, args.renders, args.compare))
               if args.compare
               else lambda reader: browse(reader, args.runs, args.renders))
    logs.configure("warning")
    if args.database_url:
        print(f"measuring the built database {args.database_url.rsplit('@', 1)[-1]}", flush=True)
        if args.queries:
            await asyncio.to_thread(query_table, role_url(args.database_url, "bithedge_reader"))
        await asyncio.to_thread(measure, role_url(args.database_url, "bithedge_reader"))
        return
    root = args.keep or Path(tempfile.mkdtemp(prefix="bench-dashboards-"))
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o755)
    pg = EmbeddedPostgres(root / "pg")
    admin = pg.start()
    try:
        url = _built(admin, args.policies) if args.keep else None
        url = url or await prepare(admin, args.policies, args.per_block, args.seed, root)
        if args.queries:
            await asyncio.to_thread(query_table, role_url(url, "bithedge_reader"))
        await asyncio.to_thread(measure, role_url(url, "bithedge_reader"))
    finally:
        pg.stop()
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


def _built(admin: str, policies: int) -> str | None:
    """The kept database of an earlier run when its marts are there."""
    url = admin.rsplit("/", 1)[0] + f"/bench_dashboards_{policies}"
    try:
        with psycopg.connect(url) as conn:
            (n,) = conn.execute("SELECT count(*) FROM marts.policies").fetchone()
    except psycopg.Error:
        return None
    print(f"reusing the kept database: {n:,} policies in the marts", flush=True)
    return url


if __name__ == "__main__":
    asyncio.run(main())
