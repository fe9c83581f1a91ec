"""Page sections built once per block: a section asked for by several requests at once is built by one of them,
and while the app is open a new block's pages are built ahead, before anyone asks."""

from __future__ import annotations

import asyncio
import threading
import time

from dashboards import state, ui


def _ask_together(now: dict, build, key: tuple, n: int = 4) -> list:
    out: list = []
    threads = [threading.Thread(target=lambda: out.append(ui.guarded(now, build, key))) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return out


def test_a_section_asked_for_at_once_is_built_once_and_a_failure_is_not_kept(app):
    now = state.read_state()
    assert now["status"] == "ok"
    calls = []

    def build():
        calls.append(threading.current_thread().name)
        time.sleep(0.3)  # long enough for every other request to arrive while it runs
        return "built"

    assert _ask_together(now, build, ("test-once", time.monotonic())) == ["built"] * 4
    assert len(calls) == 1

    failed = []

    def broken():
        failed.append(1)
        time.sleep(0.1)
        raise RuntimeError("a bug in a section")

    key = ("test-broken", time.monotonic())
    out = _ask_together(now, broken, key)
    # every request shows the notice; nothing is kept, so each waiting request tried on its own
    assert len(out) == 4 and all("failed to render" in str(o.children) for o in out)
    assert len(failed) == 4
    assert not [k for k in ui._built if k[2:] == key]


def test_sections_are_kept_per_build_of_the_marts_the_newest_only(app):
    now = state.read_state()
    assert now["build"] is not None
    key = ("test-newest", time.monotonic())
    assert ui.guarded(now, lambda: "new", key) == "new"
    older = {**now, "height": now["height"] - 1, "build": now["build"] - 60}
    assert ui.guarded(older, lambda: "old", key) == "old"  # answered, not kept
    assert ui.guarded(now, lambda: "built again", key) == "new"
    # the same height built again (a reorg replaced its block): its sections are read again
    rebuilt = {**now, "build": now["build"] + 1}
    assert state.changed(now, rebuilt)
    assert ui.guarded(rebuilt, lambda: "after the reorg", key) == "after the reorg"


async def test_the_block_poll_builds_every_page_ahead(page, app, monkeypatch):
    from dashboards import risk_data

    p = await page.open("/policies")
    await p.wait_for_selector("#policies-table")
    now = state.read_state()
    ui._built.clear()
    ui._ahead_for.clear()
    ahead = {("overview-body",), ("pools-body",), ("oracle-body",), ("governance-body",), ("operations-body",),
             ("risk-body",)}

    def cached() -> set:
        return {k[2:] for k in ui._built if k[1] == state.version(now)}

    for _ in range(100):  # the poll runs every 2 s; the builds take a few hundred ms here
        if ahead <= cached():
            break
        await asyncio.sleep(0.1)
    assert ahead <= cached(), cached()
    assert any(k[0] == "risk-stress" for k in cached())  # and Risk's stress section at the default shocks
    # the page then opens from what was built: its sections are not read again
    loads = []
    load = risk_data.load
    monkeypatch.setattr(risk_data, "load", lambda db: loads.append(1) or load(db))
    r = await page.open("/risk")
    await r.wait_for_selector("#pool-risk-table")
    assert loads == []


def test_an_integer_column_with_a_null_shows_integers():
    import pandas as pd

    df = pd.DataFrame({"intent_id": [34, None], "fee": [0.5, 1.0]})  # pandas makes the first column floats
    html = ui.table(df).html
    assert ">34</td>" in html and ">34.0</td>" not in html and ">–</td>" in html
    assert ">0.5</td>" in html and ">1.0</td>" in html  # a float column keeps its floats


def test_dollars_put_the_sign_before_the_symbol_and_never_show_minus_zero():
    assert ui.usd(-123_456_789) == "-$1.23" and ui.usd(12_345_678_900) == "$123.46"
    assert ui.usd(-100_000) == "$0.00" and ui.usd(None) == "–"


def test_a_share_of_the_row_total_reads_as_a_percentage():
    from decimal import Decimal

    share = ui.share_of("total_power", "power")
    assert share(Decimal(250), {"total_power": Decimal(1000)}) == "25.00 % of power"
    # no total in the row: the value itself, grouped
    assert share(Decimal(12_103_075_743_364), {"total_power": Decimal(0)}) == "12,103,075,743,364"
    assert share(None, {"total_power": Decimal(1000)}) == "–"
