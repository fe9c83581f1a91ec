"""The msgspec fast path of body parsing and JSON encoding keeps the stdlib's results and refusals."""

from __future__ import annotations

import json

import pytest

from indexer import tsv
from indexer.decode import _stdlib_text, json_text
from indexer.payloads import PayloadError, parse_body

BODIES = [
    '{"a":1,"b":[true,false,null],"c":"x"}',
    '{"amount":123456789012345678901234567890}',  # beyond 64 bits: exact int, not a float
    '{"a":"\\ud800"}',  # a lone surrogate escape: the stdlib accepts it (scrubbed later)
    '{"a":1,"a":2}',
    '{"s":"\\u00e9\\u2028\\u0001"}',
    b'\xff\xfe{\x00}\x00',  # UTF-16 bytes
]


@pytest.mark.parametrize("body", BODIES)
def test_parse_body_equals_stdlib(body):
    assert parse_body(body) == json.loads(body)
    value = parse_body(body)
    assert type(value) is type(json.loads(body))


@pytest.mark.parametrize("body", ['{"a":NaN}', '{"a":Infinity}', '{"a":-Infinity}', b'{"a":"\xff"}', '{"a":', ""])
def test_parse_body_refusals_are_bad_json(body):
    with pytest.raises(PayloadError) as e:
        parse_body(body)
    assert e.value.reason == "bad_json"


@pytest.mark.parametrize("obj", [
    {"type": "uint", "value": "5"}, {"a": 2**70, "b": -(2**80)}, {1: "int key"}, {"s": "é\u2028\x01"},
    {"nul": "\x00"}, {"lone": "\ud800"}, [1, 1.5, None, True, "x"],
])
def test_json_text_equals_stdlib(obj):
    text = json_text(obj)
    expected = _stdlib_text(obj).replace("\\u0000", "\\ufffd")
    assert json.loads(text) == json.loads(expected)
    assert text == expected


def test_tsv_single_scan_counts_and_orders(tmp_path):
    p = tmp_path / "x.tsv"
    p.write_text('2\tt\t/new_block\t{}\n\n1\tt\t/new_block\t{}\n3\tt\t/x\t{"a":1}\n')
    assert tsv.count_rows(p) == 3
    assert [r.id for r in tsv.read(p)] == [1, 2, 3]
    q = tmp_path / "y.tsv"
    q.write_text('1\tt\t/new_block\t{}\n2\tt\t/new_block\t{}\n')
    assert tsv.count_rows(q) == 2 and [r.id for r in tsv.read(q, after_id=1)] == [2]
