"""collect_round against a loopback server that sends whatever a test scripts: every bad reply
excludes its source with a reason and never reaches the median; the round never raises. And the
configuration from settings."""

from __future__ import annotations

import asyncio
import json
from contextlib import asynccontextmanager
from dataclasses import replace

import aiohttp
import pytest
from aiohttp import web

from bithedge.settings import load_settings
from keeper.oracle import OracleConfig, SourceConfig, build_sources, collect_round
from keeper.oracle.aggregate import median
from tests.processes import free_port, loopback_server

NOW = 1_800_000_000.0


def binance(price, symbol="BTCUSDT", close=int(NOW * 1000)) -> str:  # /api/v3/ticker/24hr, trimmed
    return json.dumps({"symbol": symbol, "lastPrice": price, "openTime": close - 86_400_000, "closeTime": close})


def okx(last="100000.1", ts=int(NOW * 1000), inst="BTC-USDT") -> str:
    return json.dumps({"code": "0", "msg": "", "data": [{"instId": inst, "last": last, "ts": str(ts)}]})


def coinbase(price="100000.00", time="2027-01-15T08:00:00.000000Z") -> str:  # NOW in ISO-8601
    return json.dumps({"price": price, "time": time})


def kraken(last="100010.0", key="XXBTZUSD") -> str:
    return json.dumps({"error": [], "result": {key: {"c": [last, "0.1"]}}})


def bitstamp(last="99990", ts=int(NOW)) -> str:
    return json.dumps({"last": last, "timestamp": str(ts)})


def pyth(price="10000005000000", t=int(NOW)) -> str:
    feed = "e62df6c8b4a85fe1a67db44dc12de5db330f7ac66b72dc658afedf0f4a415b43"
    return json.dumps({"parsed": [{"id": feed, "price": {"price": price, "conf": "1", "expo": -8, "publish_time": t}}]})


def usdt(venue: str) -> str:  # USDT/USD at par from each venue that lists it
    return {"coinbase": coinbase("1.0000"), "kraken": kraken("1.0000", "USDTZUSD"),
            "bitstamp": bitstamp("1.00000"), "pyth": pyth("100000000").replace(
                "e62df6c8b4a85fe1a67db44dc12de5db330f7ac66b72dc658afedf0f4a415b43",
                "2b89b9dc8fdf9f34709a5b106b472f0f39bb6ca9ce04b0fd7f2e971688e2e53b")}[venue]


GOOD = {"coinbase": coinbase(), "kraken": kraken(), "bitstamp": bitstamp(), "binance": binance("100020.5"),
        "okx": okx(), "pyth": pyth()}


@asynccontextmanager
async def scripted(replies: dict[str, tuple[int, str, str]]):
    """``replies``: venue -> (status, body, content type) for its BTC ticker (status 0: hang); USDT
    tickers are at par."""

    async def handle(req: web.Request) -> web.Response:
        venue = req.path.split("/")[1]
        asking_usdt = any("USDT" in v.upper() and "BTC" not in v.upper() or v.startswith("2b89")
                          for v in [req.path, *req.query.values()])
        if asking_usdt and venue in ("coinbase", "kraken", "bitstamp", "pyth"):
            return web.Response(text=usdt(venue), content_type="application/json")
        status, body, ctype = replies.get(venue, (200, GOOD.get(venue, "{}"), "application/json"))
        if status == 0:  # hang past any client timeout
            await asyncio.sleep(10)
        return web.Response(text=body, status=status, content_type=ctype)

    app = web.Application()
    app.router.add_get("/{tail:.*}", handle)
    async with loopback_server(app) as base:
        yield base


def cfg(base: str, **kw) -> OracleConfig:
    return OracleConfig(tuple(SourceConfig(v, f"{base}/{v}", 5.0) for v in GOOD), **kw)


async def round_with(replies, **kw):
    async with scripted(replies) as base, aiohttp.ClientSession() as session:
        c = cfg(base, **kw)
        return await collect_round(session, build_sources(c), "BTC", c, NOW)


async def test_all_good_sources_give_the_median():
    r = await round_with({})
    assert r.quorum and [q.status for q in r.quotes] == ["ok"] * 6
    assert r.median == 10_000_007_500_000  # the middle two: Pyth's 100000.05 and OKX's 100000.1 (USDT at par)
    assert r.usdt is not None and r.usdt.median == 100_000_000
    assert {q.source: q.raw for q in r.quotes}["pyth"] == "10000005000000e-8"


