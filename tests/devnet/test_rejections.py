"""Every mempool rejection reason, with the stacks-node error JSON, and replace-by-fee."""

from __future__ import annotations

import pytest

from stacks import clarity
from stacks.rpc import (
    BadFunctionArgument,
    BadNonce,
    BadTransactionVersion,
    ConflictingNonceInMempool,
    ContractAlreadyExists,
    Deserialization,
    FeeTooLow,
    NoSuchContract,
    NoSuchPublicFunction,
    NotEnoughFunds,
    SignatureValidation,
    TooMuchChaining,
    TransactionRejected,
)
from stacks.transaction import (
    PostConditionMode,
    SmartContractPayload,
    make_contract_call,
    make_unsigned,
    sign,
)
from tests.support.devnet import DEPLOYER, ORACLE, Signer, ascii_, new_key, uint


async def funded(client, amount=50_000_000) -> Signer:
    s = Signer(new_key())
    await client.faucet(s.address, amount)
    await client.mine()
    return s


async def test_bad_nonce_too_low_and_gap(client, accounts):
    s = await Signer.for_account(client, accounts["wallet_6"]["private_key"])
    await client.broadcast(s.transfer(DEPLOYER, 1))
    await client.mine()
    with pytest.raises(BadNonce) as low:
        await client.broadcast(s.transfer(DEPLOYER, 1, nonce=s.nonce - 1))
    assert low.value.expected == s.nonce and low.value.actual == s.nonce - 1
    assert low.value.reason_data["principal"] == s.address and low.value.reason_data["is_origin"] is True
    assert low.value.body["error"] == "transaction rejected" and low.value.txid
    with pytest.raises(BadNonce) as gap:
        await client.broadcast(s.transfer(DEPLOYER, 1, nonce=s.nonce + 1))
    assert gap.value.expected == s.nonce


async def test_not_enough_funds(client):
    s = Signer(new_key())  # never funded
    with pytest.raises(NotEnoughFunds) as e:
        await client.broadcast(s.transfer(DEPLOYER, 5))
    assert e.value.actual == 0 and e.value.expected == 5 + 3000
    f = await funded(client, 10_000)
    with pytest.raises(NotEnoughFunds):
        await client.broadcast(f.transfer(DEPLOYER, 9_000, fee=2_000))


async def test_signature_validation(client, accounts):
    s = await Signer.for_account(client, accounts["wallet_6"]["private_key"])
    raw = bytearray(s.call(ORACLE, "get-latest", [ascii_("BTC")]).serialize())
    raw[-1] ^= 0x01  # tamper with the last argument byte: the signature no longer matches
    with pytest.raises(SignatureValidation):
        await client.broadcast(bytes(raw))


async def test_contract_and_function_checks(client, accounts):
    s = await Signer.for_account(client, accounts["wallet_6"]["private_key"])
    with pytest.raises(NoSuchContract):
        await client.broadcast(s.call(f"{DEPLOYER}.no-such-contract", "f", [], nonce=s.nonce))
    with pytest.raises(NoSuchPublicFunction):
        await client.broadcast(s.call(ORACLE, "no-such-fn", [], nonce=s.nonce))
    with pytest.raises(NoSuchPublicFunction):  # read-only is not public
        await client.broadcast(s.call(ORACLE, "get-latest", [ascii_("BTC")], nonce=s.nonce))
    with pytest.raises(BadFunctionArgument):  # arity
        await client.broadcast(s.call(ORACLE, "submit-price", [ascii_("BTC")], nonce=s.nonce))
    with pytest.raises(BadFunctionArgument):  # type
        await client.broadcast(s.call(ORACLE, "submit-price", [uint(1), uint(2)], nonce=s.nonce))
    with pytest.raises(BadFunctionArgument):  # string longer than the declared (string-ascii 8)
        await client.broadcast(s.call(ORACLE, "submit-price", [ascii_("X" * 9), uint(2)], nonce=s.nonce))


async def test_fee_too_low_version_and_garbage(client, accounts):
    s = await Signer.for_account(client, accounts["wallet_6"]["private_key"])
    with pytest.raises(FeeTooLow) as e:
        await client.broadcast(s.transfer(DEPLOYER, 1, fee=10, nonce=s.nonce))
    assert e.value.expected > 10
    mainnet = make_contract_call(contract=ORACLE, function_name="submit-price", function_args=[ascii_("BTC"), uint(1)],
                                 sender_key=s.key, nonce=s.nonce, fee=3000, mainnet=True)
    with pytest.raises(BadTransactionVersion):
        await client.broadcast(mainnet)
    with pytest.raises(Deserialization):
        await client.broadcast(b"\x80\x00garbage")


async def test_contract_already_exists(client, accounts):
    deployer = await Signer.for_account(client, accounts["deployer"]["private_key"])
    unsigned = make_unsigned(SmartContractPayload("bithedge-oracle", "(define-read-only (f) u1)", 3),
                             public_key=deployer.key.public_key, nonce=deployer.nonce, fee=5000, mainnet=False)
    with pytest.raises(ContractAlreadyExists):
        await client.broadcast(sign(unsigned, deployer.key))


