"""The single-pass JSON decoders equal the value-object path on every input.

``decode_to_json(x)`` must be ``to_json(decode(x))`` and ``decode_to_plain(x)`` must be
``to_plain(decode(x))`` -- same nodes, same key order -- and on bad input all three raise
the same :class:`DecodeError` (offset, expected, detail).
"""

from __future__ import annotations

import json

import fixture_data
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import values
from test_stacks_fuzz import VALUES, mutated

from stacks import c32, clarity
from stacks.clarity import codec
from stacks.errors import DecodeError


def _outcome(decoder, data):
    try:
        return "ok", decoder(data)
    except DecodeError as exc:
        return "error", (exc.offset, exc.expected, exc.detail)


def assert_equivalent(data: bytes) -> None:
    """All three entry points agree; JSON text compared too (key order reaches jsonb)."""
    value = _outcome(clarity.decode, data)
    typed = _outcome(clarity.decode_to_json, data)
    plain = _outcome(clarity.decode_to_plain, data)
    if value[0] == "error":
        assert typed == value and plain == value
        return
    assert typed[0] == "ok" and plain[0] == "ok"
    expected_typed, expected_plain = clarity.to_json(value[1]), clarity.to_plain(value[1])
    assert typed[1] == expected_typed
    assert plain[1] == expected_plain
    assert json.dumps(typed[1]) == json.dumps(expected_typed)
    assert json.dumps(plain[1]) == json.dumps(expected_plain)


@pytest.mark.skipif(not fixture_data.available(), reason="../shared/fixtures/stacks not present")
def test_every_fixture_value_decodes_the_same_on_every_path():
    items = [i for i in fixture_data.raw_items() if i.kind in ("raw_result", "raw_value")]
    assert sum(i.topic == "print" for i in items) > 50
    for item in items:
        raw = bytes.fromhex(item.hex[2:])
        assert_equivalent(raw)
        # hex input (with and without 0x), bytearray and memoryview give the same nodes
        expected = clarity.decode_to_json(raw)
        for form in (item.hex, item.hex[2:], bytearray(raw), memoryview(raw)):
            assert clarity.decode_to_json(form) == expected
            assert clarity.decode_to_plain(form) == clarity.decode_to_plain(raw)


@settings(max_examples=400, deadline=None)
@given(values)
def test_generated_values_decode_the_same_on_every_path(value):
    encoded = clarity.encode(value)
    assert_equivalent(encoded)
    assert clarity.decode_to_json(encoded) == clarity.to_json(value)
    assert clarity.decode_to_plain(encoded) == clarity.to_plain(value)


@st.composite
def mutated_values(draw) -> bytes:
    """Encoded generated values with a few bytes changed, inserted, dropped or cut."""
    data = bytearray(clarity.encode(draw(values)))
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        op = draw(st.sampled_from(["flip", "set", "insert", "delete", "truncate"]))
        if op == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "set" and data:
            data[at] = draw(st.integers(0, 255))
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=3))
        elif op == "delete" and data:
            del data[at]
        elif op == "truncate":
            del data[at:]
    return bytes(data)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_values())
def test_mutated_generated_values_fail_or_succeed_the_same_on_every_path(data):
    assert_equivalent(data)


@pytest.mark.skipif(not fixture_data.available(), reason="../shared/fixtures/stacks not present")
@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated(VALUES))
def test_mutated_fixture_values_fail_or_succeed_the_same_on_every_path(data):
    assert_equivalent(data)


def test_memo_tables_stay_bounded_and_correct(monkeypatch):
    monkeypatch.setattr(codec, "_CACHE_LIMIT", 2)
    monkeypatch.setattr(c32, "_ADDRESS_MEMO_LIMIT", 2)
    value = clarity.Tuple(
        {f"k{i}": clarity.ContractPrincipal(22, bytes([i]) * 20, f"c{i}") for i in range(5)}
        | {"z": clarity.StandardPrincipal(26, bytes(20))}
    )
    encoded = clarity.encode(value)
    for _ in range(2):
        assert clarity.decode_to_json(encoded) == clarity.to_json(value)
        assert clarity.decode_to_plain(encoded) == clarity.to_plain(value)
        for table in (codec._clarity_names, codec._contract_names, c32.address_memo):
            assert len(table) <= 2


def test_read_value_accepts_any_bytes_like_input():
    raw = clarity.encode(clarity.Tuple({"a": clarity.UInt(1)})) + b"\xff"
    for form in (raw, bytearray(raw), memoryview(raw)):
        value, end = clarity.read_value(form, 0)
        assert value == clarity.Tuple({"a": clarity.UInt(1)}) and end == len(raw) - 1
