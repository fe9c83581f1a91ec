"""The observer server over HTTP: live == replay, duplicates, malformed payloads, ops endpoints, retries."""

from __future__ import annotations

import json

import aiohttp
import asyncpg
import pytest

from indexer import tsv
from indexer.ingest import Writer
from indexer.replay import replay_file
from indexer.server import IndexerServer, ServerConfig

from . import synth
from .helpers import checksums

FIXTURE = "event-observer/stacks-blockchain-api/regtest-env-pox-4-out-of-order-multisig-tx.tsv"


@pytest.fixture
async def server(db_url):
    srv = IndexerServer(ServerConfig(dsn=db_url, port=0, node_url=None, gap_fill=False, max_body_bytes=5_000_000))
    port = await srv.start()
    srv.base = f"http://127.0.0.1:{port}"
    yield srv
    await srv.stop()


async def _post(session, srv, path, body: bytes):
    async with session.post(srv.base + path, data=body) as r:
        return r.status, await r.json()


async def test_live_ingest_equals_replay(server, db_url, clean_db, shared_fixtures):
    path = shared_fixtures / FIXTURE
    async with aiohttp.ClientSession() as s:
        for row in tsv.read(path):
            status, body = await _post(s, server, row.path, row.payload.encode())
            assert status == 200, body
    w = await Writer.open(clean_db)
    try:
        await replay_file(w, path, progress=False)
    finally:
        await w.close()
    assert await checksums(db_url) == await checksums(clean_db)


async def test_duplicates_change_nothing(server, db_url):
    blocks = synth.chain(5, "a")
    async with aiohttp.ClientSession() as s:
        for b in blocks:
            assert (await _post(s, server, "/new_block", synth.dumps(b)))[1]["result"] == "block"
        before = await checksums(db_url)
        for b in blocks[::-1] + blocks:
            assert (await _post(s, server, "/new_block", synth.dumps(b)))[1]["result"] == "duplicate"
    assert await checksums(db_url) == before


def _bad_payloads():
    good = synth.block(0, synth.GENESIS_PARENT)
    wrong_type = dict(good, block_height="7")
    short_hash = dict(good, index_block_hash=good["index_block_hash"][:-2])
    odd_hex = dict(good, index_block_hash=good["index_block_hash"][:-1])
    tx = dict(good["transactions"][0])
    tx["raw_tx"] = "0x808000000004"  # a truncated transaction: does not hash to its txid
    truncated_tx = dict(good, transactions=[tx])
    ev = json.loads(json.dumps(good["events"]))
    ev[0]["contract_event" if "contract_event" in ev[0] else ev[0]["type"]]["raw_value"] = "0x0c0000000"
    truncated_value = dict(good, events=ev)
    no_events_list = dict(good, events={"a": 1})
    ev = json.loads(json.dumps(good["events"]))
    next(e for e in ev if e["type"] == "stx_transfer_event")["stx_transfer_event"]["amount"] = "\u00b2"  # a digit
    unicode_digit_amount = dict(good, events=ev)
    own_parent = dict(good, parent_index_block_hash=good["index_block_hash"])  # would loop a parent walk
    return {
        "bad_json": b'{"block_height": 1,',
        "not_an_object": b"[1, 2, 3]",
        "wrong_type": synth.dumps(wrong_type),
        "short_hash": synth.dumps(short_hash),
        "odd_hex": synth.dumps(odd_hex),
        "truncated_tx": synth.dumps(truncated_tx),
        "truncated_value": synth.dumps(truncated_value),
        "events_not_list": synth.dumps(no_events_list),
        "unicode_digit_amount": synth.dumps(unicode_digit_amount),
        "own_parent": synth.dumps(own_parent),
        "huge": b'{"x": "' + b"a" * 6_000_000 + b'"}',
    }


@pytest.mark.parametrize("kind", list(_bad_payloads()))
async def test_malformed_payload_is_dead_lettered_and_acknowledged(server, db_url, kind):
    body = _bad_payloads()[kind]
    async with aiohttp.ClientSession() as s:
        status, reply = await _post(s, server, "/new_block", body)
    assert status == 200 and reply["result"] == "dead_letter" and reply["error"]
    conn = await asyncpg.connect(db_url)
    try:
        assert await conn.fetchval("SELECT count(*) FROM raw.blocks") == 0
        assert await conn.fetchval("SELECT count(*) FROM raw.transactions") == 0
        assert await conn.fetchval("SELECT count(*) FROM raw.events") == 0
        dl = await conn.fetchrow("SELECT * FROM raw.dead_letters")
        assert dl["path"] == "/new_block" and dl["detail"]
        assert dl["reason"] == {"bad_json": "bad_json", "huge": "too_large"}.get(kind, "invalid_payload")
        req = await conn.fetchrow("SELECT * FROM raw.observer_requests WHERE id = $1", dl["request_id"])
        assert req["outcome"] == "dead_letter"
        if kind == "huge":
            assert req["body_truncated"] and req["body_size"] == len(body)
        elif kind == "bad_json":
            assert bytes(req["body"]) == body
    finally:
        await conn.close()
    # the server keeps going
    async with aiohttp.ClientSession() as s:
        status, reply = await _post(s, server, "/new_block", synth.dumps(synth.block(0, synth.GENESIS_PARENT)))
    assert reply["result"] == "block"