async def test_conflicting_nonce_chaining_and_replace_by_fee(client, observer):
    s = await funded(client)
    first = s.transfer(DEPLOYER, 1, fee=3000)
    await client.broadcast(first)
    # same nonce, same fee: conflict; higher fee: replaces
    with pytest.raises(ConflictingNonceInMempool):
        await client.broadcast(s.transfer(DEPLOYER, 2, fee=3000, nonce=first_nonce(first)))
    bumped = s.transfer(DEPLOYER, 3, fee=5000, nonce=first_nonce(first))
    bumped_id = await client.broadcast(bumped)
    assert (await client.transaction(first.txid)) is None
    assert (await client.transaction(bumped_id))["tx_status"] == "pending"
    drop = {"dropped_txids": ["0x" + first.txid], "reason": "ReplaceByFee", "new_txid": "0x" + bumped_id}
    await observer.wait_for(lambda: drop in observer.paths("/drop_mempool_tx"))
    # chain up to the limit (25 pending per sender), then TooMuchChaining
    for _ in range(24):
        await client.broadcast(s.transfer(DEPLOYER, 1))
    with pytest.raises(TooMuchChaining):
        await client.broadcast(s.transfer(DEPLOYER, 1, nonce=s.nonce))
    await client.mine()
    mined = await client.transaction(bumped_id)
    assert mined["tx_status"] == "success" and mined["token_transfer"]["amount"] == "3"
    assert (await client.account(s.address)).nonce == 25
    assert (await client.nonces(s.address))["possible_next_nonce"] == 25


def first_nonce(tx) -> int:
    return tx.auth.origin.nonce


async def test_post_condition_abort_and_runtime_error(client, observer, accounts):
    """A deny-mode tx that moves STX aborts by post-condition; a Clarity runtime error is mined as a
    failed tx (fee paid, nonce used, vm_error set) while the rest of its block still executes."""
    dep = await funded(client, 100_000_000)
    code = "(define-public (boom (d uint)) (ok (/ u10 d)))\n(define-public (pay (amt uint)) (stx-transfer? amt tx-sender 'ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM))"
    unsigned = make_unsigned(SmartContractPayload("boomer", code, 3), public_key=dep.key.public_key,
                             nonce=dep.nonce, fee=10_000, mainnet=False)
    dep.nonce += 1
    await client.broadcast(sign(unsigned, dep.key))
    await client.mine()
    cid = f"{dep.address}.boomer"
    ok1 = await client.broadcast(dep.call(cid, "boom", [uint(2)]))
    bad = await client.broadcast(dep.call(cid, "boom", [uint(0)]))
    ok2 = await client.broadcast(dep.call(cid, "boom", [uint(5)]))
    deny = await client.broadcast(dep.call(cid, "pay", [uint(10)], mode=PostConditionMode.DENY))
    allow = await client.broadcast(dep.call(cid, "pay", [uint(10)]))
    before = (await client.devnet_status())["stats"]["runtime_failures"]
    await client.mine()
    assert (await client.devnet_status())["stats"]["runtime_failures"] >= before + 1
    got = {t: await client.transaction(t) for t in (ok1, bad, ok2, deny, allow)}
    assert got[ok1]["tx_status"] == "success" and got[ok1]["tx_result"]["repr"] == "(ok u5)"
    assert got[ok2]["tx_status"] == "success" and got[ok2]["tx_result"]["repr"] == "(ok u2)"
    assert got[bad]["tx_status"] == "abort_by_response" and "DivisionByZero" in got[bad]["vm_error"]
    assert got[deny]["tx_status"] == "abort_by_post_condition" and got[deny]["event_count"] == 0
    assert got[allow]["tx_status"] == "success" and got[allow]["event_count"] == 1
    assert len({got[t]["block_height"] for t in got}) == 1
    assert (await client.account(dep.address)).nonce == dep.nonce
    block = observer.blocks()[-1]
    statuses = {t["txid"][2:]: (t["status"], t["vm_error"]) for t in block["transactions"]}
    assert statuses[bad][0] == "abort_by_response" and statuses[bad][1]
    assert statuses[deny][0] == "abort_by_post_condition"
    assert not [e for e in block["events"] if e["txid"][2:] in (bad, deny)]
    value = clarity.decode(bytes.fromhex(got[ok1]["tx_result"]["hex"][2:]))
    assert isinstance(value, clarity.ResponseOk)


async def test_rejection_is_typed_for_unknown_reasons():
    from stacks.rpc import rejection_from

    e = rejection_from({"error": "transaction rejected", "reason": "SomethingNew", "txid": "ab"})
    assert type(e) is TransactionRejected and e.reason == "SomethingNew" and e.txid == "ab"


async def test_signatures_recovered_on_the_worker_thread(client, accounts):
    """Once the signature worker is up, good and tampered signatures submitted together in one
    admission batch get the same answers as on the main thread (alignment within the batch)."""
    import asyncio

    for _ in range(600):
        if (await client.devnet_status())["sig_worker"] == "ready":
            break
        await asyncio.sleep(0.1)
    assert (await client.devnet_status())["sig_worker"] == "ready"
    signers = [Signer(new_key()) for _ in range(6)]
    for s in signers:
        await client.faucet(s.address, 50_000_000)
    await client.mine()
    bad_idx = {1, 4}
    txs = []
    for i, s in enumerate(signers):
        raw = bytearray(s.transfer(DEPLOYER, 1).serialize())
        if i in bad_idx:
            raw[-40] ^= 0x01  # inside the memo: the signature no longer matches
        txs.append(bytes(raw))
    results = await asyncio.gather(*(client.broadcast(t) for t in txs), return_exceptions=True)
    for i, r in enumerate(results):
        if i in bad_idx:
            assert isinstance(r, SignatureValidation), (i, r)
        else:
            assert isinstance(r, str) and len(r.removeprefix("0x")) == 64, (i, r)
    await client.mine()  # leave the shared devnet's mempool empty
