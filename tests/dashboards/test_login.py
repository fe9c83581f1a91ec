"""The optional login: the API's keys and admins' notify sessions, checked through
``public.bithedge_credential`` (bithedge_reader never reads a digest), in the browser and in the database."""

from __future__ import annotations

import asyncio
import hashlib
import os
import signal
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import asyncpg
import psycopg
import pytest
from click.testing import CliRunner

from api import keys
from bithedge.database import role_url
from dashboards.auth import login_required, presented, verdict
from dashboards.db import Database
from notify import accounts
from tests.dashboards.conftest import sql
from tests.dashboards.support import SCREENSHOTS

REFUSED_401 = "the server responded with a status of 401"


@pytest.fixture
async def admin(built):
    conn = await asyncpg.connect(built["db"])
    yield conn
    await conn.close()


@pytest.fixture
async def login_page(browser, app):
    """A browser page on the app with the login switched on (and off again afterwards). The only console errors
    allowed are Chromium's lines for the 401 answers the test provokes."""
    app.app.login.enabled = True
    ctx = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await ctx.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        yield page
    finally:
        app.app.login.enabled = False
        await ctx.close()
    assert all(REFUSED_401 in e for e in errors), errors


async def log_in(page, key: str):
    await page.fill("#key", key)
    async with page.expect_navigation():
        await page.click("#login")


async def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


