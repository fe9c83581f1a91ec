"""The Pyth Hermes API key (``BITHEDGE_KEEPER_PYTH_API_KEY``): sent as ``Authorization: Bearer <key>`` (Hermes'
fetch-price-updates docs), only to Pyth, only over https or loopback, and never in a quote's reason or raw text,
the stored round, a repr or the settings' dump. The end-to-end check (the running keeper's logs and tables) is in
``test_chaos.py``."""

from __future__ import annotations

import json
from contextlib import asynccontextmanager

import aiohttp
import pytest
from aiohttp import web
from pydantic import SecretStr

from bithedge.settings import load_settings
from keeper.oracle import OracleConfig, SourceConfig, build_sources, collect_round
from keeper.publisher import _quote_json
from tests.keeper.test_oracle_collect import NOW, pyth
from tests.processes import loopback_server

KEY = "hermes-test-key-7f3a9c2e41d8b6"


@asynccontextmanager
async def hermes(*, echo: bool = False):
    """A Hermes that answers 401 without the right Bearer token (``echo``: its error repeats the header it got,
    as some gateways do); it records every Authorization header."""
    seen: list[str | None] = []

    async def latest(req: web.Request) -> web.Response:
        auth = req.headers.get("Authorization")
        seen.append(auth)
        if auth != f"Bearer {KEY}" or echo:
            return web.Response(status=401, text=f"Unauthorized: {auth}" if echo else "Unauthorized")
        return web.Response(text=pyth(), content_type="application/json")

    app = web.Application()
    app.router.add_get("/v2/updates/price/latest", latest)
    async with loopback_server(app) as base:
        yield base, seen


async def pyth_round(base: str, key: str | None):
    c = OracleConfig((SourceConfig("pyth", base, 5.0, SecretStr(key) if key else None),), min_sources=1)
    async with aiohttp.ClientSession() as session:
        return c, await collect_round(session, build_sources(c), "BTC", c, NOW)


def stored(c: OracleConfig, rnd) -> str:
    """Everything of a round the keeper writes or prints: the quotes as keeper.price_rounds and keeper.audit
    store them, the round's reason (the alert text), the reprs."""
    return "\n".join([json.dumps([_quote_json(q) for q in rnd.quotes], default=str), str(rnd.reason),
                      repr(c), repr(build_sources(c)), repr(rnd)])


async def test_the_key_is_sent_as_a_bearer_token_and_never_stored():
    async with hermes() as (base, seen):
        c, rnd = await pyth_round(base, KEY)
    assert seen == [f"Bearer {KEY}"]
    assert rnd.quorum and rnd.median == 10_000_005_000_000
    assert KEY not in stored(c, rnd)


async def test_without_a_key_nothing_is_sent_and_the_401_is_the_reason():
    async with hermes() as (base, seen):
        _, rnd = await pyth_round(base, None)
    assert seen == [None]
    assert not rnd.quorum and rnd.quotes[0].reason == "HTTP 401: Unauthorized"


async def test_an_error_that_echoes_the_key_is_redacted():
    async with hermes(echo=True) as (base, seen):
        c, rnd = await pyth_round(base, KEY)
    assert seen == [f"Bearer {KEY}"]
    assert rnd.quotes[0].reason == "HTTP 401: Unauthorized: Bearer ***"
    assert KEY not in stored(c, rnd)


def test_the_key_goes_only_to_pyth_over_https_or_loopback():
    s = load_settings(keeper_sources="pyth=https://pyth.dourolabs.app/hermes,kraken", keeper_pyth_api_key=KEY,
                      node_url="http://node:20443")
    c = OracleConfig.from_settings(s)
    keys = {x.venue: x.api_key for x in c.sources}
    assert keys["pyth"].get_secret_value() == KEY and keys["kraken"] is None
    assert KEY not in repr(s) and KEY not in s.model_dump_json() and KEY not in repr(c)
    with pytest.raises(ValueError, match="only over https"):
        SourceConfig("pyth", "http://hermes.example:8080", api_key=SecretStr(KEY))
    with pytest.raises(ValueError, match="kraken takes no API key"):
        SourceConfig("kraken", "https://api.kraken.com", api_key=SecretStr(KEY))
    try:
        SourceConfig("pyth", "http://hermes.example:8080", api_key=SecretStr(KEY))
    except ValueError as exc:
        assert KEY not in str(exc)