async def test_every_path_is_stored_and_acknowledged(server, db_url, shared_fixtures):
    bodies = {
        "/new_mempool_tx": json.dumps([synth.h32("not a tx")]).encode(),
        "/drop_mempool_tx": json.dumps({"dropped_txids": [synth.h32("x")], "reason": "ReplaceByFee",
                                        "new_txid": None}).encode(),
        "/new_microblocks": b'{"parent_index_block_hash": "0x00", "events": [], "transactions": []}',
        "/stackerdb_chunks": b'{"contract_id": {"issuer": [26, []], "name": "miners"}, "modified_slots": []}',
        "/proposal_response": b'{"result": "Ok", "signer_signature_hash": "00"}',
        "/attachments/new": b"[]",
        "/new_burn_block": json.dumps({"burn_block_hash": synth.h32("burn"), "burn_block_height": 5,
                                       "reward_recipients": [], "reward_slot_holders": [], "burn_amount": 0}).encode(),
        "/some/future/path": b'{"anything": true}',
    }
    async with aiohttp.ClientSession() as s:
        for path, body in bodies.items():
            status, reply = await _post(s, server, path, body)
            assert status == 200, (path, reply)
    conn = await asyncpg.connect(db_url)
    try:
        paths = {r[0]: r[1] for r in await conn.fetch("SELECT path, outcome FROM raw.observer_requests")}
        assert set(paths) == set(bodies)
        assert await conn.fetchval("SELECT count(*) FROM raw.burn_blocks WHERE canonical") == 1
        assert await conn.fetchval("SELECT count(*) FROM raw.mempool_txs") == 1
    finally:
        await conn.close()


async def test_ops_endpoints(server, db_url):
    async with aiohttp.ClientSession() as s:
        await _post(s, server, "/new_block", synth.dumps(synth.block(0, synth.GENESIS_PARENT)))
        async with s.get(server.base + "/health") as r:
            assert r.status == 200 and (await r.json())["status"] == "ok"
        async with s.get(server.base + "/ready") as r:
            assert r.status == 503  # no node configured: cannot know we are caught up
            assert "reason" in await r.json()
        async with s.get(server.base + "/metrics") as r:
            text = await r.text()
            assert "indexer_blocks_ingested_total 1.0" in text
            assert "indexer_ack_latency_seconds_bucket" in text
        async with s.get(server.base + "/status") as r:
            st = await r.json()
            assert st["counts"]["blocks"] == 1 and st["writer_running"] is True


async def test_database_failure_answers_500_then_recovers(server, db_url, pg_server):
    """The connection dies in the middle of a write: 500 (the node retries), then the retry is stored once."""
    import asyncio

    blocks = synth.chain(3, "a")
    async with aiohttp.ClientSession() as s:
        await _post(s, server, "/new_block", synth.dumps(blocks[0]))
        admin = await asyncpg.connect(db_url)
        try:
            tx = admin.transaction()
            await tx.start()
            await admin.execute("LOCK TABLE raw.chain_tip IN ACCESS EXCLUSIVE MODE")
            pending = asyncio.create_task(_post(s, server, "/new_block", synth.dumps(blocks[1])))
            await asyncio.sleep(0.5)  # the write is now waiting for the lock, inside its transaction
            await admin.execute("SELECT pg_terminate_backend($1)", server.writer.conn.get_server_pid())
            status, reply = await pending
            await tx.rollback()
        finally:
            await admin.close()
        assert status == 500 and "error" in reply
        status, reply = await _post(s, server, "/new_block", synth.dumps(blocks[1]))  # the node's retry
        assert status == 200 and reply["result"] == "block"
        status, reply = await _post(s, server, "/new_block", synth.dumps(blocks[2]))
        assert reply["result"] == "block"
    conn = await asyncpg.connect(db_url)
    try:
        assert await conn.fetchval("SELECT count(*) FROM raw.blocks WHERE canonical") == 3
        assert await conn.fetchval("SELECT count(*) FROM raw.blocks") == 3
    finally:
        await conn.close()
