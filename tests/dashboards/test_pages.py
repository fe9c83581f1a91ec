"""Every page on the devnet-populated database: renders with no console error, says how current it is, and its
numbers equal SQL run here independently."""

from __future__ import annotations

import pytest

from dashboards.ui import integer, pct
from tests.dashboards.conftest import sql
from tests.dashboards.support import kpi_value, table_rows

PAGES = {"/": "overview", "/policies": "policies-table", "/pools": "pools-table", "/oracle": "oracle-history",
         "/risk": "stress-table", "/governance": "proposals-table", "/operations": "reconcile-table"}


async def test_every_page_renders_with_its_stamp_and_no_console_error(page, built):
    from dashboards.app import PLOTLY_TRACES

    ((height, burn),) = sql(built["db"], "SELECT marts_stacks_height, marts_burn_height FROM analytics.freshness")
    nav = None
    for path, ready in PAGES.items():
        p = await page.open(path)
        stamp = await p.inner_text("#asof")
        assert stamp.startswith(f"as of block {height:,} · burn height {burn:,} · "), stamp
        assert stamp.endswith(" s ago"), stamp
        if ready != "overview":
            await p.wait_for_selector(f"#{ready}, .notice-empty", timeout=60_000)
        else:
            await p.wait_for_selector("#kpi-tvl", timeout=60_000)
        await p.wait_for_timeout(300)  # let plotly finish drawing before the screenshot
        await page.screenshot(path.strip("/") or "overview")
        # the browser's plotly.js has these traces only: another type would draw nothing
        types = await p.evaluate("[...document.querySelectorAll('.js-plotly-plot')]"
                                 ".flatMap(g => (g.data || []).map(t => t.type || 'scatter'))")
        assert set(types) <= PLOTLY_TRACES, (path, types)
        assert "Traceback" not in await p.content()
        links = await p.eval_on_selector_all("header nav a", "as => as.map(a => a.textContent)")
        nav = nav or links
        assert links == nav and "Policies" in links and "Operations" in links  # the registry's pages, in order


async def test_overview_numbers_equal_sql(page, built):
    db = built["db"]
    p = await page.open("/")
    await p.wait_for_selector("#kpi-tvl")
    # the daily charts tick whole days, never a time of day between them
    await p.wait_for_selector("#overview-policies .xaxislayer-above text", state="attached", timeout=30_000)
    for graph in ("overview-daily", "overview-policies"):
        ticks = await p.eval_on_selector_all(f"#{graph} .xaxislayer-above text", "ts => ts.map(t => t.textContent)")
        assert ticks and not [t for t in ticks if ":" in t], (graph, ticks)
    for token, assets, locked in sql(db, "SELECT token, sum(assets), sum(locked) FROM analytics.pools GROUP BY 1"):
        assert await kpi_value(p, f"kpi-assets-{token}") == str(assets)
        util = await kpi_value(p, f"kpi-util-{token}")
        assert float(util) == pytest.approx(float(locked / assets) if assets else 0.0, rel=1e-12)
    ((notional, active),) = sql(db, "SELECT coalesce(sum(amount), 0), count(*) FROM analytics.policies "
                                    "WHERE status_onchain = 'active'")
    assert await kpi_value(p, "kpi-notional") == str(notional)
    assert f"{active:,} policies" in await p.inner_text("#kpi-notional")
    ((tvl,),) = sql(db, "SELECT tvl_usd_e8 FROM analytics.platform_daily ORDER BY day DESC LIMIT 1")
    assert await kpi_value(p, "kpi-tvl") == str(tvl)
    ((premium, payouts),) = sql(db, "SELECT sum(premium_written_usd_e8), sum(payouts_usd_e8) FROM analytics.platform_daily")
    assert await kpi_value(p, "kpi-premium") == str(premium)
    assert await kpi_value(p, "kpi-payouts") == str(payouts)
    for token, balance in sql(db, "SELECT token, balance FROM analytics.treasury"):
        assert await kpi_value(p, f"kpi-treasury-{token}") == str(balance)
    statuses = {r["status"]: r["policies"] for r in await table_rows(p, "status-table")}
    assert statuses == {s: str(n) for s, n in sql(db, "SELECT status, count(*) FROM analytics.policies GROUP BY 1")}


