"""Forks of depth 1, 6 and 200: a real competing branch with a consistent parent chain, delivered in order,
with the orphaned transactions back in the mempool."""

from __future__ import annotations

import pytest

from tests.support.devnet import DEPLOYER, Signer, new_key


async def _fork_and_check(client, observer, depth: int) -> None:
    st = await client.devnet_status()
    if st["tip"] - depth <= st["genesis_height"] + 1:
        await client.mine(depth - (st["tip"] - st["genesis_height"]) + 2)
    # a transaction in the tip block, which the fork orphans
    s = Signer(new_key())
    await client.faucet(s.address, 10_000_000)
    await client.mine(depth)  # the funding stays below the fork point
    tx = s.transfer(DEPLOYER, 1234)
    txid = await client.broadcast(tx)
    await client.mine()
    mined = await client.transaction(txid)
    assert mined["tx_status"] == "success"
    tip = (await client.status())["chain_tip"]
    fork_point = tip["block_height"] - depth
    assert mined["block_height"] > fork_point
    old = {h: (await client.block(h))["index_block_hash"] for h in range(fork_point, tip["block_height"] + 1)}
    seen = len(observer.requests)

    r = await client.fork(depth)

    assert r["fork_point"] == fork_point and r["tip"] == tip["block_height"] + 1
    assert r["fork_point_index_block_hash"] == old[fork_point]
    assert set(r["orphaned_blocks"]) == {old[h] for h in range(fork_point + 1, tip["block_height"] + 1)}
    # what the observer got: the new branch, in order, chained to the fork point
    new_blocks = [b for p, b in observer.requests[seen:] if p == "/new_block"]
    assert [b["block_height"] for b in new_blocks] == list(range(fork_point + 1, tip["block_height"] + 2))
    parent = old[fork_point]
    for b in new_blocks:
        assert b["parent_index_block_hash"] == parent
        assert b["index_block_hash"] not in old.values()
        parent = b["index_block_hash"]
    # burn blocks of the branch come before the blocks that use them, with new hashes
    order = [(p, b) for p, b in observer.requests[seen:] if p in ("/new_block", "/new_burn_block")]
    burn_seen = set()
    for p, b in order:
        if p == "/new_burn_block":
            burn_seen.add(b["burn_block_hash"])
        elif b["burn_block_height"] > new_blocks[0]["burn_block_height"] or b is new_blocks[-1]:
            assert b["burn_block_hash"] in burn_seen or b["burn_block_height"] <= new_blocks[0]["burn_block_height"]
    # the first branch block carries a different transaction (the fork marker)
    assert any(b["transactions"] for b in new_blocks)
    # the Hiro view is the new chain; orphaned blocks are 404
    for h in range(fork_point + 1, r["tip"] + 1):
        hb = await client.block(h)
        prev = await client.block(h - 1)
        assert hb["parent_index_block_hash"] == prev["index_block_hash"]
    for ih in r["orphaned_blocks"][:5]:
        assert await client.block(ih) is None
    # the orphaned transaction is pending again, and mines on the new chain
    back = await client.transaction(txid)
    assert back["tx_status"] == "pending"
    assert r["returned_to_mempool"] >= 1
    await client.mine()
    again = await client.transaction(txid)
    assert again["tx_status"] == "success" and again["block_height"] > fork_point
    assert (await client.account(s.address)).nonce == 1


@pytest.mark.parametrize("depth", [1, 6, 200])
async def test_fork(client, observer, depth):
    await _fork_and_check(client, observer, depth)


async def test_fork_below_genesis_is_refused(client):
    st = await client.devnet_status()
    status, body = await client.request("POST", "/devnet/fork", json={"depth": st["tip"] + 5})
    assert status == 400 and "genesis" in body["error"]
    status, body = await client.request("POST", "/devnet/fork", json={"depth": 0})
    assert status == 400
