"""The transaction manager against a real devnet (mining on demand) and a real PostgreSQL: stored signed before
broadcast, confirmation by txid, fee bumps at the same nonce, nonce gaps filled, a crash between signing and
broadcasting, a ledger behind the node, an empty signer paused and resumed, the node's chaining limit, a reorg
that orphans a confirmed transaction, and exactly-once intents."""

from __future__ import annotations

import os
import shutil

import asyncpg
import pytest

from bithedge.database import role_url
from bithedge.protocol.deployment import DEVNET
from keeper.keys import Signer
from keeper.store import Alerts
from keeper.txs import Busy, Intent, TxConfig, TxManager
from stacks import clarity
from stacks.address import AddressVersion
from stacks.keys import parse_private_key
from stacks.rpc import StacksClient
from tests.support.devnet import start_devnet_async
from tests.support.keeper import devnet_signers

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
A, U = clarity.StringAscii, clarity.UInt


@pytest.fixture(scope="module")
async def node(tmp_path_factory):
    proc = await start_devnet_async(tmp_path_factory.mktemp("keeper-devnet"))
    yield proc
    proc.stop()


@pytest.fixture
async def env(node, db_url):
    pool = await asyncpg.create_pool(role_url(db_url, "bithedge_keeper"), min_size=1, max_size=3)
    client = StacksClient(node.rpc_url, retries=2)
    made: list[TxManager] = []

    async def manager(signer: Signer | None = None, **cfg) -> TxManager:
        txm = TxManager(pool, client, signer or devnet_signers()["oracle"], TxConfig(**{"min_balance": 0, **cfg}),
                        Alerts(pool))
        await txm.reconcile()
        txm.tip = (await client.info())["stacks_tip_height"]
        made.append(txm)
        return txm

    yield pool, client, manager
    await client.close()
    await pool.close()


def price_call(price: int = 9_500_000_000_000):
    return ("submit-price", DEVNET.oracle, "submit-price", [A("BTC"), U(price)])


async def mine_and_poll(client: StacksClient, txm: TxManager, blocks: int = 1) -> None:
    await client.mine(blocks)
    await txm.poll((await client.info())["stacks_tip_height"])


async def test_signed_and_stored_before_broadcast_then_confirmed_by_txid(env):
    pool, client, manager = env
    txm = await manager()
    row = await txm.submit(*price_call())
    stored = await pool.fetchrow("SELECT * FROM keeper.transactions WHERE id = $1", row["id"])
    assert stored["status"] == "pending" and stored["raw_tx"] and stored["txid"] == row["txid"]
    audit = [r["kind"] for r in await pool.fetch("SELECT kind FROM keeper.audit WHERE txid = $1 ORDER BY id",
                                                 row["txid"])]
    assert audit == ["sign", "broadcast"]  # the signed tx was in the ledger before the node saw it
    await mine_and_poll(client, txm)
    done = await pool.fetchrow("SELECT * FROM keeper.transactions WHERE id = $1", row["id"])
    assert done["status"] == "confirmed" and done["tx_status"] == "success"
    assert done["confirmed_txid"] == row["txid"] and done["confirmed_block_hash"].startswith("0x")


async def test_a_pending_tx_is_bumped_at_the_same_nonce(env):
    pool, client, manager = env
    txm = await manager(bump_after_blocks=2)
    row = await txm.submit(*price_call())
    await txm.poll(txm.tip + 2)  # two blocks later, still in the mempool
    bumped = await pool.fetchrow("SELECT * FROM keeper.transactions WHERE id = $1", row["id"])
    assert bumped["nonce"] == row["nonce"] and bumped["fee"] == 3375 and bumped["bumps"] == 1
    assert bumped["earlier_txids"] == [row["txid"]] and bumped["txid"] != row["txid"]
    await mine_and_poll(client, txm)
    done = await pool.fetchrow("SELECT status, confirmed_txid FROM keeper.transactions WHERE id = $1", row["id"])
    assert done["status"] == "confirmed" and done["confirmed_txid"] == bumped["txid"]
    assert (await pool.fetchrow("SELECT inputs FROM keeper.audit WHERE kind = 'bump'"))["inputs"]


