"""What the pages say when there is nothing to show: views not built, the database away (and back), another
deployment's chain; and a new block refreshes the page without a reload."""

from __future__ import annotations

import asyncio
import sys

from bithedge.database import role_url
from indexer.ingest import Writer
from indexer.replay import replay_file
from tests.conftest import REPO
from tests.dashboards.conftest import sql
from tests.dashboards.test_pages import PAGES
from transforms.runner import Dbt

sys.path.insert(0, str(REPO / "benchmarks"))
import synth_policies  # noqa: E402

#: DEVNET ONLY: wallet_1 of the Clarinet devnet mnemonic, which deploys no BitHedge contract
OTHER_DEPLOYER = "ST2CY5V39NHDPWSXMW9QDT3HC3GD6Q6XX4CFRK9AG"


async def test_database_away_then_back(page, built, relay):
    p = await page.open("/")
    await p.wait_for_selector("#kpi-tvl")
    relay.stop()
    try:
        await p.wait_for_selector(".asof-down", timeout=30_000)
        assert "not reachable" in await p.inner_text("#asof")
        await p.wait_for_selector("#overview-body .notice-down")
        assert "Traceback" not in await p.content()
        await page.screenshot("database-down")
    finally:
        relay.start()
    await p.wait_for_selector(".asof-ok", timeout=30_000)
    await p.wait_for_selector("#kpi-tvl", timeout=30_000)


async def test_views_not_built_say_so(page, app, db_url):
    app.use(role_url(db_url, "bithedge_reader"))
    for path in ("/", "/risk", "/operations"):
        p = await page.open(path, ready=".asof-missing")
        assert "not built yet" in await p.inner_text("#asof")
        # the stamp in the header and the page body arrive separately; under load the stamp comes first
        await p.locator("#_pages_content .notice-missing").first.wait_for(timeout=60_000)
        assert "not built yet" in await p.inner_text("#_pages_content")
    await page.screenshot("views-not-built")
    resp = await p.request.get(page.base + "/export/policies.csv")
    assert resp.status == 503 and "does not exist yet" in await resp.text()
    resp = await p.request.get(page.base + "/ready")
    assert resp.status == 503 and (await resp.json())["status"] == "missing"
    resp = await p.request.get(page.base + "/metrics")
    assert resp.status == 200 and "bithedge_dashboards_ready 0.0" in await resp.text()


async def test_another_deployment_says_so_instead_of_zeros(page, app, db_url, tmp_path):
    tsv = tmp_path / "synth.tsv"
    synth_policies.generate(tsv, policies=10, per_block=5, seed=5)
    writer = await Writer.open(db_url)
    try:
        await replay_file(writer, tsv, progress=False)
    finally:
        await writer.close()
    # built for a deployer that deployed nothing on this chain
    dbt = Dbt(role_url(db_url, "bithedge_transform"), work_dir=tmp_path / "dbt", deployer=OTHER_DEPLOYER)
    await asyncio.to_thread(dbt.deploy)
    app.use(role_url(db_url, "bithedge_reader"))
    await every_page_says(page, ".asof-no-events", "No BitHedge events", "wrong-deployment")


async def every_page_says(page, ready: str, message: str, shot: str) -> None:
    """Every page (and a policy's page) shows ``message`` in its body: no number, no chart, no traceback."""
    for path in (*PAGES, "/policies/1"):
        p = await page.open(path, ready=ready)
        body = p.locator("#_pages_content .notice")
        await body.first.wait_for(timeout=60_000)
        assert message in await p.inner_text("#_pages_content"), path
        # no zeros, no empty axes in sight (Risk keeps its stress graph in the page, hidden, for a shock to patch)
        assert await p.locator("#_pages_content :is(.kpi, .js-plotly-plot, table):visible").count() == 0, path
        assert "Traceback" not in await p.content()
        await page.screenshot(f"{shot}-{path.strip('/').replace('/', '-') or 'overview'}")


async def test_an_empty_index_every_page_says_so(page, app, db_url, tmp_path):
    """The views built by dbt over raw tables with nothing indexed (a new deployment before its first block)."""
    dbt = Dbt(role_url(db_url, "bithedge_transform"), work_dir=tmp_path / "dbt")
    await asyncio.to_thread(dbt.deploy)
    app.use(role_url(db_url, "bithedge_reader"))
    await every_page_says(page, ".asof-empty", "No blocks indexed yet", "empty-index")


async def test_a_new_block_refreshes_the_page_without_reload(page, built):
    chain = built["chain"]
    p = await page.open("/")
    await p.wait_for_selector("#kpi-tvl")
    await p.evaluate("window.__same_document = true")
    before = await p.inner_text("#asof")
    await chain.advance(2)
    await asyncio.to_thread(built["dbt"].refresh_marts)
    ((height,),) = sql(built["db"], "SELECT marts_stacks_height FROM analytics.freshness")
    await p.wait_for_selector(f"#asof:has-text('as of block {height:,} ·')", timeout=30_000)
    assert await p.evaluate("window.__same_document") is True
    assert await p.inner_text("#asof") != before


async def test_ready_and_metrics_follow_the_analytics(page, app, built):
    p = await page.open("/")
    resp = await p.request.get(page.base + "/ready")
    body = await resp.json()
    ((height,),) = sql(built["db"], "SELECT marts_stacks_height FROM analytics.freshness")
    assert resp.status == 200 and body["status"] == "ok" and body["height"] == height
    metrics = await (await p.request.get(page.base + "/metrics")).text()
    assert "bithedge_dashboards_ready 1.0" in metrics
    assert f"bithedge_dashboards_marts_stacks_height {float(height)}" in metrics
    assert 'bithedge_dashboards_responses_total{status="2xx"}' in metrics
    assert (await p.request.get(page.base + "/health")).status == 200


async def test_data_dictionary_is_served(page, built):
    resp = await page.page.request.get(page.base + "/docs/")
    assert resp.status == 200 and "dbt" in (await resp.text()).lower()
    manifest = await page.page.request.get(page.base + "/docs/manifest.json")
    assert manifest.status == 200 and "model.bithedge" in await manifest.text()
