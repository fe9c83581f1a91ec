"""API test fixtures: a migrated database, the app served on loopback (aiohttp's TestServer, a real socket),
connecting as the ``bithedge_api`` role, and keys made the way ``bithedge api keys create`` makes them."""

from __future__ import annotations

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer

from api import keys
from api.app import create_app
from bithedge.database import role_url
from bithedge.settings import load_settings


def api_settings(**overrides: object):
    return load_settings(**{"api_rate_per_s": 1000.0, **overrides})


@pytest.fixture
def api_url(db_url: str) -> str:
    return role_url(db_url, "bithedge_api")


@pytest.fixture
async def make_client(api_url: str):
    """``await make_client(**settings)``: a client of a fresh app on a loopback port."""
    clients: list[TestClient] = []

    async def make(**overrides: object) -> TestClient:
        client = TestClient(TestServer(create_app(api_settings(**overrides), db_url=api_url), host="127.0.0.1"))
        await client.start_server()
        clients.append(client)
        return client

    yield make
    for c in clients:
        await c.close()


@pytest.fixture
async def make_key(db_url: str):
    """``await make_key("read", ...)``: a new key's full text (created as the CLI does, as the admin)."""
    conn = await asyncpg.connect(db_url)

    async def make(*scopes: str, **kw: object) -> str:
        return (await keys.create(conn, "test", list(scopes or ("read",)), **kw)).key

    yield make
    await conn.close()
