"""Python signs -> the devnet verifies -> the contract executes -> a Python observer gets the events."""

from __future__ import annotations

from stacks import clarity
from tests.support.devnet import ORACLE, Signer, ascii_, uint


async def test_contract_call_end_to_end(client, observer, accounts):
    submitter = await Signer.for_account(client, accounts["wallet_2"]["private_key"])  # oracle submitter
    info = await client.info()
    tx = submitter.call(ORACLE, "submit-price", [ascii_("BTC"), uint(9_500_000_000_000)])
    txid = await client.broadcast(tx)
    assert txid == tx.txid

    pending = await client.transaction(txid)
    assert pending["tx_status"] == "pending"
    mined = await client.mine()
    assert mined["blocks"][-1]["txs"] == 1

    # the observer got the block (blocking delivery: before /devnet/mine returned)
    block = next(b for b in observer.blocks() if any(t["txid"] == "0x" + txid for t in b["transactions"]))
    assert block["block_height"] > info["stacks_tip_height"]
    t = next(t for t in block["transactions"] if t["txid"] == "0x" + txid)
    assert t["status"] == "success"
    assert t["raw_tx"] == "0x" + tx.serialize().hex()
    assert t["raw_result"].startswith("0x07")
    prints = [e for e in block["events"] if e["txid"] == "0x" + txid and e["type"] == "contract_event"]
    assert len(prints) == 1
    ev = clarity.to_plain(clarity.decode(bytes.fromhex(prints[0]["contract_event"]["raw_value"][2:])))
    assert ev["event"] == "price-submitted"
    assert ev["price"] == "9500000000000"
    # fees are real: no STX transfer event is reported for the fee, but the balance moved
    assert all(e["type"] != "stx_transfer_event" for e in block["events"] if e["txid"] == "0x" + txid)

    # the Hiro view of the same transaction
    h = await client.transaction(txid)
    assert h["tx_status"] == "success" and h["block_height"] == block["block_height"]
    assert h["events"][0]["event_type"] == "smart_contract_log"
    assert h["events"][0]["contract_log"]["value"]["hex"] == prints[0]["contract_event"]["raw_value"]
    assert h["contract_call"]["function_args"][0]["repr"] == '"BTC"'

    # read-only call sees the new state
    latest = await client.call_read(ORACLE, "get-latest", [ascii_("BTC")])
    assert "9500000000000" in str(clarity.to_plain(latest))

    acct = await client.account(submitter.address)
    assert acct.nonce == submitter.nonce


async def test_token_transfer_memo_and_fee(client, observer, accounts):
    sender = await Signer.for_account(client, accounts["wallet_8"]["private_key"])
    before = (await client.account(sender.address)).balance
    rcpt_before = (await client.account(accounts["wallet_7"]["address"])).balance
    tx = sender.transfer(accounts["wallet_7"]["address"], 12345, fee=777, memo=b"hello")
    txid = await client.broadcast(tx)
    await client.mine()
    after = (await client.account(sender.address)).balance
    assert before - after == 12345 + 777
    assert (await client.account(accounts["wallet_7"]["address"])).balance - rcpt_before == 12345
    block = next(b for b in observer.blocks() if any(t["txid"] == "0x" + txid for t in b["transactions"]))
    ev = [e for e in block["events"] if e["txid"] == "0x" + txid]
    assert [e["type"] for e in ev] == ["stx_transfer_event"]
    assert ev[0]["stx_transfer_event"]["memo"] == b"hello".ljust(34, b"\0").hex()
    assert ev[0]["stx_transfer_event"]["amount"] == "12345"


async def test_hiro_blocks_paging(client):
    await client.mine(3)
    status = await client.status()
    tip = status["chain_tip"]["block_height"]
    page = await client.blocks(limit=2)
    assert page["total"] == tip + 1 and [b["height"] for b in page["results"]] == [tip, tip - 1]
    page2 = await client.blocks(limit=2, offset=2)
    assert page2["results"][0]["height"] == tip - 2
    assert page["results"][1]["parent_index_block_hash"] == page2["results"][0]["index_block_hash"]
    b = await client.block(tip)
    assert b == await client.block(b["index_block_hash"]) == await client.block(b["hash"])
    assert await client.block(tip + 1000) is None
    status_code, _ = await client.request("GET", "/extended/v2/blocks", params={"limit": 31})
    assert status_code == 400
    iface = await client.contract_interface(ORACLE)
    assert any(f["name"] == "submit-price" and f["access"] == "public" for f in iface["functions"])
    est = await client.fee_estimate(b"\x02" * 60)
    assert len(est["estimations"]) == 3