@pytest.mark.parametrize("venue, reply, reason", [
    ("binance", (200, binance("NaN"), "application/json"), "price is NaN"),
    ("binance", (200, '{"symbol":"BTCUSDT","lastPrice":NaN}', "application/json"), "non-numeric JSON constant NaN"),
    ("binance", (200, binance("0.00000000"), "application/json"), "price 0E-8 is not positive"),
    ("okx", (200, okx(last="-1"), "application/json"), "price -1 is not positive"),
    ("okx", (200, okx(inst="ETH-USDT"), "application/json"), "reply is for 'ETH-USDT', not 'BTC-USDT'"),
    ("kraken", (200, kraken(key="XETHZUSD"), "application/json"), "reply is for 'XETHZUSD', not 'XBTUSD'"),
    ("okx", (200, okx(ts=int(NOW * 1000) + 60_000), "application/json"), "timestamp 60 s in the future"),
    ("bitstamp", (200, bitstamp(ts=int(NOW) - 3600), "application/json"), "stale: quoted 3600 s ago"),
    ("binance", (200, binance("100020.5", close=int(NOW * 1000) - 120_000), "application/json"),
     "stale: quoted 120 s ago"),
    ("coinbase", (200, "<!DOCTYPE html><html><body>Just a moment...</body></html>", "text/html"), "an HTML page"),
    ("coinbase", (503, "<html><body>503 Service Unavailable</body></html>", "text/html"), "HTTP 503: an HTML page"),
    ("pyth", (200, pyth()[:40], "application/json"), "body is not JSON"),
    ("pyth", (404, "Price ids not found: e62df6c8", "text/plain"), "HTTP 404: Price ids not found"),
    ("binance", (429, '{"code":-1003,"msg":"Too many requests."}', "application/json"),
     "rate-limited (HTTP 429): -1003 Too many requests."),
    ("binance", (418, '{"code":-1003,"msg":"Way too many requests; IP banned."}', "application/json"),
     "rate-limited (HTTP 418)"),
    ("okx", (429, '{"msg":"Too Many Requests","code":"50011"}', "application/json"),
     "rate-limited (HTTP 429): 50011 Too Many Requests"),
    ("kraken", (200, '{"error":["EAPI:Rate limit exceeded"]}', "application/json"),
     "kraken error: EAPI:Rate limit exceeded"),
    ("coinbase", (200, coinbase(price="1e-9"), "application/json"), "price 1E-9 rounds to 0"),
    ("bitstamp", (200, '["not", "an", "object"]', "application/json"), "reply is list, not an object"),
    ("kraken", (200, "x" * (2 << 20), "text/plain"), "reply longer than 1048576 bytes"),
])
async def test_a_bad_reply_excludes_its_source_and_never_reaches_the_median(venue, reply, reason):
    r = await round_with({venue: reply})
    bad = next(q for q in r.quotes if q.source == venue)
    assert bad.status == "excluded" and bad.price_usd is None and bad.reason.startswith(reason), bad.reason
    assert r.quorum and len(r.used) == 5 and bad not in r.used
    assert r.median == median([q.price_usd for q in r.used])


async def test_a_refused_connection_and_a_timeout_are_reasons_too():
    async with scripted({"okx": (0, "", "")}) as base, aiohttp.ClientSession() as session:
        closed = f"http://127.0.0.1:{free_port()}"
        # generous timeouts but the hanging one's: the machine may be busy
        others = tuple(replace(s, timeout_s=1.0 if s.venue == "okx" else 5.0) for s in cfg(base).sources
                       if s.venue != "binance")
        c = OracleConfig((SourceConfig("binance", closed + "/binance"), *others))
        r = await collect_round(session, build_sources(c), "BTC", c, NOW)
    reasons = {q.source: q.reason for q in r.quotes}
    assert reasons["binance"].startswith("request failed: ClientConnectorError")
    assert reasons["okx"] == "no reply within 1 s" and r.quorum and len(r.used) == 4


def test_the_config_from_settings():
    s = load_settings(keeper_sources="kraken, binance=https://api.binance.us ,pyth", keeper_price_band_bp=150)
    c = OracleConfig.from_settings(s)
    assert [(x.venue, x.base_url) for x in c.sources] == [
        ("kraken", "http://127.0.0.1:3800/kraken"), ("binance", "https://api.binance.us"),
        ("pyth", "http://127.0.0.1:3800/pyth")]
    assert c.band_bp == 150 and c.min_sources == 3 and c.stale_s == 60
    real = OracleConfig.from_settings(load_settings(keeper_sources="kraken,okx", node_url="http://node:20443"))
    assert [x.base_url for x in real.sources] == ["https://api.kraken.com", "https://www.okx.com"]
    compose = OracleConfig.from_settings(load_settings(keeper_sources="kraken", node_url="http://devnet:20443",
                                                       keeper_price_feed_url="http://simulator:3800/"))
    assert [x.base_url for x in compose.sources] == ["http://simulator:3800/kraken"]
    with pytest.raises(ValueError, match="unknown price source 'bitfinex'"):
        OracleConfig.from_settings(load_settings(keeper_sources="bitfinex"))
    with pytest.raises(ValueError, match="listed twice"):
        OracleConfig.from_settings(load_settings(keeper_sources="okx,okx"))
