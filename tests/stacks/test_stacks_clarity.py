"""Clarity values: vectors, every fixture value, forms, limits and properties."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings

from stacks import clarity
from stacks.clarity import (
    Buffer,
    ContractPrincipal,
    Int,
    List,
    OptionalNone,
    OptionalSome,
    ResponseOk,
    StandardPrincipal,
    StringAscii,
    StringUtf8,
    Tuple,
    UInt,
)
from stacks.errors import DecodeError, EncodeError
from tests.stacks import fixture_data
from tests.stacks.strategies import values

needs_fixtures = pytest.mark.skipif(
    not fixture_data.available(), reason="../shared/fixtures/stacks not present"
)
# Every entry point of the one decoder: errors and limits must be identical across them.
DECODERS = pytest.mark.parametrize(
    "decoder",
    [clarity.decode, clarity.decode_to_json, clarity.decode_to_plain],
    ids=["value", "json", "plain"],
)


@needs_fixtures
def test_wire_vectors_round_trip():
    cases = fixture_data.vectors()["clarity_value"]["cases"]
    for case in cases:
        value = clarity.decode(case["hex"])
        assert clarity.encode(value).hex() == case["hex"], case["value"]
    reprs = {case["hex"]: clarity.to_repr(clarity.decode(case["hex"])) for case in cases}
    assert (
        reprs[
            "0b0000000400000000000000000000000000000000010000000000000000000000000000000002000000000000000000000000000000000300fffffffffffffffffffffffffffffffc"
        ]
        == "(list 1 2 3 -4)"
    )
    assert reprs["0c000000020362617a0906666f6f62617203"] == "{baz: none, foobar: true}"
    assert reprs["0e0000000b68656c6c6f20776f726c64"] == 'u"hello world"'


def _vector_view(value):
    """The notation of the vectors file: tuples as objects, strings bare, others printed."""
    if isinstance(value, Tuple):
        return {k: _vector_view(v) for k, v in value.data.items()}
    if isinstance(value, StringAscii | StringUtf8):
        return value.value
    if isinstance(value, StandardPrincipal | ContractPrincipal):
        return str(value)
    return clarity.to_repr(value)


@needs_fixtures
def test_vector_print_event_decodes_to_recorded_tuple():
    event = fixture_data.vectors()["transactions"][2]["recorded"]["print_event"]
    assert _vector_view(clarity.decode(event["raw_value"])) == event["decoded"]


@needs_fixtures
def test_every_fixture_value_round_trips():
    items = [i for i in fixture_data.raw_items() if i.kind in ("raw_result", "raw_value")]
    assert len(items) > 150
    for item in items:
        raw = bytes.fromhex(item.hex[2:])
        value = clarity.decode(raw)
        assert clarity.encode(value) == raw, item
        assert clarity.from_json(json.loads(json.dumps(clarity.to_json(value)))) == value
        assert clarity.decode_to_json(item.hex) == clarity.to_json(value)


def test_json_forms_of_a_print_tuple():
    owner = StandardPrincipal(26, bytes(20))
    value = Tuple(
        {
            "amount": UInt(5),
            "event": StringAscii("x"),
            "memo": OptionalSome(Buffer(b"\xbe\xef")),
            "note": OptionalNone(),
            "owner": owner,
            "result": ResponseOk(List([Int(-1)])),
        }
    )
    assert clarity.to_plain(value) == {
        "amount": "5",
        "event": "x",
        "memo": "0xbeef",
        "note": None,
        "owner": "ST000000000000000000002AMW42H",
        "result": {"ok": ["-1"]},
    }
    assert clarity.to_json(value)["value"]["amount"] == {"type": "uint", "value": "5"}
    assert clarity.to_json(value)["value"]["memo"] == {
        "type": "some",
        "value": {"type": "buffer", "value": "beef"},
    }
    assert clarity.from_json(clarity.to_json(value)) == value
    assert clarity.to_repr(value) == (
        '{amount: u5, event: "x", memo: (some 0xbeef), note: none, '
        "owner: 'ST000000000000000000002AMW42H, result: (ok (list -1))}"
    )
    assert clarity.decode_to_plain(clarity.encode(value)) == clarity.to_plain(value)


def test_repr_escapes_like_clarity():
    assert clarity.to_repr(StringAscii('a"b\n')) == '"a\\"b\\n"'
    assert clarity.to_repr(StringUtf8("é🚀")) == 'u"\\u{e9}\\u{1f680}"'
    assert clarity.to_repr(List([])) == "(list)"


def test_tuple_keys_sorted_bytewise_on_encode():
    value = Tuple({"b": UInt(1), "a-b": UInt(2), "B": UInt(3), "a_b": UInt(4)})
    encoded = clarity.encode(value)
    assert list(clarity.decode(encoded).data) == ["B", "a-b", "a_b", "b"]


@pytest.mark.parametrize(
    ("hex_input", "offset", "expected"),
    [
        ("", 0, "a Clarity type prefix"),
        ("0f", 0, "a Clarity type prefix 0x00..0x0e"),
        ("01" + "00" * 15, 1, "a 16-byte integer"),
        ("0200000005aabb", 5, "5 bytes of data"),
        ("0c00000000", 1, "a tuple length of 1..1048576"),
        ("0c00000002016103016103", 8, "tuple keys in strictly increasing byte order"),
        ("0c00000002016203016103", 8, "tuple keys in strictly increasing byte order"),
        ("0c00000001012103", 6, "a valid Clarity name"),
        ("0d00000001ff", 5, "printable ASCII string data"),
        ("0e00000001ff", 5, "valid UTF-8 string data"),
        ("0520" + "00" * 20, 1, "a principal version below 32"),
        ("061a" + "00" * 20 + "0131", 23, "a valid contract name of at most 128 bytes"),
        ("0201000001", 1, "a length of at most 1048576"),
        ("0303", 1, "end of input"),
    ],
)
@DECODERS
def test_decode_errors_name_offset_and_expectation(decoder, hex_input, offset, expected):
    with pytest.raises(DecodeError) as info:
        decoder(hex_input)
    assert info.value.offset == offset
    assert info.value.expected == expected


@DECODERS
def test_depth_limit_matches_stacks_core(decoder):
    nested = "0a" * 31 + "03"  # 32 values deep: allowed
    assert decoder(nested) is not None
    with pytest.raises(DecodeError, match="nested at most 32") as info:
        decoder("0a" + nested)
    assert info.value.offset == 32
    # the limit applies inside tuples and lists too, after the key / count is read
    tuple_at_32 = "0a" * 31 + "0c00000001" + "0161" + "03"
    list_at_32 = "0a" * 31 + "0b00000001" + "03"
    assert decoder(tuple_at_32[2:]) is not None and decoder(list_at_32[2:]) is not None
    assert decoder("0a" * 31 + "0b00000000") is not None  # an empty list has no children
    for too_deep, offset in ((tuple_at_32, 31 + 5 + 2), (list_at_32, 31 + 5)):
        with pytest.raises(DecodeError, match="nested at most 32") as info:
            decoder(too_deep)
        assert info.value.offset == offset
    deep: clarity.ClarityValue = OptionalNone()
    for _ in range(32):
        deep = OptionalSome(deep)
    with pytest.raises(EncodeError):
        clarity.encode(deep)


@DECODERS
def test_size_limits(decoder):
    with pytest.raises(DecodeError, match="larger than 2 MiB"):
        decoder(b"\x02" + bytes(2 * 1024 * 1024))
    with pytest.raises(EncodeError):
        clarity.encode(Buffer(bytes(1024 * 1024 + 1)))
    huge_list = bytes.fromhex("0b") + (1024 * 1024).to_bytes(4, "big")
    with pytest.raises(DecodeError, match="end of input"):
        decoder(huge_list)
    with pytest.raises(DecodeError, match="a list length of at most 1048576"):
        decoder(bytes.fromhex("0b") + (1024 * 1024 + 1).to_bytes(4, "big"))
    biggest = b"\x02" + (1024 * 1024).to_bytes(4, "big") + bytes(1024 * 1024)
    assert decoder(biggest) is not None


@pytest.mark.parametrize(
    "bad",
    [
        UInt(-1),
        UInt(2**128),
        Int(2**127),
        Tuple({}),
        Tuple({"not valid": UInt(1)}),
        StringAscii("\x00"),
        StringAscii("é"),
        ContractPrincipal(22, bytes(20), "9starts-with-digit"),
        StandardPrincipal(32, bytes(20)),
        StandardPrincipal(22, bytes(19)),
    ],
)
def test_encode_rejects_invalid_values(bad):
    with pytest.raises(EncodeError):
        clarity.encode(bad)


def test_from_json_rejects_malformed_nodes():
    for node in (
        {"type": "uint", "value": 5},
        {"type": "nope", "value": 1},
        {"value": "1"},
        {"type": "bool", "value": "x"},
    ):
        with pytest.raises(ValueError):
            clarity.from_json(node)


@settings(max_examples=300, deadline=None)
@given(values)
def test_round_trip_property(value):
    encoded = clarity.encode(value)
    decoded = clarity.decode(encoded)
    assert decoded == value
    assert clarity.encode(decoded) == encoded
    assert clarity.from_json(json.loads(json.dumps(clarity.to_json(value)))) == value
