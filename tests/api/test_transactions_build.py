"""The unsigned transactions of `POST /v1/transactions/*` (api/transactions.py), without a node: what the bytes
hold, who may sign them, and which bodies are refused before anything is built."""

from __future__ import annotations

import hashlib

import pytest
from pydantic import ValidationError

from api.transactions import (
    Call,
    DepositBody,
    Refused,
    WithdrawBody,
    _post_condition_json,
    unsigned,
)
from bithedge.protocol.deployment import DEVNET
from stacks import clarity
from stacks.errors import SignatureError
from stacks.keys import parse_private_key
from stacks.transaction import (
    FungibleConditionCode,
    FungiblePostCondition,
    KeyEncoding,
    PostConditionMode,
    STXPostCondition,
    decode_transaction,
    sign,
    verify,
)

#: throwaway keys derived from labels (no key material in the repository)
KEY = parse_private_key(hashlib.sha256(b"bithedge-test:sender").hexdigest() + "01")
SENDER = KEY.address(26)
OTHER = parse_private_key(hashlib.sha256(b"bithedge-test:other").hexdigest() + "01")


def call(token: str = "STX", amount: int = 5_000) -> Call:
    return Call(SENDER, DEVNET.vault, "deposit", [clarity.StringAscii(token), clarity.StringAscii("balanced"),
                                                  clarity.UInt(amount)],
                [(SENDER, token, FungibleConditionCode.EQ, amount)])


def test_the_unsigned_call_is_the_senders_deny_mode_call_and_signs_to_a_valid_transaction() -> None:
    tx = unsigned(call(), nonce=7, fee=1_234, mainnet=False)
    raw = tx.serialize()
    back = decode_transaction(raw)
    assert back.serialize() == raw and back.auth.origin.nonce == 7 and back.auth.origin.fee == 1_234
    assert back.post_condition_mode == PostConditionMode.DENY
    assert back.post_conditions == (STXPostCondition(back.post_conditions[0].principal, FungibleConditionCode.EQ,
                                                     5_000),)
    assert back.auth.origin.signer == KEY.public_key_hash and back.auth.origin.key_encoding == KeyEncoding.COMPRESSED
    signed = sign(back, KEY)
    assert verify(signed).origin == [KEY.public_key]
    with pytest.raises(SignatureError):  # another key cannot sign for this sender
        sign(back, OTHER)


def test_sbtc_moves_are_pinned_on_the_sbtc_asset() -> None:
    tx = unsigned(call("sBTC", 70), nonce=0, fee=200, mainnet=False)
    (pc,) = tx.post_conditions
    assert isinstance(pc, FungiblePostCondition) and str(pc.asset).endswith("sbtc-token::sbtc-token")
    assert _post_condition_json(SENDER, "sBTC", FungibleConditionCode.GE, 70).model_dump(mode="json") == {
        "type": "ft-postcondition", "address": SENDER, "condition": "gte",
        "asset": "SM3VDXK3WZZSA84XXFKAFAF15NNZX32CTSG82JFQ4.sbtc-token::sbtc-token", "amount": "70"}


def test_a_public_key_must_be_the_senders() -> None:
    uncompressed = parse_private_key(KEY.to_hex()[:64])  # a bare 32-byte key signs with the uncompressed key
    c = Call(uncompressed.address(26), DEVNET.vault, "cancel-withdrawal",
             [clarity.StringAscii("STX"), clarity.StringAscii("balanced")], [])
    tx = unsigned(c, nonce=0, fee=200, mainnet=False, public_key=uncompressed.public_key.hex())
    assert tx.auth.origin.key_encoding == KeyEncoding.UNCOMPRESSED and tx.post_conditions == ()
    with pytest.raises(Refused) as err:
        unsigned(call(), nonce=0, fee=200, mainnet=False, public_key=OTHER.public_key.hex())
    assert err.value.rule == "public-key"


@pytest.mark.parametrize("bad", [
    {"sender": "ST3PF13W7Z0RRM42A8VZRVFQ75SV1K26RXEP8YGKX"},  # checksum
    {"sender": DEVNET.vault},  # a contract does not sign transactions
    {"amount": "0"}, {"amount": str(2**64)}, {"amount": "1.5"}, {"token": "BTC"}, {"nonce": -1},
    {"public_key": "zz"}, {"unknown": True},
])
def test_bad_bodies_are_refused(bad) -> None:
    body = {"sender": SENDER, "token": "STX", "tier": "balanced", "amount": "100", **bad}
    with pytest.raises(ValidationError):
        DepositBody.model_validate(body)


def test_a_withdrawal_floor_fits_a_post_condition() -> None:
    body = {"sender": SENDER, "token": "STX", "tier": "balanced", "shares": "10"}
    assert WithdrawBody.model_validate({**body, "min_amount": str(2**64 - 1)}).min_amount == 2**64 - 1
    with pytest.raises(ValidationError):
        WithdrawBody.model_validate({**body, "min_amount": str(2**64)})
