"""Every adapter against the simulator's copy of its venue (a real HTTP server on loopback): prices,
USDT conversion, and each venue's outages, frozen quotes and a USDT depeg excluded with their reasons."""

from __future__ import annotations

from contextlib import asynccontextmanager
from decimal import Decimal

import aiohttp
import pytest

from bithedge.protocol.units import ONE8
from bithedge.simulator.feed import make_app
from bithedge.simulator.market import Feed, Market, Served
from keeper.oracle import BadResponse, OracleConfig, SourceConfig, build_sources, collect_round
from keeper.oracle.collect import _http_failure
from keeper.oracle.venues import VENUES
from tests.processes import loopback_server

NOW = 1_800_000_000.0
ALL = tuple(VENUES)


@asynccontextmanager
async def simulator(seed: int = 3, hang_s: float = 10.0):
    """A feed after a few ticks with every venue up and quick, served on loopback."""
    market = Market(seed=seed)
    feed = Feed(market)
    for i in range(5):
        market.step()
        feed.update(NOW - 5 + i)
    for st in feed.state.values():
        st.outage, st.outage_left, st.frozen_left, st.latency_ms = None, 0, 0, 1.0
    async with loopback_server(make_app(feed, hang_s=hang_s)) as base:
        yield feed, base


def config(base: str, venues=ALL, timeout_s: float = 2.0) -> OracleConfig:
    return OracleConfig(tuple(SourceConfig(v, f"{base}/{v}", timeout_s) for v in venues))


def units(x: float) -> int:
    return int(Decimal(repr(x)) * ONE8)


async def test_every_adapter_reads_its_simulated_venue():
    async with simulator() as (feed, base), aiohttp.ClientSession() as session:
        cfg = config(base)
        sources = build_sources(cfg)
        for asset in ("BTC", "STX"):
            r = await collect_round(session, sources, asset, cfg, NOW)
            listed = {s.name for s in sources if s.venue.pair(asset)}
            assert {q.source for q in r.quotes} == listed and all(q.status == "ok" for q in r.quotes), r.quotes
            assert r.quorum and r.usdt is not None and r.usdt.quorum
            assert abs(r.median / units(feed.market.prices[asset]) - 1) < 0.01
            for q in r.quotes:
                served = feed.state[q.source].quotes[asset]
                expect = served.price * (r.usdt.median / ONE8 if q.quote_ccy == "USDT" else 1)
                assert abs(q.price_usd / units(expect) - 1) < 1e-4, q
                if q.observed_at is not None:
                    assert q.observed_at == int(served.ts) or q.observed_at == pytest.approx(served.ts)
        assert {q.source for q in r.usdt.quotes} == {"coinbase", "kraken", "bitstamp", "pyth", "coingecko"}
        assert {q.quote_ccy for q in r.quotes if q.source in ("binance", "okx")} == {"USDT"}


@pytest.mark.parametrize("outage, reasons", [
    ("rate-limit", {"coinbase": "rate-limited (HTTP 429): Public rate limit exceeded",
                    "kraken": "kraken error: EAPI:Rate limit exceeded",
                    "bitstamp": "rate-limited (HTTP 429): Rate limit exceeded",
                    "binance": "rate-limited (HTTP 429): -1003 Too many requests",
                    "okx": "rate-limited (HTTP 429): 50011 Too Many Requests",
                    "pyth": "rate-limited (HTTP 429): Too Many Requests",
                    "coingecko": "rate-limited (HTTP 429): 429 You've exceeded the Rate Limit"}),
    ("error-page", dict.fromkeys(ALL, "HTTP 502: an HTML page")),
    ("hang", dict.fromkeys(ALL, "no reply within 1 s")),
    ("truncated", dict.fromkeys(ALL, "body is not JSON")),
])
async def test_each_venue_outage_excludes_it_with_its_reason(outage, reasons):
    async with simulator(hang_s=10.0) as (feed, base), aiohttp.ClientSession() as session:
        for st in feed.state.values():
            st.outage = outage
        cfg = config(base, timeout_s=1.0 if outage == "hang" else 5.0)  # generous: the machine may be busy
        r = await collect_round(session, build_sources(cfg), "BTC", cfg, NOW)
        assert not r.quorum and r.median is None and "0 usable of 7" in r.reason
        got = {q.source: q.reason for q in r.quotes}
        for venue, reason in reasons.items():  # its own failure, before the missing USDT/USD price
            assert got[venue].startswith(reason), (venue, got[venue])
        assert "0 usable of 5" in r.usdt.reason
        assert all(q.price_usd is None and q.status == "excluded" for q in r.quotes)