async def test_pools_providers_oracle_and_governance_equal_sql(page, built):
    db = built["db"]
    p = await page.open("/pools")
    await p.wait_for_selector("#pools-table")
    shown = {(r["token"], r["tier"]): (r["assets"], r["locked"], r["free"]) for r in await table_rows(p, "pools-table")}
    assert shown == {(t, tier): (str(a), str(lk), str(f)) for t, tier, a, lk, f in
                     sql(db, "SELECT token, tier, assets, locked, free FROM analytics.pools")}
    # the history chart is drawn by its own callback, after the table: wait for it rather than race it
    await p.wait_for_selector("#pools-history .main-svg", state="attached", timeout=30_000)
    # one legend entry and one colour per pool, all its lines in that group
    drawn = await p.evaluate("""() => document.querySelector('#pools-history .js-plotly-plot')._fullData
        .map(t => [t.legendgroup, t.showlegend, t.line.color])""")
    pools = {f"{t} {tier}" for t, tier in shown}
    assert {g for g, _, _ in drawn} == pools and sorted(g for g, legend, _ in drawn if legend) == sorted(pools)
    assert all(len({c for g2, _, c in drawn if g2 == g}) == 1 for g in pools)
    assert len({c for _, _, c in drawn}) == len(pools)
    top = (await table_rows(p, "providers-table"))[0]
    ((value,),) = sql(db, "SELECT max(value) FROM analytics.providers")
    assert top["value"] == str(value)

    p = await page.open("/oracle")
    await p.wait_for_selector("#kpi-price-BTC")
    for asset, price, age in sql(db, "SELECT asset, latest_price, age_blocks FROM analytics.oracle_stats"):
        assert await kpi_value(p, f"kpi-price-{asset}") == str(price)
        assert await kpi_value(p, f"kpi-age-{asset}") == str(age)
    assert "No keeper data yet" in await p.inner_text("#oracle-body") or await p.locator("#oracle-sources").count()
    # the drawn history: per asset the last price of each burn height (few submissions: no buckets)
    await p.wait_for_selector("#oracle-history .main-svg")
    drawn = await p.evaluate("""() => Object.fromEntries(document.querySelector('#oracle-history .js-plotly-plot')
        ._fullData.filter(t => t.name === 'BTC' || t.name === 'STX')
        .map(t => [t.name, [Array.from(t.x), Array.from(t.y)]]))""")  # the decoded arrays plotly drew
    want = {}
    for asset, height, price in sql(db, "SELECT DISTINCT ON (asset, burn_height) asset, burn_height, price "
                                        "FROM analytics.oracle_prices "
                                        "ORDER BY asset, burn_height, stacks_block_height DESC, event_index DESC"):
        want.setdefault(asset, [[], []])
        want[asset][0].append(height)
        want[asset][1].append(float(price) / 1e8)
    assert drawn.keys() == want.keys() and all(len(want[a][0]) > 1 for a in want)
    for asset, (xs, ys) in want.items():
        assert drawn[asset][0] == xs and drawn[asset][1] == pytest.approx(ys, rel=1e-12)

    p = await page.open("/governance")
    await p.wait_for_selector("#proposals-table, #governance-body .notice-empty")
    shown = [(r["proposal_id"], r["state"], r["yes_power"]) for r in await table_rows(p, "proposals-table")]
    want = sql(db, "SELECT proposal_id, state, yes_power, total_power FROM analytics.proposals "
                   "ORDER BY proposal_id DESC LIMIT 100")
    assert shown == [(str(i), s, str(y)) for i, s, y, _ in want]
    # votes read as a share of the snapshot's power, not as 13-digit pool shares
    texts = await p.eval_on_selector_all("#proposals-table td[data-col=yes_power]", "ts => ts.map(t => t.textContent)")
    assert texts == [f"{pct(y / t)} of power" if t else integer(y) for _, _, y, t in want]
    # the timeline's burn heights tick whole numbers, never 1.5
    await p.wait_for_selector("#governance-timeline .xaxislayer-above text", state="attached", timeout=30_000)
    ticks = await p.eval_on_selector_all("#governance-timeline .xaxislayer-above text", "ts => ts.map(t => t.textContent)")
    assert ticks and all(t.replace(",", "").lstrip("−-").isdigit() for t in ticks), ticks


