"""The raw schema is written once: every row type of ``indexer/rows.py`` has exactly its table's columns, in
order, after the migrations; every row builder fills every field; the named queries file is well formed and
every query in it is used."""

from __future__ import annotations

import re
from pathlib import Path

import asyncpg
import pytest

from indexer import rows, sql
from indexer.payloads import parse_block, parse_burn_block
from indexer.prepare import prepare

from . import synth
from .helpers import req

# Columns the writer never sets: filled by their defaults.
DEFAULTED = {"indexed_at", "id", "detected_at", "created_at"}

TABLES = {
    "observer_requests": rows.REQUEST_COLUMNS,
    "blocks": rows.BLOCK_COLUMNS,
    "transactions": rows.TX_COLUMNS,
    "events": rows.EVENT_COLUMNS,
    "burn_blocks": rows.BURN_COLUMNS,
    "dead_letters": rows.DEAD_LETTER_COLUMNS,
    "reorgs": rows.REORG_COLUMNS,
}


async def test_row_types_are_the_tables_columns(db_url):
    conn = await asyncpg.connect(db_url)
    try:
        for table, columns in TABLES.items():
            stored = [r[0] for r in await conn.fetch(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = 'raw' AND table_name = $1 "
                "ORDER BY ordinal_position", table)]
            # observer_requests.id is drawn by the writer (COPY needs it), so it is one of the row's columns
            expected = [c for c in stored if c not in DEFAULTED or (table == "observer_requests" and c == "id")]
            assert list(columns) == expected, table
        tip = [r[0] for r in await conn.fetch(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'raw' AND table_name = 'chain_tip' "
            "ORDER BY ordinal_position")]
        assert tip == ["id", *rows.TipRow._fields, "last_request_id", "updated_at"]
    finally:
        await conn.close()


def test_row_builders_fill_every_field():
    """Each builder returns exactly its type's fields, and named fields hold what the payload says (so two
    columns swapped in a positional builder fail here)."""
    block = synth.block(3, synth.GENESIS_PARENT, events=4)
    parsed = parse_block(block)
    assert type(parsed.row) is rows.BlockRow and parsed.row.tx_count == len(block["transactions"])
    assert parsed.row.event_count == 4 and parsed.row.index_block_hash.hex() == block["index_block_hash"][2:]
    for raw, row in zip(block["transactions"], parsed.txs, strict=True):
        assert len(row) == len(rows.TxRow._fields)
        tx = rows.TxRow._make(row)
        assert (tx.txid.hex(), tx.tx_index, tx.block_height, tx.status) == (
            raw["txid"][2:], raw["tx_index"], 3, raw["status"])
        assert tx.raw_tx.hex() == raw["raw_tx"][2:] and tx.index_block_hash == parsed.row.index_block_hash
    by_index = {e["event_index"]: e for e in block["events"]}
    for row in parsed.events:
        assert len(row) == len(rows.EventRow._fields)
        ev = rows.EventRow._make(row)
        raw = by_index[ev.event_index]
        body = raw[raw["type"]]
        assert (ev.event_type, ev.txid.hex(), ev.block_height, ev.committed) == (raw["type"], raw["txid"][2:], 3, True)
        if raw["type"] == "contract_event":
            assert (ev.contract_identifier, ev.topic, ev.raw_value.hex()) == (
                body["contract_identifier"], body["topic"], body["raw_value"][2:])
        else:
            assert (ev.sender, ev.recipient, ev.amount) == (body["sender"], body["recipient"], int(body["amount"]))
    burn = parse_burn_block({"burn_block_hash": synth.h32("burn", 1), "burn_block_height": 5, "burn_amount": "7"})
    assert type(burn.row) is rows.BurnBlockRow and (burn.row.burn_block_height, burn.row.burn_amount) == (5, 7)
    r = prepare(req("/new_block", block))
    assert type(r.row()) is rows.RequestRow and len(r.row()) == len(rows.REQUEST_COLUMNS) - 1


def test_queries_file_is_well_formed_and_every_query_is_used():
    text = (Path(sql.__file__).with_name("queries.sql")).read_text()
    assert set(sql.load(text)) == set(sql.queries)
    code = "\n".join(p.read_text() for p in Path(sql.__file__).parents[1].glob("*.py"))
    unused = [name for name in sql.queries if f'Q["{name}"]' not in code]
    assert not unused, unused
    with pytest.raises(ValueError, match="description or params"):
        sql.load("-- name: broken\nSELECT 1;\n")
    with pytest.raises(ValueError, match="repeated"):
        sql.load("-- name: x\n-- one\n-- params: none\nSELECT 1;\n-- name: x\n-- two\n-- params: none\nSELECT 2;\n")
    # the only SQL outside the file: none in the indexer's modules
    for p in Path(sql.__file__).parents[1].glob("*.py"):
        assert not re.search(r'"\s*(SELECT|INSERT|UPDATE|DELETE|WITH|TRUNCATE)\b', p.read_text()), p.name
