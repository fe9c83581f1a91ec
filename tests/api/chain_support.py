"""A devnet for the quote and transaction tests: the real contracts, indexed live into a migrated database by the
real indexer, the analytics built by dbt as `bithedge_transform`, and the API app on loopback (as `bithedge_api`,
with the devnet's quote-signer key, its node the devnet). Prices are pushed by the devnet oracle submitter and a
provider backs the STX pools, so quotes can be priced.

`api_chain` is module scoped: each test module that imports it gets its own chain; `benchmarks/bench_quotes.py`
starts the same chain with `start_api_chain`."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import psycopg
import pytest
from aiohttp.test_utils import TestClient, TestServer

from api import keys
from api.app import create_app
from bithedge.database import role_url
from bithedge.protocol.deployment import DEVNET
from bithedge.protocol.units import ONE8
from stacks import clarity
from stacks.rpc import StacksClient
from stacks.transaction import decode_transaction, sign
from tests.api.conftest import api_settings
from tests.conftest import create_database, drop_database
from tests.indexer.devnet_support import Signer, start_devnet_async, start_indexer, wait_indexed
from tests.transforms.chain import build, transform_dbt

A, U = clarity.StringAscii, clarity.UInt
BTC, STX = 60_000 * ONE8, 2 * ONE8


@dataclass
class ApiChain:
    db: str
    client: StacksClient
    http: TestClient
    key: str
    keys: dict[str, str]  # devnet label -> private key
    indexer: object
    devnet: object
    dbt: object
    prices: dict[str, int] = field(default_factory=lambda: {"BTC": BTC, "STX": STX})

    def signer(self, label: str) -> Signer:
        return Signer(self.keys[label])

    async def burn_height(self) -> int:
        return (await self.client.info())["burn_block_height"]

    async def send(self, label: str, contract: str, fn: str, args) -> str:
        s = await Signer.for_account(self.client, self.keys[label])
        return await self.client.broadcast(s.call(contract, fn, args))

    async def push_prices(self) -> None:
        for asset in ("BTC", "STX"):
            await self.send("wallet_2", DEVNET.oracle, "submit-price", [A(asset), U(self.prices[asset])])

    async def mine(self, blocks: int = 1) -> None:
        for _ in range(blocks):
            await self.client.mine()

    async def settle(self) -> None:
        """Until the indexer holds the devnet's tip, then the marts include it."""
        await wait_indexed(self.indexer, (await self.client.status())["chain_tip"]["index_block_hash"])
        await build(self.dbt, "refresh_marts")

    async def tick(self, blocks: int = 2) -> None:
        """Fresh prices, ``blocks`` blocks (one burn block per two), indexed and built."""
        await self.push_prices()
        await self.mine(blocks)
        await self.settle()

    async def post(self, path: str, body: dict):
        return await self.http.post(path, json=body, headers={"Authorization": f"Bearer {self.key}"})

    async def broadcast_signed(self, unsigned_hex: str, label: str) -> str:
        tx = sign(decode_transaction(bytes.fromhex(unsigned_hex.removeprefix("0x"))), self.keys[label])
        return await self.client.broadcast(tx)

    async def outcome(self, txid: str) -> tuple[str, object]:
        """(status, plain result) of a mined transaction."""
        tx = await self.client.transaction(txid)
        assert tx is not None and tx["tx_status"] != "pending", tx
        return tx["tx_status"], clarity.to_plain(clarity.decode(bytes.fromhex(tx["tx_result"]["hex"][2:])))

    async def stop(self) -> None:
        await self.http.close()
        await self.client.close()
        self.devnet.stop()
        await self.indexer.stop()

    async def rows(self, sql: str, *args) -> list[asyncpg.Record]:
        conn = await asyncpg.connect(self.db)
        try:
            return await conn.fetch(sql, *args)
        finally:
            await conn.close()


async def start_api_chain(db: str, work: Path) -> ApiChain:
    """The chain over ``db`` (migrated, grants applied): devnet, indexer, API app, liquidity, prices, analytics."""
    srv, url = await start_indexer(db)
    devnet = await start_devnet_async(work / "devnet", observers=[url])
    client = StacksClient(devnet.rpc_url, retries=2)
    await client.__aenter__()
    accounts = {a["label"]: a["private_key"] for a in await client.devnet_accounts()}
    conn = await asyncpg.connect(db)
    key = (await keys.create(conn, "quotes-tests", ["quote", "read"])).key
    await conn.close()
    settings = api_settings(devnet_port=urlsplit(devnet.rpc_url).port)
    http = TestClient(TestServer(create_app(settings, db_url=role_url(db, "bithedge_api")), host="127.0.0.1"))
    await http.start_server()
    chain = ApiChain(db, client, http, key, accounts, srv, devnet, transform_dbt(db, work / "dbt"))
    # liquidity in every STX pool, and prices at a few burn heights (realized volatility needs returns)
    for tier in ("conservative", "balanced", "aggressive"):
        await chain.send("wallet_4", DEVNET.vault, "deposit", [A("STX"), A(tier), U(1_000_000 * 1_000_000)])
    for move in (1.0, 1.01, 0.995, 1.0):
        chain.prices["BTC"] = int(BTC * move)
        await chain.push_prices()
        await chain.mine(2)
    await wait_indexed(srv, (await client.status())["chain_tip"]["index_block_hash"])
    await build(chain.dbt, "deploy")
    return chain


@pytest.fixture(scope="module")
async def api_chain(pg_server, migrated_template, tmp_path_factory):
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    db = create_database(pg_server, migrated_template)
    with psycopg.connect(db, autocommit=True) as conn:  # a clone does not copy the database's grants
        conn.execute("SELECT public.bithedge_database_grants()")
    chain = await start_api_chain(db, tmp_path_factory.mktemp("api-chain"))
    yield chain
    await chain.stop()
    drop_database(pg_server, db)