async def test_bumps_stop_at_the_max_fee_and_alert(env):
    pool, client, manager = env
    txm = await manager(bump_after_blocks=1, max_fee=3375)
    await txm.submit(*price_call())
    await txm.poll(txm.tip + 1)
    await txm.poll(txm.tip + 1)
    row = await pool.fetchrow("SELECT fee, bumps FROM keeper.transactions")
    assert (row["fee"], row["bumps"]) == (3375, 1)
    assert await pool.fetchval("SELECT count(*) FROM keeper.alerts WHERE kind = 'tx-stuck'") == 1
    await mine_and_poll(client, txm)


async def test_a_crash_between_signing_and_broadcast_is_sent_on_restart(env, node):
    pool, client, manager = env
    txm = await manager()
    dead = StacksClient("http://127.0.0.1:9", retries=0)
    txm.client = dead  # the node is unreachable at broadcast time: the tx stays signed in the ledger
    row = await txm.submit(*price_call())
    await dead.close()
    assert await pool.fetchval("SELECT status FROM keeper.transactions WHERE id = $1", row["id"]) == "signed"
    restarted = await manager()
    assert (await client.nonces(txm.address))["possible_next_nonce"] == row["nonce"]
    await restarted.poll(restarted.tip)  # broadcasts what was signed
    await mine_and_poll(client, restarted)
    assert await pool.fetchval("SELECT status FROM keeper.transactions WHERE id = $1", row["id"]) == "confirmed"


async def test_a_nonce_gap_is_filled(env):
    pool, client, manager = env
    txm = await manager()
    base = (await client.nonces(txm.address))["possible_next_nonce"]
    await pool.execute("UPDATE keeper.signers SET next_nonce = next_nonce + 2 WHERE address = $1", txm.address)
    row = await txm.submit(*price_call())
    assert row["nonce"] == base + 2
    fills = await pool.fetch("SELECT nonce, kind FROM keeper.transactions WHERE kind = 'nonce-fill' ORDER BY nonce")
    assert [r["nonce"] for r in fills] == [base, base + 1]
    await txm.poll(txm.tip)  # the gap is at the node now: the real tx goes out
    await mine_and_poll(client, txm)
    rows = await pool.fetch("SELECT nonce, status FROM keeper.transactions ORDER BY nonce")
    assert [(r["nonce"], r["status"]) for r in rows] == [(base + i, "confirmed") for i in range(3)]
    assert (await client.account(txm.address)).nonce == base + 3


async def test_reconcile_adopts_nonces_used_outside_the_ledger(env):
    pool, client, manager = env
    txm = await manager()
    await txm.submit(*price_call())
    await mine_and_poll(client, txm)
    # another process sends with the same key (or the database was restored from an older backup)
    from stacks.transaction import PostConditionMode, make_contract_call

    nonce = (await client.nonces(txm.address))["possible_next_nonce"]
    await client.broadcast(make_contract_call(contract=DEVNET.oracle, function_name="submit-price",
                                              function_args=[A("BTC"), U(9_500_000_000_000)], sender_key=txm.signer.key,
                                              nonce=nonce, fee=3000, mainnet=False,
                                              post_condition_mode=PostConditionMode.ALLOW))
    again = await manager()
    assert await pool.fetchval("SELECT next_nonce FROM keeper.signers WHERE address = $1", txm.address) == nonce + 1
    assert await pool.fetchval("SELECT count(*) FROM keeper.audit WHERE kind = 'nonce-adopted'") == 1
    row = await again.submit(*price_call())
    assert row["nonce"] == nonce + 1
    await mine_and_poll(client, again)


