"""notify fixtures: the interface tables the worker reads, a local webhook receiver, the API app with the notify
routes (as bithedge_api), a signed-in user, and the worker in-process (as bithedge_notify).

The ``analytics`` relations the worker reads are created here as tables with the interface's columns and types
(``transforms/README.md``), written by the test as the transforms would write the views' rows: the worker only
ever reads them.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import time
from dataclasses import dataclass, field

import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from bithedge.database import role_url
from notify.worker import Worker, WorkerConfig
from stacks import clarity, sip018
from stacks.keys import parse_private_key
from tests.api.conftest import api_url, make_client  # noqa: F401 - the API's client fixtures, shared

KEY = os.urandom(32)
ANALYTICS = """
CREATE TABLE analytics.freshness (marts_stacks_height bigint, marts_burn_height bigint);
INSERT INTO analytics.freshness VALUES (200, 100);
CREATE TABLE analytics.policies (
  policy_id bigint, owner text, token text, pool_tier text, strike numeric, amount numeric, premium numeric,
  expiry bigint, status text, status_onchain text, created_txid text, created_burn_height bigint,
  settled_txid text, settled_burn_height bigint, payout numeric, fund_cover numeric, settlement_price numeric,
  refund numeric, missing_asset text);
CREATE TABLE analytics.proposals (
  proposal_id bigint, proposer text, kind text, key text, value numeric, state text, end_burn_height bigint,
  created_txid text, created_burn_height bigint, ended_burn_height bigint);
CREATE TABLE analytics.oracle_prices (
  asset text, price numeric, previous_price numeric, previous_height bigint, burn_height bigint, txid text,
  event_index integer);
CREATE TABLE analytics.pool_risk (
  token text, tier text, coverage_ratio numeric, adequacy_btc_m10 numeric, adequacy_btc_m20 numeric,
  adequacy_btc_m30 numeric, adequacy_btc_m50 numeric);
CREATE TABLE analytics.providers (token text, tier text, provider text, shares numeric);
GRANT SELECT ON ALL TABLES IN SCHEMA analytics TO bithedge_notify, bithedge_reader;
"""


NOTIFY_SETTINGS = {"notify_secret_key": base64.b64encode(KEY).decode(), "notify_allow_loopback": True}


@pytest.fixture
async def admin(db_url: str):
    conn = await asyncpg.connect(db_url)
    await conn.execute(ANALYTICS)
    yield conn
    await conn.close()


@dataclass
class Receiver:
    """A webhook endpoint on loopback that keeps every raw request."""

    received: list[dict] = field(default_factory=list)
    fail_first: int = 0  # answer 500 to this many requests first
    delay_s: float = 0.0
    url: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.received.append({"headers": dict(request.headers), "body": body, "at": time.time(),
                              "json": json.loads(body)})
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if self.fail_first > 0:
            self.fail_first -= 1
            return web.Response(status=500, text="try again")
        return web.Response(text="ok")

    def ids(self) -> list[str]:
        return [r["headers"]["X-BitHedge-Delivery"] for r in self.received]


@pytest.fixture
async def receiver():
    rec = Receiver()
    app = web.Application()
    app.router.add_post("/hook", rec.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    rec.url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    yield rec
    await runner.cleanup()


@pytest.fixture
async def api(make_client, admin):  # noqa: F811 - the fixture imported above
    """``await api(**settings)``: the API (every route module, notify's included) on loopback, as bithedge_api."""

    async def make(**overrides):
        return await make_client(**{**NOTIFY_SETTINGS, **overrides})

    return make


def sign_challenge(challenge: dict, key_hex: str, prefix: bytes = sip018.STRUCTURED_DATA_PREFIX) -> str:
    domain, message = clarity.decode(challenge["domain_hex"]), clarity.decode(challenge["message_hex"])
    from stacks.hashing import sha256

    digest = sha256(prefix + sha256(clarity.encode(domain)) + sha256(clarity.encode(message)))
    vrs = parse_private_key(key_hex).sign_digest(digest)
    return "0x" + (vrs[1:] + vrs[:1]).hex()


def address_of(key_hex: str) -> str:
    return parse_private_key(key_hex).address(26)


async def sign_in(client: TestClient, key_hex: str) -> dict:
    resp = await client.post("/v1/auth/challenge", json={"address": address_of(key_hex)})
    assert resp.status == 201, await resp.text()
    challenge = await resp.json()
    resp = await client.post("/v1/auth/signin", json={"nonce": challenge["nonce"],
                                                      "signature": sign_challenge(challenge, key_hex)})
    assert resp.status == 201, await resp.text()
    return await resp.json()


@pytest.fixture
async def worker(db_url: str, admin):
    started: list[Worker] = []

    async def make(**overrides) -> Worker:
        options = {"confirmations": 0, "allow_loopback": True, "poll_s": 0.2, "retry_base_s": 0.05,
                   "retry_max_s": 0.2, "webhook_timeout_s": 5.0, **overrides}
        cfg = WorkerConfig(url=role_url(db_url, "bithedge_notify"), secret_key=KEY, port=0, **options)
        w = Worker(cfg)
        await w.start()
        started.append(w)
        return w

    yield make
    for w in started:
        await w.stop()


async def eventually(check, timeout: float = 20.0, step: float = 0.05):
    """Wait until ``await check()`` is truthy; return it (tests never assert on time, only on outcomes)."""
    deadline = time.monotonic() + timeout
    while True:
        value = await check()
        if value or time.monotonic() > deadline:
            return value
        await asyncio.sleep(step)
