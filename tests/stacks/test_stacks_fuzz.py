"""Mutated real bytes: the decoders raise DecodeError or succeed, never anything else."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stacks import clarity
from stacks.errors import DecodeError
from stacks.transaction import decode_transaction
from tests.stacks import fixture_data

pytestmark = pytest.mark.skipif(not fixture_data.available(), reason="../shared/fixtures/stacks not present")


def _corpus(kinds: tuple[str, ...]) -> list[bytes]:
    if not fixture_data.available():
        return [b"\x00"]
    items = [
        i for i in fixture_data.raw_items() if i.kind in kinds and i.hex != fixture_data.BURNCHAIN_OP_RAW_TX
    ]
    # Keep large contract deploys out: they only slow the search down.
    return [raw for raw in (bytes.fromhex(i.hex[2:]) for i in items) if len(raw) < 4096]


VALUES = _corpus(("raw_value", "raw_result"))
TRANSACTIONS = _corpus(("raw_tx", "mempool_tx"))


@st.composite
def mutated(draw, corpus: list[bytes]) -> bytes:
    data = bytearray(draw(st.sampled_from(corpus)))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "set", "insert", "delete", "truncate"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "set" and data:
            data[at] = draw(st.sampled_from([0x00, 0x01, 0x7F, 0x80, 0xFF, 0x0C, 0x0B, 0x0A]))
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=4))
        elif op == "delete" and data:
            del data[at]
        elif op == "truncate":
            del data[at:]
    return bytes(data)


def _check(decoder, data: bytes) -> None:
    started = time.perf_counter()
    try:
        decoder(data)
    except DecodeError:
        pass
    assert time.perf_counter() - started < 1.0


CLARITY_DECODERS = (clarity.decode, clarity.decode_to_json, clarity.decode_to_plain)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated(VALUES))
def test_clarity_decoder_only_raises_decode_error(data):
    for decoder in CLARITY_DECODERS:
        _check(decoder, data)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated(TRANSACTIONS))
def test_transaction_decoder_only_raises_decode_error(data):
    _check(decode_transaction, data)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes(data):
    for decoder in CLARITY_DECODERS:
        _check(decoder, data)
    _check(decode_transaction, data)
