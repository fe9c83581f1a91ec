"""Every page on the devnet-populated database: renders with no console error, says how current it is, and its
numbers equal SQL run here independently."""

from __future__ import annotations

import pytest

from tests.dashboards.conftest import sql
from tests.dashboards.support import kpi_value, table_rows

PAGES = {"/": "overview", "/policies": "policies-table", "/pools": "pools-table", "/oracle": "oracle-history",
         "/risk": "stress-table", "/governance": "proposals-table", "/operations": "reconcile-table"}


async def test_every_page_renders_with_its_stamp_and_no_console_error(page, built):
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
        assert "Traceback" not in await p.content()
        links = await p.eval_on_selector_all("header nav a", "as => as.map(a => a.textContent)")
        nav = nav or links
        assert links == nav and "Policies" in links and "Operations" in links  # the registry's pages, in order


async def test_overview_numbers_equal_sql(page, built):
    db = built["db"]
    p = await page.open("/")
    await p.wait_for_selector("#kpi-tvl")
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
    top = (await table_rows(p, "providers-table"))[0]
    ((value,),) = sql(db, "SELECT max(value) FROM analytics.providers")
    assert top["value"] == str(value)

    p = await page.open("/oracle")
    await p.wait_for_selector("#kpi-price-BTC")
    for asset, price, age in sql(db, "SELECT asset, latest_price, age_blocks FROM analytics.oracle_stats"):
        assert await kpi_value(p, f"kpi-price-{asset}") == str(price)
        assert await kpi_value(p, f"kpi-age-{asset}") == str(age)
    assert "No keeper data yet" in await p.inner_text("#oracle-body") or await p.locator("#oracle-sources").count()

    p = await page.open("/governance")
    await p.wait_for_selector("#proposals-table, #governance-body .notice-empty")
    shown = [(r["proposal_id"], r["state"], r["yes_power"]) for r in await table_rows(p, "proposals-table")]
    assert shown == [(str(i), s, str(y)) for i, s, y in sql(
        db, "SELECT proposal_id, state, yes_power FROM analytics.proposals ORDER BY proposal_id DESC LIMIT 100")]


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
