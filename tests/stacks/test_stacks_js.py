"""Cross-checks with @stacks/transactions (pinned in tests/stacks/js/package.json).

The generator builds random values and signed transactions in JS; Python rebuilds them
from the same inputs and must produce identical bytes and verify the signatures.  Then
Python signs transactions of its own and the JS side verifies them.
"""

from __future__ import annotations

import json
import random
import subprocess

from stacks import clarity
from stacks.address import parse_principal
from stacks.transaction import (
    AnchorMode,
    AssetInfo,
    FungibleConditionCode,
    FungiblePostCondition,
    NonFungibleConditionCode,
    NonFungiblePostCondition,
    OriginPrincipal,
    PostConditionMode,
    PoxConditionCode,
    PoxPostCondition,
    StakingPostCondition,
    STXPostCondition,
    decode_transaction,
    make_contract_call,
    make_token_transfer,
    sign,
    verify,
    with_fee,
)

SEED, VALUES, TRANSACTIONS = 20260901, 300, 200
FUNGIBLE = {"eq": "EQ", "gt": "GT", "gte": "GE", "lt": "LT", "lte": "LE"}
POX = {"will-not-perform": "NOT_PERFORMED", "may-perform": "MAYBE_PERFORMED", "will-perform": "PERFORMED"}


def _post_condition(spec: dict):
    who = OriginPrincipal() if spec["address"] == "origin" else parse_principal(spec["address"])
    kind = spec["type"]
    if kind in ("ft-postcondition", "nft-postcondition"):
        contract, asset_name = spec["asset"].split("::")
        asset = AssetInfo(parse_principal(contract), asset_name)
    if kind == "stx-postcondition":
        return STXPostCondition(who, FungibleConditionCode[FUNGIBLE[spec["condition"]]], int(spec["amount"]))
    if kind == "staking-postcondition":
        return StakingPostCondition(
            who, FungibleConditionCode[FUNGIBLE[spec["condition"]]], int(spec["amount"])
        )
    if kind == "ft-postcondition":
        code = FungibleConditionCode[FUNGIBLE[spec["condition"]]]
        return FungiblePostCondition(who, asset, code, int(spec["amount"]))
    if kind == "nft-postcondition":
        code = NonFungibleConditionCode[spec["condition"].upper().replace("-", "_")]
        return NonFungiblePostCondition(who, asset, clarity.from_json(spec["assetId"]), code)
    return PoxPostCondition(who, PoxConditionCode[POX[spec["condition"]]])


def _rebuild(inputs: dict):
    common = dict(
        sender_key=inputs["senderKey"],
        nonce=int(inputs["nonce"]),
        fee=int(inputs["fee"]),
        mainnet=inputs["network"] == "mainnet",
        anchor_mode=AnchorMode(inputs["anchorMode"]),
        post_condition_mode=PostConditionMode[inputs["postConditionMode"].upper()],
        post_conditions=[_post_condition(pc) for pc in inputs["postConditions"]],
    )
    if inputs["kind"] == "token-transfer":
        return make_token_transfer(
            recipient=inputs["recipient"], amount=int(inputs["amount"]), memo=inputs["memo"], **common
        )
    return make_contract_call(
        contract=inputs["contract"],
        function_name=inputs["functionName"],
        function_args=[clarity.from_json(arg) for arg in inputs["functionArgs"]],
        **common,
    )


def test_python_reproduces_stacks_js_bytes(js_dir):
    result = subprocess.run(
        ["node", "generate.mjs", str(SEED), str(VALUES), str(TRANSACTIONS)],
        cwd=js_dir,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    cases = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(cases) == VALUES + TRANSACTIONS
    for case in cases:
        if case["kind"] == "value":
            value = clarity.from_json(case["spec"])
            assert clarity.encode(value).hex() == case["hex"], case["spec"]
            assert clarity.decode(case["hex"]) == value
            continue
        tx = _rebuild(case["inputs"])
        assert tx.serialize().hex() == case["hex"], case["inputs"]
        assert tx.txid == case["txid"]
        decoded = decode_transaction(case["hex"])
        assert decoded == tx
        verify(decoded)


def test_stacks_js_verifies_python_signatures(js_dir):
    rng = random.Random(SEED)
    signed = []
    for i in range(60):
        key = rng.randbytes(32).hex() + ("01" if i % 3 else "")
        common = dict(
            sender_key=key, nonce=rng.randrange(2**40), fee=rng.randrange(10**6), mainnet=bool(i % 2)
        )
        if i % 2:
            tx = make_token_transfer(
                recipient="ST000000000000000000002AMW42H", amount=i + 1, memo=f"m{i}", **common
            )
        else:
            tx = make_contract_call(
                contract="SP000000000000000000002Q6VF78.bns",
                function_name="name-renewal",
                function_args=[clarity.Buffer(rng.randbytes(4)), clarity.UInt(i), clarity.OptionalNone()],
                post_conditions=[STXPostCondition(OriginPrincipal(), FungibleConditionCode.LE, i)],
                **common,
            )
        signed.append(tx)
        signed.append(sign(with_fee(tx, tx.auth.origin.fee + 1), key))  # replace-by-fee
    result = subprocess.run(
        ["node", "verify.mjs"],
        cwd=js_dir,
        input="\n".join(tx.serialize().hex() for tx in signed),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    verdicts = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(verdicts) == len(signed)
    for tx, verdict in zip(signed, verdicts, strict=True):
        assert verdict == {"ok": True, "roundTrip": True, "txid": tx.txid}