async def test_no_key_wrong_key_then_a_read_key_gets_in_and_revoking_it_locks_out(login_page, app, admin):
    page, base = login_page, app.url
    await page.goto(base + "/risk")
    assert page.url.startswith(base + "/login")  # no dashboards without a key
    assert await page.locator("#_pages_content").count() == 0
    resp = await page.request.post(base + "/_dash-update-component", data="{}",
                                   headers={"content-type": "application/json"})
    assert resp.status == 401  # Dash's own endpoints refuse too, not just the pages
    resp = await page.request.get(base + "/export/policies.csv", max_redirects=0)
    assert resp.status == 302 and "/login" in resp.headers["location"]
    await shot(page, "login")

    read = (await keys.create(admin, "dashboards-test", ["read"])).key
    wrong = read[:-4] + ("AAAA" if not read.endswith("AAAA") else "BBBB")  # right prefix, wrong secret
    for key, why in ((wrong, "Unknown key."), ("not-a-key", "Not an API key"),
                     ((await keys.create(admin, "quotes-only", ["quote"])).key, "neither the read nor the admin"),
                     ((await keys.create(admin, "old", ["read"], expires_at=datetime.now(UTC) - timedelta(days=1))).key,
                      "This key is expired.")):
        await log_in(page, key)
        assert page.url.startswith(base + "/login")
        assert why in await page.inner_text("#login-note")
    await shot(page, "login-refused")

    await log_in(page, read)
    assert page.url == base + "/risk"  # back where the login started
    await page.wait_for_selector(".asof-ok", timeout=60_000)
    await page.wait_for_selector("#stress-table", timeout=60_000)
    (cookie,) = [c for c in await page.context.cookies() if c["name"] == "bithedge_dashboards"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    assert read not in cookie["value"] and keys.split(read)[0] not in cookie["value"]  # a session id, not the key
    await shot(page, "logged-in")

    prefix = keys.split(read)[0]
    assert await keys.revoke(admin, prefix, audit_as="test")
    # the page's next request (the block poll) is refused and the browser lands on the login page
    await page.wait_for_url(base + "/login**", timeout=30_000)
    assert "This key is revoked." in await page.inner_text("#login-note")
    await page.goto(base + "/")
    assert page.url.startswith(base + "/login")
    resp = await page.request.get(base + "/export/policies.csv",
                                  headers={"Authorization": f"Bearer {read}"}, max_redirects=0)
    assert resp.status == 401 and "revoked" in await resp.text()


async def test_logout_ends_the_session_and_a_bearer_key_reads_the_export(login_page, app, admin):
    page, base = login_page, app.url
    key = (await keys.create(admin, "dashboards-logout", ["read"])).key
    await page.goto(base + "/")
    await log_in(page, key)
    await page.wait_for_selector("#kpi-tvl", timeout=60_000)
    old = [c for c in await page.context.cookies() if c["name"] == "bithedge_dashboards"]
    async with page.expect_navigation():
        await page.click("#logout")
    assert "You are logged out." in await page.inner_text("#login-note")
    # the cookie from before the logout opens nothing any more (the session is gone on the server)
    await page.context.add_cookies(old)
    resp = await page.request.get(base + "/", max_redirects=0)
    assert resp.status == 302 and "/login" in resp.headers["location"]
    resp = await page.request.get(base + "/export/policies.csv?owner=nobody",
                                  headers={"Authorization": f"Bearer {key}"})
    assert resp.status == 200 and (await resp.text()).startswith("policy_id")


async def test_the_credential_check_as_the_reader(db_url):
    """What bithedge_reader can learn: the verdict on a key it holds, never a digest."""
    reader = role_url(db_url, "bithedge_reader")
    with psycopg.connect(reader) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("SELECT digest FROM api.keys")
    conn = await asyncpg.connect(db_url)
    try:
        read = (await keys.create(conn, "r", ["read"])).key
        admin_key = (await keys.create(conn, "a", ["admin"])).key
        user = await accounts.create_user(conn, "ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM")
        session, _ = await accounts.create_token(conn, user, "session", 3600)
        db = Database(reader)
        assert verdict(db, presented(read)) is None
        assert verdict(db, presented(admin_key)) is None
        assert verdict(db, presented(read[:-1] + ("x" if read[-1] != "x" else "y"))) == "Unknown key."
        assert verdict(db, presented(session)) == "Only an admin's session opens the dashboards."
        await conn.execute("UPDATE notify.users SET is_admin = true WHERE user_id = $1", user)
        assert verdict(db, presented(session)) is None
        await conn.execute("UPDATE notify.sessions SET expires_at = now() - interval '1 s' WHERE user_id = $1", user)
        assert verdict(db, presented(session)) == "This key is expired."
        await keys.revoke(conn, keys.split(read)[0], audit_as="test")
        assert verdict(db, presented(read)) == "This key is revoked."
        assert presented("bhk_short_x") is None
        # the reader gets no row for a prefix without the matching digest
        rows = db.rows("SELECT * FROM public.bithedge_credential(:p, :d)", p=keys.split(admin_key)[0], d=b"\0" * 32)
        assert rows == []
        db.engine.dispose()
    finally:
        await conn.close()


def test_login_setting_follows_the_interface(monkeypatch):
    assert login_required("auto", "127.0.0.1") is False and login_required("auto", "localhost") is False
    assert login_required("auto", "0.0.0.0") is True and login_required("auto", "10.1.2.3") is True
    assert login_required("on", "127.0.0.1") is True
    with pytest.raises(ValueError, match="non-loopback"):
        login_required("off", "0.0.0.0")
    from dashboards.cli import cli

    monkeypatch.setenv("BITHEDGE_DASHBOARDS_LOGIN", "off")
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    result = CliRunner().invoke(cli, ["serve", "--host", "0.0.0.0"])
    assert result.exit_code != 0 and "would open the analytics to the network" in result.output


async def _serve(reader_url: str, port: int) -> subprocess.Popen:
    """``bithedge dashboards serve`` in its own process, login on, answering /health."""
    env = {**os.environ, "DATABASE_URL": reader_url, "BITHEDGE_DASHBOARDS_LOGIN": "on", "BITHEDGE_LOG_LEVEL": "warning"}
    env.pop("BITHEDGE_DASHBOARDS_SECRET_KEY", None)  # a new random key each start: only the database keeps a login
    proc = subprocess.Popen([sys.executable, "-m", "bithedge", "dashboards", "serve", "--port", str(port)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    for _ in range(1200):
        if proc.poll() is not None:
            raise AssertionError(proc.stdout.read().decode())
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc
        except OSError:
            await asyncio.sleep(0.1)
    proc.kill()
    raise AssertionError("the dashboards did not start")


def _stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


async def test_a_session_lives_in_the_database_survives_a_restart_and_ends_with_its_revoked_key(
        browser, built, reader_url, admin):
    db = built["db"]
    key = (await keys.create(admin, "dashboards-restart", ["read"])).key
    prefix = keys.split(key)[0]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    ctx = await browser.new_context()
    proc = await _serve(reader_url, port)
    try:
        resp = await ctx.request.post(base + "/login", form={"key": key, "next": "/pools"}, max_redirects=0)
        assert resp.status == 302 and resp.headers["location"] == "/pools"
        (token,) = [c["value"] for c in await ctx.cookies() if c["name"] == "bithedge_dashboards"]
        # the row holds the token's SHA-256 and the key's prefix and digest, never the token or the key
        rows = sql(db, "SELECT digest, key_digest, expires_at - created_at, s::text FROM dashboards.sessions s "
                       "WHERE key_prefix = %s", prefix)
        assert [r[:3] for r in rows] == [(hashlib.sha256(token.encode()).digest(), presented(key).digest,
                                          timedelta(hours=8))]
        assert token not in rows[0][3] and key not in rows[0][3]
        with psycopg.connect(reader_url) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT * FROM dashboards.sessions")  # the reader reaches a session only by its token
        assert (await ctx.request.get(base + "/pools", max_redirects=0)).status == 200

        _stop(proc)
        proc = await _serve(reader_url, port)
        # a new process with a new secret key: the same cookie still opens the pages and Dash's endpoints
        assert (await ctx.request.get(base + "/pools", max_redirects=0)).status == 200
        layout = await ctx.request.get(base + "/_dash-layout")
        assert layout.status == 200 and "analytics-state" in await layout.text()

        old = [c for c in await ctx.cookies() if c["name"] == "bithedge_dashboards"]
        assert await keys.revoke(admin, prefix, audit_as="test")
        resp = await ctx.request.get(base + "/_dash-layout")
        assert resp.status == 401 and "This key is revoked." in await resp.text()
        assert sql(db, "SELECT count(*) FROM dashboards.sessions WHERE key_prefix = %s", prefix) == [(0,)]
        await ctx.add_cookies(old)  # a copy of the cookie kept from before opens nothing either
        resp = await ctx.request.get(base + "/pools", max_redirects=0)
        assert resp.status == 302 and resp.headers["location"].startswith("/login")
    finally:
        _stop(proc)
        await ctx.close()
