"""The stress controls give the payout the contract formula gives (bithedge.protocol), and the risk report
downloads as a self-contained HTML file with its figures and tables, and as a PDF."""

from __future__ import annotations

from collections import defaultdict
from decimal import ROUND_FLOOR, Decimal

import pytest

from bithedge.protocol.formulas import payout_terms
from dashboards.ui import pct, token_amount
from tests.dashboards.conftest import sql
from tests.dashboards.support import table_rows


def expected_stress(db: str, btc_shock: Decimal, stx_shock: Decimal) -> dict[tuple[str, str], int]:
    """Σ payout per pool if every open policy settled at the shocked latest prices (the registry's formula)."""
    latest = dict(sql(db, "SELECT asset, latest_price FROM analytics.oracle_stats"))

    def shocked(asset, shock):
        return int((Decimal(latest[asset]) * (1 + shock)).to_integral_value(rounding=ROUND_FLOOR))

    btc, stx = shocked("BTC", btc_shock), shocked("STX", stx_shock)
    out: dict[tuple[str, str], int] = defaultdict(int)
    for token, tier, *_ in sql(db, "SELECT token, tier FROM analytics.pools"):
        out[(token, tier)] += 0
    for token, tier, strike, amount, collateral in sql(
            db, "SELECT token, pool_tier, strike, amount, collateral FROM analytics.policies "
                "WHERE status_onchain = 'active'"):
        price = stx if token == "STX" else btc
        out[(token, tier)] += payout_terms(token, int(strike), int(amount), btc, price, int(collateral)).payout
    return dict(out)


async def stress_rows(p, title: str) -> dict[tuple[str, str], int]:
    await p.wait_for_selector(f"#risk-stress h3:has-text('{title}')", timeout=30_000)
    return {(r["token"], r["tier"]): int(r["payout"]) for r in await table_rows(p, "stress-table")}


async def test_stress_controls_give_the_formula_payout(page, built, tmp_path):
    db = built["db"]
    p = await page.open("/risk")
    shown = await stress_rows(p, "Stress: BTC -30.00 %, STX -30.00 %")
    assert shown == expected_stress(db, Decimal("-0.3"), Decimal("-0.3"))

    await p.fill("#risk-btc", "-45")
    await p.press("#risk-btc", "Enter")
    await p.fill("#risk-stx", "-12")
    await p.press("#risk-stx", "Enter")
    shown = await stress_rows(p, "Stress: BTC -45.00 %, STX -12.00 %")
    want = expected_stress(db, Decimal("-0.45"), Decimal("-0.12"))
    assert shown == want
    assert any(want.values()) or not sql(db, "SELECT 1 FROM analytics.policies WHERE status_onchain = 'active'")
    await p.wait_for_selector("#stress-chart .main-svg", state="attached", timeout=30_000)
    # the graph is patched in place with the new shocks' bars: payout / assets per pool
    rows = await table_rows(p, "stress-table")
    bars = {f"{r['token']} {r['tier']}": int(r["payout"]) / int(r["assets"]) if int(r["assets"]) else 0.0
            for r in rows}
    drawn = await p.wait_for_function(
        "want => { const g = document.querySelector('#stress-chart .js-plotly-plot');"
        " if (!g || !g.data) return null; const d = g.data[0];"
        " return d.x.length === Object.keys(want).length && d.x.every((x, i) => Math.abs(d.y[i] - want[x]) < 1e-12)"
        " ? Object.fromEntries(d.x.map((x, i) => [x, d.y[i]])) : null }", arg=bars, timeout=30_000)
    assert await drawn.json_value() == pytest.approx(bars)
    # the axis reads the shares drawn: no two ticks say the same (".0%" said 0 % on every one)
    ticks = await p.eval_on_selector_all("#stress-chart .ytick text", "ts => ts.map(t => t.textContent)")
    assert len(ticks) > 1 and len(set(ticks)) == len(ticks), ticks
    assert await p.locator("#pool-risk-table").count() == 1
    # each measure reads in its unit; the cell keeps the exact value
    cells = await p.eval_on_selector_all(
        "#pool-risk-table tbody tr", "rows => rows.map(r => [...r.querySelectorAll('td')]"
        ".map(td => [td.dataset.col, td.dataset.value, td.textContent]))")
    by_measure = {row[0][1]: {col: (value, text) for col, value, text in row[1:]} for row in cells}
    ((pool_token, pool_tier, assets, vol),) = sql(
        db, "SELECT token, tier, assets, btc_vol FROM analytics.pool_risk ORDER BY token, tier LIMIT 1")
    value, text = by_measure["assets"][f"{pool_token} {pool_tier}"]
    assert value == str(assets) and text == token_amount(assets, pool_token)
    assert by_measure["btc_vol"][f"{pool_token} {pool_tier}"][1] == ("–" if vol is None else pct(vol))
    assert all(t.endswith("×") or t.startswith("–") for t in
               (text for _, text in by_measure["adequacy_btc_m30"].values()))
    assert all(t.startswith(("$", "–")) for _, t in by_measure["var_99_usd_e8"].values())
    await page.screenshot("risk-stressed")

    # the report for the same shocks: downloaded through the link, self-contained, with figures and tables
    async with p.expect_download() as dl:
        await p.click("#risk-report")
    download = await dl.value
    assert download.suggested_filename == "bithedge-risk-report.html"
    path = tmp_path / download.suggested_filename
    await download.save_as(path)
    text = path.read_text(encoding="utf-8")
    ((height,),) = sql(db, "SELECT marts_stacks_height FROM analytics.freshness")
    assert f"as of block {height:,}" in text
    assert 'id="stress-chart"' in text and "Plotly.newPlot" in text
    assert "analytics.stress_payout(-0.45, -0.12)" in text
    for (token, tier), payout in want.items():
        assert f"<td>{payout}</td>" in text, (token, tier, payout)

    # opened from disk, the file draws its figures without a single request beyond itself
    viewer = await p.context.new_page()
    outside = []
    viewer.on("request", lambda r: outside.append(r.url) if not r.url.startswith(("file:", "data:", "blob:")) else None)
    await viewer.goto(path.as_uri())
    await viewer.wait_for_selector("#stress-chart .main-svg", timeout=30_000)
    assert not outside, outside
    await viewer.close()

    resp = await p.request.get(page.base + "/report/risk.pdf?btc=-45&stx=-12", timeout=120_000)
    assert resp.status == 200 and (await resp.body()).startswith(b"%PDF"), await resp.text()
