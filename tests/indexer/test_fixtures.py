"""Every recorded stacks-node payload ingests with zero dead letters and the canonical chain its parent links imply."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import asyncpg
import pytest

from indexer import tsv
from indexer.ingest import Writer
from indexer.replay import replay_file

from .helpers import checksums, req

API = Path(__file__).resolve().parents[3] / "shared/fixtures/stacks/event-observer/stacks-blockchain-api"
TSVS = sorted(p.name for p in API.glob("*.tsv")) or ["(none)"]
JSONS = sorted(str(p.relative_to(API.parent)) for p in API.parent.rglob("*.json")) or ["(none)"]


def expected_from_tsv(path: Path):
    """Independent reading of the file: blocks, the tip the fork rules pick, and its ancestors."""
    blocks, order, last = {}, [], None
    for row in tsv.read(path):
        if row.path != "/new_block":
            continue
        p = json.loads(row.payload)
        h = p["index_block_hash"]
        if h in blocks:
            continue
        nakamoto = p.get("signer_signature") is not None
        blocks[h] = (p["block_height"], p["parent_index_block_hash"], len(p["transactions"]), len(p["events"]))
        order.append(h)
        if last is None or nakamoto or p["block_height"] > blocks[last][0]:
            last = h
    canonical, cur = set(), last
    while cur in blocks:
        canonical.add(cur)
        cur = blocks[cur][1]
    return blocks, canonical


@pytest.mark.parametrize("name", TSVS)
async def test_tsv_fixture(db_url, shared_fixtures, name):
    path = shared_fixtures / "event-observer/stacks-blockchain-api" / name
    blocks, canonical = expected_from_tsv(path)
    w = await Writer.open(db_url)
    try:
        stats = await replay_file(w, path, progress=False)
    finally:
        await w.close()
    assert stats["dead_letters"] == 0
    conn = await asyncpg.connect(db_url)
    try:
        assert await conn.fetchval("SELECT count(*) FROM raw.dead_letters") == 0
        rows = await conn.fetch("SELECT index_block_hash, canonical FROM raw.blocks")
        assert len(rows) == len(blocks)
        got = {"0x" + bytes(r[0]).hex() for r in rows if r[1]}
        assert got == canonical
        assert await conn.fetchval("SELECT count(*) FROM raw.transactions") == sum(b[2] for b in blocks.values())
        assert await conn.fetchval("SELECT count(*) FROM raw.events") == sum(b[3] for b in blocks.values())
        # every raw byte string our decoder was given decoded (undecodable ones would keep a decode_error)
        assert await conn.fetchval("SELECT count(*) FROM raw.transactions WHERE decode_error IS NOT NULL") == 0
        assert await conn.fetchval("SELECT count(*) FROM raw.events WHERE decode_error IS NOT NULL") == 0
        n_requests = sum(1 for _ in tsv.read(path))
        assert await conn.fetchval("SELECT count(*) FROM raw.observer_requests") == n_requests
        # transactions and events carry their block's flag
        assert await conn.fetchval(
            "SELECT count(*) FROM raw.transactions t JOIN raw.blocks b USING (index_block_hash) "
            "WHERE t.canonical <> b.canonical") == 0
        assert await conn.fetchval(
            "SELECT count(*) FROM raw.events e JOIN raw.blocks b USING (index_block_hash) "
            "WHERE e.canonical <> b.canonical") == 0
    finally:
        await conn.close()


@pytest.mark.parametrize("name", JSONS)
async def test_json_fixture(db_url, shared_fixtures, name):
    path = shared_fixtures / "event-observer" / name
    payload = json.loads(path.read_text())
    w = await Writer.open(db_url)
    try:
        res = await w.write([req("/new_block", path.read_bytes())])
    finally:
        await w.close()
    assert res.dead_letters == 0 and res.blocks == 1
    assert res.events == len(payload["events"]) and res.txs == len(payload["transactions"])
    conn = await asyncpg.connect(db_url)
    try:
        assert await conn.fetchval("SELECT count(*) FROM raw.events WHERE decode_error IS NOT NULL") == 0
        assert await conn.fetchval("SELECT count(*) FROM raw.transactions WHERE decode_error IS NOT NULL") == 0
        assert await conn.fetchval("SELECT canonical FROM raw.blocks") is True
    finally:
        await conn.close()


async def test_decoded_columns(db_url, shared_fixtures):
    """Spot-check decoded values against the facts in PROVENANCE / stacks-formats.md §4.6(c)."""
    w = await Writer.open(db_url)
    try:
        await replay_file(w, shared_fixtures / "event-observer/stacks-blockchain-api/mainnet-out-of-order-microblock.tsv",
                          progress=False)
    finally:
        await w.close()
    conn = await asyncpg.connect(db_url)
    try:
        txid = bytes.fromhex("67f98d24b20f455ceaee2228e7fe48b82bb8d5564456e7e4cd65d7dd2a57bf29")
        t = await conn.fetchrow("SELECT * FROM raw.transactions WHERE txid = $1", txid)
        assert t["tx_type"] == "contract_call"
        assert t["contract_id"] == "SP000000000000000000002Q6VF78.bns"
        assert t["function_name"] == "name-register"
        assert len(json.loads(t["function_args"])) == 4
        assert t["status"] == "success" and bytes(t["raw_result"]) == b"\x07\x03"
        assert json.loads(t["result"]) == {"type": "ok", "value": {"type": "bool", "value": True}}
        e = await conn.fetchrow("SELECT * FROM raw.events WHERE txid = $1 AND event_type = 'contract_event'", txid)
        assert e["topic"] == "print" and e["contract_identifier"] == "SP000000000000000000002Q6VF78.bns"
        value = json.loads(e["value"])
        assert value["type"] == "tuple"
        assert value["value"]["attachment"]["value"]["metadata"]["value"]["op"]["value"] == "name-register"
        statuses = {r[0] for r in await conn.fetch("SELECT DISTINCT status FROM raw.transactions")}
        assert "abort_by_post_condition" in statuses
        # events are numbered block-wide and carry their tx_index
        assert await conn.fetchval("SELECT count(*) FROM raw.events WHERE tx_index IS NULL") == 0
    finally:
        await conn.close()


async def test_replay_twice_changes_nothing(db_url, shared_fixtures, tmp_path):
    src = shared_fixtures / "event-observer/stacks-blockchain-api/regtest-env-pox-4-out-of-order-multisig-tx.tsv"
    w = await Writer.open(db_url)
    try:
        await replay_file(w, src, progress=False)
        before = await checksums(db_url)
        again = await replay_file(w, src, progress=False)  # same file: checkpoint says done
        assert again["requests"] == 0
        copy = tmp_path / "renamed.tsv"  # same requests under another name: every block is a duplicate
        shutil.copy(src, copy)
        stats = await replay_file(w, copy, progress=False)
        assert stats["blocks"] == 0 and stats["duplicates"] > 0
    finally:
        await w.close()
    assert await checksums(db_url) == before