async def test_policy_page_shows_its_lifecycle_prices_and_transactions(page, built):
    db = built["db"]
    ((pid, status, strike, spot, settle_price, created_txid),) = sql(
        db, "SELECT policy_id, status, strike, spot_at_creation, settlement_price, created_txid FROM analytics.policies "
            "WHERE settled_burn_height IS NOT NULL ORDER BY policy_id LIMIT 1")
    p = await page.open(f"/policies/{pid}")
    await p.wait_for_selector("#policy-lifecycle")
    assert await p.inner_text("#page-title") == f"Policy {pid}"
    assert await kpi_value(p, "pol-status") == status
    assert await kpi_value(p, "pol-strike") == str(strike)
    assert await kpi_value(p, "pol-spot-created") == str(spot)
    assert await kpi_value(p, "pol-spot-settled") == str(settle_price)
    steps = await p.eval_on_selector_all("#policy-lifecycle li", "ls => ls.map(l => l.dataset.step)")
    assert steps[:2] == ["created", "expiry"] and len(steps) == 3
    txids = [r["txid"] for r in await table_rows(p, "policy-transactions")]
    assert created_txid in txids
    await page.screenshot("policy")


async def test_pages_arrive_rendered_without_a_callback_per_section(page, app):
    """A page's sections come with its layout (the router's one request builds them in the server): opening a page
    makes no callback request for a section. Counted in the app itself (Flask's request_started, every
    ``/_dash-update-component`` by its output), so no browser-side listener can miss one; a client-side navigation
    shows the count sees Dash's requests (the router's). Allowed: the router, the title, the block poll and the
    operations page's quarantine count (its own request on purpose: the page does not wait for that slow view)."""
    from flask import request, request_started

    outputs: list[str] = []

    def seen(_sender, **_):
        if request.path == "/_dash-update-component":
            outputs.append(request.get_json()["output"])  # parsed once, Dash reads the same cached JSON

    def sections():
        return [o for o in outputs if not any(k in o for k in ("_pages_content", "page-title", "asof",
                                                               "quarantine-card"))]

    request_started.connect(seen, app.app.server)
    try:
        for path, ready in {**PAGES, "/": "kpi-tvl", "/policies/1": "policy-lifecycle"}.items():
            outputs.clear()
            p = await page.open(path)
            await p.wait_for_selector(f"#{ready}, .notice-empty", timeout=60_000)
            await p.wait_for_load_state("networkidle")
            assert sections() == [], (path, outputs)
        outputs.clear()
        await p.click("header nav a[href='/governance']")
        await p.wait_for_selector("#proposals-table, #governance-body .notice-empty", timeout=60_000)
        await p.wait_for_load_state("networkidle")
        assert any("_pages_content" in o for o in outputs), outputs  # the count does see Dash's requests
        assert sections() == [], outputs
    finally:
        request_started.disconnect(seen, app.app.server)


