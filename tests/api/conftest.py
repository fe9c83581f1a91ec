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


@pytest.fixture(scope="session")
async def analytics_db(pg_server, migrated_template, tmp_path_factory):
    """One database for the whole API session with analytics built from the scale generator's small scenario
    (300 policies replayed through the real indexer, then the dbt build): read-only for the tests."""
    import sys

    import psycopg

    from indexer.ingest import Writer
    from indexer.replay import replay_file
    from tests.conftest import REPO, create_database, drop_database
    from tests.transforms.chain import build, transform_dbt

    sys.path.insert(0, str(REPO / "benchmarks"))
    import synth_policies

    url = create_database(pg_server, migrated_template)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT public.bithedge_database_grants()")
    work = tmp_path_factory.mktemp("api-analytics")
    tsv = work / "synth.tsv"
    truth = synth_policies.generate(tsv, policies=SYNTH_POLICIES, per_block=20, seed=3)
    writer = await Writer.open(url)
    try:
        await replay_file(writer, tsv, progress=False)
    finally:
        await writer.close()
    await build(transform_dbt(url, work), "deploy")
    yield AnalyticsDb(url=url, truth=truth)
    drop_database(pg_server, url)


SYNTH_POLICIES = 300


class AnalyticsDb:
    def __init__(self, url: str, truth: dict) -> None:
        self.url = url
        self.truth = truth


@pytest.fixture(scope="session")
async def reader(analytics_db):
    """A client of the app on the populated database, with a read key (module code must not write through it)."""
    conn = await asyncpg.connect(analytics_db.url)
    key = (await keys.create(conn, "reads", ["read"])).key
    await conn.close()
    client = TestClient(TestServer(create_app(api_settings(), db_url=role_url(analytics_db.url, "bithedge_api")),
                                   host="127.0.0.1"))
    await client.start_server()
    client.session.headers["x-api-key"] = key
    yield client
    await client.close()


@pytest.fixture
async def analytics_client(analytics_db):
    """``await analytics_client(**settings)``: a fresh app on the populated database and a read key for it
    (``client.key``)."""
    clients: list[TestClient] = []
    conn = await asyncpg.connect(analytics_db.url)

    async def make(**overrides: object) -> TestClient:
        client = TestClient(TestServer(create_app(api_settings(**overrides),
                                                  db_url=role_url(analytics_db.url, "bithedge_api")),
                                       host="127.0.0.1"))
        await client.start_server()
        client.key = (await keys.create(conn, "stream", ["read"])).key
        clients.append(client)
        return client

    yield make
    for c in clients:
        await c.close()
    await conn.close()