async def test_a_banned_binance_answers_418_with_retry_after():
    async with simulator() as (feed, base), aiohttp.ClientSession() as session:
        feed.state["binance"].outage, feed.state["binance"].outage_left = "rate-limit", 9
        cfg = config(base)
        r = await collect_round(session, build_sources(cfg), "BTC", cfg, NOW)
        (q,) = [q for q in r.quotes if q.source == "binance"]
        assert q.reason == "rate-limited (HTTP 418): -1003 Way too many requests; IP banned., retry after 60 s"
        assert r.quorum  # six others remain


async def test_frozen_quotes_are_stale_where_the_venue_sends_its_time():
    async with simulator() as (feed, base), aiohttp.ClientSession() as session:
        for st in feed.state.values():
            st.quotes["BTC"] = Served(st.quotes["BTC"].price, NOW - 600)
        cfg = config(base)
        r = await collect_round(session, build_sources(cfg), "BTC", cfg, NOW)
        stale = {q.source for q in r.quotes if q.reason and q.reason.startswith("stale: quoted 600 s ago")}
        # Kraken's ticker carries no time: a frozen quote there cannot be told from a fresh one
        assert stale == {"coinbase", "bitstamp", "binance", "okx", "pyth", "coingecko"}
        assert not r.quorum and "1 usable of 7" in r.reason


async def test_a_usdt_depeg_drops_the_usdt_venues_and_usd_venues_carry_the_round():
    async with simulator() as (feed, base), aiohttp.ClientSession() as session:
        for st in feed.state.values():
            st.quotes["USDT"] = Served(0.97, NOW)
        cfg = config(base)
        r = await collect_round(session, build_sources(cfg), "BTC", cfg, NOW)
        assert r.usdt.median == 97_000_000
        assert {q.source: q.status for q in r.quotes if q.status == "excluded"} == {"binance": "excluded",
                                                                                   "okx": "excluded"}
        binance = next(q for q in r.quotes if q.source == "binance")
        assert "USDT/USD is 0.97, beyond the depeg guard of 100 bp" in binance.reason
        assert r.quorum and len(r.used) == 5


async def test_an_unknown_pair_gets_each_venues_not_found_reply():
    async with simulator() as (_feed, base), aiohttp.ClientSession() as session:
        expect = {"coinbase": "HTTP 404: NotFound", "kraken": "kraken error: EQuery:Unknown asset pair",
                  "bitstamp": "HTTP 404: an HTML page", "binance": "HTTP 400: -1121 Invalid symbol.",
                  "okx": "okx error: 51001 Instrument ID does not exist", "pyth": "HTTP 404: Price ids not found",
                  "coingecko": "reply has no"}
        for name, reason in expect.items():
            venue = VENUES[name]
            pair = venue.pairs[0]
            wrong = type(pair)(pair.asset, {"pyth": "ab" * 32, "coingecko": "nocoin"}.get(name, "NOPE-NOPE"),
                               pair.quote_ccy)
            path, params = venue.request(wrong)
            async with session.get(f"{base}/{name}{path}", params=params) as resp:
                status, text = resp.status, await resp.text()
            if status != 200:
                got = _http_failure(venue, status, text, None)
            else:
                with pytest.raises(BadResponse) as exc:
                    venue.parse(text, wrong)
                got = str(exc.value)
            assert got.startswith(reason), (name, got)