async def test_an_empty_signer_is_paused_with_an_alert_and_resumes_when_funded(env):
    pool, client, manager = env
    key = parse_private_key(os.urandom(32).hex() + "01")
    empty = Signer("oracle", key.address(AddressVersion.TESTNET_SINGLE_SIG), "test", key)
    txm = await manager(empty, min_balance=100_000)
    row = await txm.submit(*price_call())
    assert await pool.fetchval("SELECT status FROM keeper.transactions WHERE id = $1", row["id"]) == "signed"
    assert await pool.fetchval("SELECT paused FROM keeper.signers WHERE address = $1", empty.address)
    assert await pool.fetchval("SELECT count(*) FROM keeper.alerts WHERE kind = 'signer-empty' "
                               "AND resolved_at IS NULL") == 1
    with pytest.raises(Busy):
        await txm.submit(*price_call())
    await client.faucet(empty.address, 10_000_000)
    await mine_and_poll(client, txm)  # funded: resumed, and the signed tx goes out
    assert not await pool.fetchval("SELECT paused FROM keeper.signers WHERE address = $1", empty.address)
    assert await pool.fetchval("SELECT count(*) FROM keeper.alerts WHERE kind = 'signer-empty' "
                               "AND resolved_at IS NULL") == 0
    await mine_and_poll(client, txm)
    # not authorized as oracle submitter: mined as an error, and followed to the end all the same
    assert await pool.fetchval("SELECT tx_status FROM keeper.transactions WHERE id = $1", row["id"]) \
        == "abort_by_response"


async def test_in_flight_limit_and_the_nodes_chaining_limit(env):
    pool, client, manager = env
    txm = await manager(max_in_flight=3)
    for _ in range(3):
        await txm.submit(*price_call())
    with pytest.raises(Busy):
        await txm.submit(*price_call())
    await mine_and_poll(client, txm)
    wide = await manager(max_in_flight=30)  # beyond the node's 25: the rest wait signed, then go out
    for _ in range(27):
        await wide.submit(*price_call())
    statuses = [r[0] for r in await pool.fetch("SELECT status FROM keeper.transactions WHERE status IN "
                                               "('signed', 'pending') ORDER BY nonce")]
    assert statuses.count("pending") == 25 and statuses.count("signed") == 2
    await mine_and_poll(client, wide)
    await mine_and_poll(client, wide)
    assert await pool.fetchval("SELECT count(*) FROM keeper.transactions WHERE status <> 'confirmed'") == 0


async def test_a_reorg_puts_a_confirmed_tx_back_to_pending_until_it_confirms_again(env):
    pool, client, manager = env
    txm = await manager()
    row = await txm.submit(*price_call())
    await mine_and_poll(client, txm)
    first = await pool.fetchrow("SELECT confirmed_block_hash FROM keeper.transactions WHERE id = $1", row["id"])
    fork = await client.fork(2)
    await txm.poll(fork["tip_height"] if "tip_height" in fork else (await client.info())["stacks_tip_height"])
    assert await pool.fetchval("SELECT count(*) FROM keeper.audit WHERE kind = 'orphaned'") == 1
    await mine_and_poll(client, txm)
    again = await pool.fetchrow("SELECT status, confirmed_block_hash FROM keeper.transactions WHERE id = $1",
                                row["id"])
    assert again["status"] == "confirmed" and again["confirmed_block_hash"] != first["confirmed_block_hash"]


async def test_an_intent_is_sent_once(env):
    pool, client, manager = env
    txm = await manager(signer=devnet_signers()["settler"])
    call = ("settle-expired", DEVNET.registry, "settle-expired",
            [U(1), U(1), U(1), clarity.List([U(7), U(8)])])
    first = await txm.submit(*call, intent=Intent("settle", 1, [7, 8], 1, 1))
    assert first is not None
    assert await txm.submit(*call, intent=Intent("settle", 1, [7, 8], 1, 1)) is None
    await pool.execute("UPDATE keeper.intents SET status = 'retry'")
    again = await txm.submit(*call, intent=Intent("settle", 1, [7, 8], 1, 1))
    assert again is not None and again["intent_id"] == first["intent_id"]
    assert await pool.fetchval("SELECT attempts FROM keeper.intents") == 2
    await mine_and_poll(client, txm)


async def test_dry_run_signs_and_stores_nothing(env):
    pool, client, manager = env
    txm = await manager(dry_run=True)
    assert await txm.submit(*price_call()) is None
    assert await pool.fetchval("SELECT count(*) FROM keeper.transactions") == 0