async def test_pages_load_regenerator_runtime_not_the_polyfill_and_plotly_only_for_a_graph(page, app):
    from dashboards.app import PLOTLY_PATH, PLOTLY_TRACES

    fetched = []
    page.page.on("request", lambda r: fetched.append(r.url))
    p = await page.open("/policies")
    await p.wait_for_selector("#policies-table")
    await p.wait_for_load_state("networkidle")
    assert not [u for u in fetched if PLOTLY_PATH in u] and await p.evaluate("typeof window.Plotly") == "undefined"
    # Dash's bundles run on the runtime alone (the page rendered, no console error: the fixture checks)
    assert not [u for u in fetched if "polyfill" in u]
    assert [u for u in fetched if "/regenerator-runtime." in u]
    assert await p.evaluate("typeof regeneratorRuntime.mark") == "function"
    # moving to a chart page inside the app, Dash's lazy load fetches plotly.js when the graph mounts
    await p.click("header nav a[href='/oracle']")
    await p.wait_for_selector("#oracle-history .main-svg", timeout=60_000)
    assert len([u for u in fetched if PLOTLY_PATH in u]) == 1
    # and it is the dashboards' own build: the traces the pages may draw, no others
    assert await p.evaluate("Object.keys(Plotly.PlotSchema.get().traces).sort()") == sorted(PLOTLY_TRACES)


async def test_a_chart_page_fetches_plotly_beside_dashs_bundles_once(page, app):
    from dashboards.app import GRAPH_CHUNK_PATH, PLOTLY_PATH

    p = await page.open("/oracle")
    await p.wait_for_selector("#oracle-history .main-svg", timeout=60_000)
    got = await p.evaluate("performance.getEntriesByType('resource')"
                           ".map(r => [new URL(r.name).pathname, r.startTime, r.responseEnd])")
    layout_end = min(end for path, _, end in got if path == "/_dash-layout")
    for script in (GRAPH_CHUNK_PATH, PLOTLY_PATH):
        starts = [start for path, start, _ in got if path == script]
        # one request each: the graph took the preloaded response instead of asking again
        assert len(starts) == 1 and starts[0] < layout_end, (script, got)


async def test_scripts_come_compressed_cached_and_the_graphs_get_the_dashboards_plotly_build(app):
    import gzip
    import re
    import urllib.request
    from importlib.resources import files

    from dashboards.app import PLOTLY_BUNDLE, PLOTLY_PATH

    def get(path: str, **headers):
        try:
            with urllib.request.urlopen(urllib.request.Request(app.url + path, headers=headers)) as r:
                return r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, b""

    _, _, index = get("/")
    (dcc,) = set(re.findall(r'/_dash-component-suites/dash/dcc/dash_core_components\.v[^"]+\.js', index.decode()))
    status, headers, body = get(dcc, **{"Accept-Encoding": "gzip, deflate"})
    assert status == 200 and headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(body) == (files("dash") / "dcc" / "dash_core_components.js").read_bytes()
    assert "max-age=31536000" in headers["Cache-Control"]  # fingerprinted: kept by the browser, never asked again

    # chart pages preload the graph's scripts; the others do not
    preload = f'<link rel="preload" as="script" href="{PLOTLY_PATH}">'
    assert preload in get("/oracle")[2].decode() and preload in index.decode()  # "/" is the Overview's charts
    assert preload not in get("/policies")[2].decode() and preload not in get("/operations")[2].decode()

    status, headers, body = get(PLOTLY_PATH, **{"Accept-Encoding": "gzip"})
    bundle = PLOTLY_BUNDLE.read_bytes()
    assert status == 200 and gzip.decompress(body) == bundle and b"(bithedge: scatter, bar, heatmap)" in bundle[:200]
    assert len(body) < len(bundle) / 2
    # not fingerprinted: revalidated, and unchanged it costs a 304 and no body
    assert "no-cache" in headers["Cache-Control"]
    status, _, body = get(PLOTLY_PATH, **{"Accept-Encoding": "gzip", "If-None-Match": headers["ETag"]})
    assert status == 304 and body == b""
