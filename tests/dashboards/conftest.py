"""One devnet chain (the transforms tests' fixture, reused), its analytics built, one app server and one
browser for the whole dashboards session."""

from __future__ import annotations

import re

import psycopg
import pytest

from bithedge.database import role_url
from tests.dashboards.support import CHROMIUM_FLAGS, SCREENSHOTS, AppServer, Relay, chromium, via
from tests.transforms.chain import build, transform_dbt
from tests.transforms.conftest import chain  # noqa: F401  (the same devnet session fixture)


@pytest.fixture(scope="session")
async def built(chain, tmp_path_factory):  # noqa: F811
    """The chain's analytics built (every model and test), and the dbt docs site generated."""
    await chain.settle()
    work = tmp_path_factory.mktemp("dashboards-dbt")
    dbt = transform_dbt(chain.db, work)
    await build(dbt, "deploy")
    await build(dbt, "docs")
    return {"db": chain.db, "dbt": dbt, "docs": work / "target", "chain": chain}


@pytest.fixture(scope="session")
def relay(pg_server):
    host, port = re.search(r"@([\d.]+):(\d+)/", pg_server).groups()
    r = Relay((host, int(port))).start()
    yield r
    r.stop()


@pytest.fixture(scope="session")
def reader_url(built, relay):
    """The chain's database as bithedge_reader, through the relay."""
    return via(role_url(built["db"], "bithedge_reader"), relay.port)


@pytest.fixture(scope="session")
def app_server(built, reader_url):
    srv = AppServer(reader_url, built["docs"])
    yield srv
    srv.stop()


@pytest.fixture
def app(app_server, reader_url):
    """The app on the populated chain (a test that points it elsewhere is undone here)."""
    app_server.use(reader_url)
    yield app_server
    app_server.use(reader_url)


@pytest.fixture(scope="session")
async def browser():
    if chromium() is None:
        pytest.skip("Debian's chromium is not installed (make chromium)")
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=chromium(), headless=True, args=CHROMIUM_FLAGS)
        yield b
        await b.close()


class Page:
    """A fresh browser page with its console errors collected (every test requires none)."""

    def __init__(self, page, base: str) -> None:
        self.page, self.base, self.errors = page, base, []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))

    async def open(self, path: str, ready: str = ".asof-ok"):
        await self.page.goto(self.base + path)
        await self.page.wait_for_selector(ready, timeout=60_000)
        return self.page

    async def screenshot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
async def page(browser, app):
    ctx = await browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    p = Page(await ctx.new_page(), app.url)
    yield p
    await ctx.close()
    assert not p.errors, p.errors


def sql(db: str, query: str, *args):
    with psycopg.connect(db) as conn:
        return conn.execute(query, args).fetchall()
