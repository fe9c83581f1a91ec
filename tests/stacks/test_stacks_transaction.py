"""Transactions: every fixture tx, wire vectors, errors, signing and re-signing."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings

from stacks import clarity, transaction
from stacks.errors import DecodeError, SignatureError
from stacks.hashing import hash160
from stacks.keys import parse_private_key
from stacks.transaction import (
    AnchorMode,
    FungibleConditionCode,
    OriginPrincipal,
    PostConditionMode,
    SingleSigSpendingCondition,
    STXPostCondition,
    decode_transaction,
    make_contract_call,
    make_token_transfer,
    sign,
    verify,
    with_fee,
)
from tests.stacks import fixture_data
from tests.stacks.strategies import transactions

needs_fixtures = pytest.mark.skipif(
    not fixture_data.available(), reason="../shared/fixtures/stacks not present"
)
KEY = "b244296d5907de9864c0b0d51f98a13c52890be0404e83f273144cd5b9960eed01"


def _fixture_transactions():
    items = [i for i in fixture_data.raw_items() if i.kind in ("raw_tx", "mempool_tx")]
    burn_ops = [i for i in items if i.hex == fixture_data.BURNCHAIN_OP_RAW_TX]
    return [i for i in items if i.hex != fixture_data.BURNCHAIN_OP_RAW_TX], burn_ops


@needs_fixtures
def test_every_fixture_transaction_round_trips_and_verifies():
    items, burn_ops = _fixture_transactions()
    assert burn_ops, "fixtures are expected to contain burnchain ops (raw_tx 0x00), skipped here"
    payload_types, verified = set(), 0
    for item in items:
        raw = bytes.fromhex(item.hex[2:])
        tx = decode_transaction(raw)
        assert tx.serialize() == raw, item.source
        if item.txid:
            assert "0x" + tx.txid == item.txid, item.source
        payload_types.add(type(tx.payload).__name__ + str(getattr(tx.payload, "payload_type", "")))
        # Boot and genesis transactions carry no signature at all.
        if tx.auth.origin.signer != bytes(20):
            verify(tx)
            verified += 1
    assert verified > 350
    assert len(payload_types) >= 8, payload_types


@needs_fixtures
def test_wire_vector_transactions():
    for case in fixture_data.vectors()["transactions"]:
        tx = decode_transaction(case["hex"])
        assert tx.txid == case["txid"][2:]
        assert tx.chain_id == int(case["chain_id"], 16)
        assert tx.auth.auth_type == int(case["auth_type"], 16)
        assert tx.auth.origin.signer.hex() == case["origin"]["signer_hash160"]
        assert tx.auth.origin.nonce == case["origin"]["nonce"]
        assert tx.auth.origin.fee == case["origin"]["fee"]
        result = verify(tx)
        public_key = result.origin[0]
        assert transaction.recover_origin_public_key(tx) == public_key
        assert (result.sponsor is not None) == bool(case["signature_verified"]["sponsor"])
        if "contract_call" in case:
            call = case["contract_call"]
            assert str(tx.payload.contract) == call["contract_id"]
            assert tx.payload.function_name == call["function_name"]
        if "coinbase" in case:
            assert str(tx.payload.recipient) == case["coinbase"]["alt_recipient"]


@needs_fixtures
def test_tampering_breaks_verification():
    case = fixture_data.vectors()["transactions"][2]
    tx = decode_transaction(case["hex"])
    with pytest.raises(SignatureError):
        verify(with_fee(tx, tx.auth.origin.fee + 1))


def test_build_sign_and_resign_with_higher_fee():
    tx = make_contract_call(
        contract="ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM.insurance",
        function_name="create-policy",
        function_args=[clarity.UInt(100), clarity.Tuple({"b": clarity.UInt(1), "a": clarity.UInt(2)})],
        sender_key=KEY,
        nonce=7,
        fee=2000,
        mainnet=False,
        post_condition_mode=PostConditionMode.ALLOW,
        post_conditions=[STXPostCondition(OriginPrincipal(), FungibleConditionCode.LE, 10)],
    )
    assert list(tx.payload.args[1].data) == ["a", "b"]  # canonicalized
    assert decode_transaction(tx.serialize()) == tx
    assert verify(tx).origin[0] == parse_private_key(KEY).public_key
    bumped = sign(with_fee(tx, 5000), KEY)
    assert bumped.auth.origin.nonce == 7 and bumped.auth.origin.fee == 5000
    assert bumped.txid != tx.txid
    verify(bumped)
    with pytest.raises(SignatureError):
        sign(tx, "11" * 32 + "01")


def test_token_transfer_and_sponsor():
    tx = make_token_transfer(
        recipient="SP3GWTV1SMF9HDS4VY5NMM833CHH266W4YBASVYMZ",
        amount=12345,
        memo="hi",
        sender_key=KEY,
        nonce=1,
        fee=180,
        mainnet=True,
        anchor_mode=AnchorMode.ON_CHAIN_ONLY,
    )
    assert tx.chain_id == transaction.CHAIN_ID_MAINNET
    assert tx.payload.memo == b"hi" + bytes(32)
    verify(tx)
    sponsor_key = "22" * 32 + "01"
    from stacks.keys import parse_private_key

    sponsor = SingleSigSpendingCondition(
        transaction.HashMode.P2PKH,
        hash160(parse_private_key(sponsor_key).public_key),
        3,
        900,
        transaction.KeyEncoding.COMPRESSED,
    )
    unsigned = dataclasses.replace(tx, auth=transaction.Authorization(tx.auth.origin, sponsor))
    sponsored = transaction.sign_sponsor(sign(unsigned, KEY), sponsor_key)
    result = verify(decode_transaction(sponsored.serialize()))
    assert result.sponsor == [parse_private_key(sponsor_key).public_key]


def test_tuple_key_order_inside_transactions_is_preserved():
    tx = make_contract_call(
        contract="SP000000000000000000002Q6VF78.bns",
        function_name="f",
        function_args=[clarity.Tuple({"a": clarity.UInt(1), "B": clarity.UInt(2)})],
        sender_key=KEY,
        nonce=0,
        fee=0,
        mainnet=True,
    )
    raw = tx.serialize()
    canonical = clarity.encode(tx.payload.args[0])
    swapped = (
        clarity.encode(clarity.Tuple({"a": clarity.UInt(1)}))[5:]
        + clarity.encode(clarity.Tuple({"B": clarity.UInt(2)}))[5:]
    )
    reordered = raw.replace(canonical, canonical[:5] + swapped)
    decoded = decode_transaction(reordered)
    assert list(decoded.payload.args[0].data) == ["a", "B"]
    assert decoded.serialize() == reordered
    with pytest.raises(DecodeError, match="strictly increasing"):
        clarity.decode(canonical[:5] + swapped)


@pytest.mark.parametrize(
    ("hex_input", "offset", "expected"),
    [
        ("", 0, "a transaction version (0x00 or 0x80)"),
        ("01", 0, "a transaction version (0x00 or 0x80)"),
        ("0000000001", 5, "an authorization type (0x04 or 0x05)"),
        ("000000000106", 5, "an authorization type (0x04 or 0x05)"),
        ("00000000010409", 6, "a hash mode (0x00-0x03, 0x05, 0x07)"),
        ("0000000001040000", 7, "a signer hash160"),
    ],
)
def test_decode_errors(hex_input, offset, expected):
    with pytest.raises(DecodeError) as info:
        decode_transaction(hex_input)
    assert (info.value.offset, info.value.expected) == (offset, expected)


def test_unknown_payload_type_and_trailing_bytes():
    tx = make_token_transfer(
        recipient="SP000000000000000000002Q6VF78", amount=1, sender_key=KEY, nonce=0, fee=0, mainnet=True
    )
    raw = tx.serialize()
    payload_at = len(raw) - 1 - 22 - 8 - 34
    with pytest.raises(DecodeError) as info:
        decode_transaction(raw[:payload_at] + b"\x09" + raw[payload_at + 1 :])
    assert info.value.offset == payload_at and "payload type" in info.value.expected
    with pytest.raises(DecodeError, match="trailing"):
        decode_transaction(raw + b"\x00")


@settings(max_examples=150, deadline=None)
@given(transactions)
def test_transaction_round_trip_property(tx):
    raw = tx.serialize()
    decoded = decode_transaction(raw)
    assert decoded.serialize() == raw
    assert decoded == tx
