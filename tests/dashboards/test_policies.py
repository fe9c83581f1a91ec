"""The policies table pages, sorts and filters in the database: the rows shown are the rows SQL returns here;
the CSV export is the filtered query."""

from __future__ import annotations

import csv
import io

from tests.dashboards.conftest import sql
from tests.dashboards.support import table_rows

ORDER_DESC = "ORDER BY policy_id DESC"


async def shown_ids(p) -> list[int]:
    return [int(r["policy_id"]) for r in await table_rows(p, "policies-table")]


async def wait_rows(p, want: list[int]) -> list[int]:
    """The table once it shows ``want`` (callbacks are asynchronous), else what it shows after the wait."""
    try:
        await p.wait_for_function(
            "ids => JSON.stringify([...document.querySelectorAll('#policies-table tbody tr td[data-col=policy_id]')]"
            ".map(td => Number(td.dataset.value))) === JSON.stringify(ids)", arg=want, timeout=30_000)
    except Exception:  # noqa: BLE001 - the assertion below shows the difference
        pass
    return await shown_ids(p)


async def test_paging_sorting_and_filtering_return_the_sql_rows(page, built):
    db = built["db"]
    ids = lambda q, *a: [r[0] for r in sql(db, q, *a)]  # noqa: E731
    p = await page.open("/policies")
    await p.wait_for_selector("#policies-table")
    assert await wait_rows(p, ids(f"SELECT policy_id FROM analytics.policies {ORDER_DESC} LIMIT 50")) == ids(
        f"SELECT policy_id FROM analytics.policies {ORDER_DESC} LIMIT 50")
    (total,) = sql(db, "SELECT count(*) FROM analytics.policies")[0]
    assert f"of {total:,} policies" in await p.inner_text("#pol-range")

    if total > 50:  # the second page
        await p.click("#pol-next")
        want = ids(f"SELECT policy_id FROM analytics.policies {ORDER_DESC} LIMIT 50 OFFSET 50")
        assert await wait_rows(p, want) == want
        assert (await p.inner_text("#pol-range")).startswith("51–")

    # sort by strike, ascending (ties by id): back to the first page
    await p.click("#pol-sort")
    await p.get_by_role("option", name="strike", exact=True).click()
    await p.get_by_label("ascending").check()
    want = ids("SELECT policy_id FROM analytics.policies ORDER BY strike ASC NULLS LAST, policy_id ASC LIMIT 50")
    assert await wait_rows(p, want) == want

    # filter: one owner's settled policies with a strike range, token and expiry bounds
    (owner,) = sql(db, "SELECT owner FROM analytics.policies GROUP BY owner ORDER BY count(*) DESC, owner LIMIT 1")[0]
    (lo, hi) = sql(db, "SELECT min(expiry), max(expiry) FROM analytics.policies WHERE owner = %s", owner)[0]
    await p.fill("#pol-owner", owner)
    await p.press("#pol-owner", "Enter")
    await p.fill("#pol-expiry-min", str(lo + 1))
    await p.press("#pol-expiry-min", "Enter")
    await p.fill("#pol-strike-min", "1")
    await p.press("#pol-strike-min", "Enter")
    want = ids("SELECT policy_id FROM analytics.policies WHERE owner = %s AND expiry >= %s AND strike >= 100000000 "
               "ORDER BY strike ASC NULLS LAST, policy_id ASC LIMIT 50", owner, lo + 1)
    assert await wait_rows(p, want) == want

    await p.get_by_label("settled-itm").check()
    want_itm = ids("SELECT policy_id FROM analytics.policies WHERE owner = %s AND expiry >= %s AND strike >= 100000000 "
                   "AND status = 'settled-itm' ORDER BY strike ASC NULLS LAST, policy_id ASC LIMIT 50", owner, lo + 1)
    got = await wait_rows(p, want_itm)
    assert got == want_itm
    if not want_itm:
        assert "No policy matches these filters." in await p.inner_text("#pol-table")
    await page.screenshot("policies-filtered")

    # the CSV link carries the same filter: the export is the filtered query, every column, same order
    href = await p.get_attribute("#pol-csv", "href")
    resp = await p.request.get(page.base + href)
    assert resp.status == 200 and resp.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(await resp.text())))
    with_cols = sql(db, "SELECT policy_id, owner, status, strike::text, payout::text FROM analytics.policies "
                        "WHERE owner = %s AND expiry >= %s AND strike >= 100000000 AND status = 'settled-itm' "
                        "ORDER BY strike ASC NULLS LAST, policy_id ASC", owner, lo + 1)
    header, body = rows[0], rows[1:]
    assert header[:3] == ["policy_id", "owner", "token"]
    col = {c: i for i, c in enumerate(header)}
    assert [(int(r[col["policy_id"]]), r[col["owner"]], r[col["status"]], r[col["strike"]], r[col["payout"]] or None)
            for r in body] == [tuple(x) for x in with_cols]
    assert "at most 100,000 rows" in await p.inner_text(".pager")


async def test_csv_of_everything_is_every_policy(page, built):
    resp = await page.page.request.get(page.base + "/export/policies.csv?sort=policy_id&dir=asc")
    rows = list(csv.reader(io.StringIO(await resp.text())))
    assert [int(r[0]) for r in rows[1:]] == [r[0] for r in sql(
        built["db"], "SELECT policy_id FROM analytics.policies ORDER BY policy_id")]


async def test_a_status_only_count_comes_from_the_counts_view_and_equals_the_policies(built):
    from bithedge.database import role_url
    from dashboards.db import Database
    from dashboards.policy_query import STATUSES, PolicyFilter

    db = Database(role_url(built["db"], "bithedge_reader"))
    try:
        for statuses in ([], ["active"], ["settled-itm", "expired"], list(STATUSES)):
            flt = PolicyFilter(statuses=statuses)
            query, params = flt.count_sql()
            assert "policy_status_counts" in query
            ((want,),) = sql(built["db"], "SELECT count(*) FROM analytics.policies WHERE status = ANY(%s) OR %s",
                             statuses, not statuses)
            assert db.rows(query, **params)[0][0] == want, statuses
        # any other filter counts the policies view itself
        assert "analytics.policies" in PolicyFilter(statuses=["active"], token="STX").count_sql()[0]
    finally:
        db.engine.dispose()


async def test_a_policy_id_opens_its_page_inside_the_app(page, built):
    p = await page.open("/policies")
    await p.wait_for_selector("#policies-table")
    first = (await table_rows(p, "policies-table"))[0]["policy_id"]
    await p.evaluate("window.__same_document = true")
    await p.click(f"#policies-table td[data-col=policy_id] a[href='/policies/{first}']")
    await p.wait_for_selector("#policy-lifecycle", timeout=30_000)
    assert p.url.endswith(f"/policies/{first}")
    assert await p.inner_text("#page-title") == f"Policy {first}"
    assert await p.evaluate("window.__same_document === true")  # moved by the app's router, not a page load
    await p.go_back()
    await p.wait_for_selector("#policies-table", timeout=30_000)
