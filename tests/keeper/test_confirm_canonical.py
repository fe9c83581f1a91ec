"""Confirmation from analytics.contract_calls (``keeper.confirmations``): a real devnet delivering to the real
indexer, the transforms built by dbt, the transaction manager reading the canonical calls while the transforms are
current and the node API otherwise; a fork that orphans a confirmed transaction is seen through the canonical flags
(the call leaves analytics.contract_calls), the transaction goes back to pending and confirms again."""

from __future__ import annotations

import asyncio
import json
import shutil

import asyncpg
import pytest

from bithedge.database import role_url
from keeper.confirmations import ANALYTICS, NODE, CanonicalCalls
from keeper.store import Alerts
from keeper.txs import TxConfig, TxManager
from stacks.rpc import StacksClient
from tests.indexer.devnet_support import start_devnet_async, start_indexer, wait_indexed
from tests.keeper.test_txs import price_call
from tests.support.keeper import devnet_signers
from transforms.runner import Dbt

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
#: what analytics.contract_calls and analytics.freshness need, no more
SELECT = ("+contract_calls", "+freshness")


async def audit_rows(pool, kind: str, txid: str) -> list[dict]:
    rows = await pool.fetch("SELECT inputs FROM keeper.audit WHERE kind = $1 AND txid = $2 ORDER BY id", kind, txid)
    return [json.loads(r["inputs"]) for r in rows]


async def test_confirmations_come_from_the_canonical_calls_and_see_a_reorg(db_url, tmp_path):
    srv, url = await start_indexer(db_url)
    devnet = await start_devnet_async(tmp_path / "devnet", observers=[url])
    pool = await asyncpg.create_pool(role_url(db_url, "bithedge_keeper"), min_size=1, max_size=2)
    client = StacksClient(devnet.rpc_url, retries=2, timeout=120)
    dbt = Dbt(role_url(db_url, "bithedge_transform"), work_dir=tmp_path / "dbt")
    try:
        async def tip() -> int:
            return (await client.info())["stacks_tip_height"]

        async def indexed_and_built() -> int:
            await wait_indexed(srv, (await client.status())["chain_tip"]["index_block_hash"])
            out = await asyncio.to_thread(dbt.deploy, select=SELECT)
            assert out.success, out.errors
            return await tip()

        txm = TxManager(pool, client, devnet_signers()["oracle"], TxConfig(min_balance=0), Alerts(pool),
                        canonical=CanonicalCalls(pool))
        await txm.reconcile()

        # no transforms yet: the node answers
        first = await txm.submit(*price_call(9_500_000_000_000))
        await client.mine()
        await txm.poll(await tip())
        assert [r["source"] for r in await audit_rows(pool, "confirm", first["txid"])] == [NODE]

        # the transforms built at the tip: the canonical calls answer
        second = await txm.submit(*price_call(9_510_000_000_000))
        await client.mine()
        await txm.poll(await indexed_and_built())
        assert [r["source"] for r in await audit_rows(pool, "confirm", second["txid"])] == [ANALYTICS]
        confirmed = await pool.fetchrow("SELECT * FROM keeper.transactions WHERE txid = $1", second["txid"])
        assert confirmed["status"] == "confirmed" and confirmed["tx_status"] == "success"

        # a build older than the tip (one block mined since) is not current: the node answers again
        third = await txm.submit(*price_call(9_520_000_000_000))
        await client.mine()
        await txm.poll(await tip())
        assert [r["source"] for r in await audit_rows(pool, "confirm", third["txid"])] == [NODE]

        # a fork orphans the blocks of the second and third; the transforms see it first (canonical flags)
        depth = await tip() - confirmed["confirmed_stacks_height"] + 1
        await client.fork(depth)
        await txm.poll(await indexed_and_built())
        orphaned = {r["txid"]: r["seen_by"] for r in [
            {**i, "txid": t} for t in (second["txid"], third["txid"]) for i in await audit_rows(pool, "orphaned", t)]}
        assert orphaned == {second["txid"]: ANALYTICS, third["txid"]: ANALYTICS}, orphaned
        assert {r["status"] for r in await pool.fetch("SELECT status FROM keeper.transactions WHERE txid = ANY($1)",
                                                      [second["txid"], third["txid"]])} == {"pending"}

        # mined again on the new branch: confirmed again, in another block
        await client.mine()
        await txm.poll(await indexed_and_built())
        again = await pool.fetchrow("SELECT * FROM keeper.transactions WHERE txid = $1", second["txid"])
        assert again["status"] == "confirmed" and again["confirmed_block_hash"] != confirmed["confirmed_block_hash"]
        assert [r["source"] for r in await audit_rows(pool, "confirm", second["txid"])] == [ANALYTICS, ANALYTICS]
        nonces = [r["nonce"] for r in await pool.fetch("SELECT nonce FROM keeper.transactions WHERE address = $1 "
                                                        "AND status = 'confirmed' ORDER BY nonce", txm.address)]
        assert nonces == list(range(len(nonces))) and len(nonces) == 3
    finally:
        await client.close()
        await pool.close()
        devnet.stop()
        await srv.stop()
