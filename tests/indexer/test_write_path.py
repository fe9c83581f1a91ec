"""The fast write path keeps its guarantees: a live block is ONE statement (its own transaction) and
equals the general COPY path; reorgs, dead letters, burn blocks and checkpoints still land atomically;
replay/rebuild commit asynchronously only inside their own run; the narrower indexes still serve the
dbt and API access paths; the indexer's settings come from the typed settings object; mempool batches, history
reads below the chain window and the API key behave as documented."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys

import asyncpg
import pytest
from aiohttp import web
from click.testing import CliRunner

from bithedge.settings import SettingsError, load_settings
from indexer import ingest
from indexer.decode import txid_of
from indexer.ingest import Writer
from indexer.replay import replay_file
from tests.processes import free_port

from . import synth
from .helpers import checksums, req


class _Queries:
    """Every statement a connection sends (asyncpg query logger)."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.sql: list[str] = []
        conn.add_query_logger(lambda record: self.sql.append(record.query))

    def take(self) -> list[str]:
        out, self.sql = self.sql, []
        return out


async def test_live_block_is_one_statement_and_equals_the_copy_path(db_url, clean_db, monkeypatch):
    main = synth.chain(6, "a", events=7)
    burn = {"burn_block_hash": synth.h32("burn", 1), "burn_block_height": 101, "reward_recipients": [],
            "reward_slot_holders": [], "burn_amount": 0}
    w = await Writer.open(db_url)
    log = _Queries(w.conn)
    try:
        for i, p in enumerate(main):
            res = await w.write([req("/new_block", p)])
            assert res.blocks == 1 and res.events == 7
            sql = log.take()
            if i:  # (the first one also introspects the array types, once per connection)
                assert len(sql) == 1, sql  # request, block, txs, events, tip: one round trip, no BEGIN/COMMIT
        await w.write([req("/new_burn_block", burn)])
        assert len(log.take()) == 1
        await w.write([req("/new_block", b'{"block_height": ')])  # bad JSON: request + dead letter
        assert len(log.take()) == 1
        await w.write([req("/new_block", main[2])])  # duplicate
        assert len(log.take()) == 1
        await w.write([req("/new_block", synth.block(6, main[-1]["index_block_hash"]))],
                      checkpoint=("backfill", 6, {"api": "x"}))
        assert len(log.take()) == 1
        # a reorg needs its flips in order: the transactional path
        branch = synth.fork(main + [synth.block(6, main[-1]["index_block_hash"])], 2, "b", extra=1)
        for p in branch:
            await w.write([req("/new_block", p)])
        assert any(q == "BEGIN;" or q.startswith("BEGIN") for q in log.take())
    finally:
        await w.close()

    # the same deliveries through the general (COPY) path only
    monkeypatch.setattr(ingest.Writer, "_one_statement_ok", lambda self, plan, requests, store: False)
    w = await Writer.open(clean_db)
    try:
        for p in main:
            await w.write([req("/new_block", p)])
        await w.write([req("/new_burn_block", burn)])
        await w.write([req("/new_block", b'{"block_height": ')])
        await w.write([req("/new_block", main[2])])
        await w.write([req("/new_block", synth.block(6, main[-1]["index_block_hash"]))],
                      checkpoint=("backfill", 6, {"api": "x"}))
        for p in branch:
            await w.write([req("/new_block", p)])
    finally:
        await w.close()
    assert await checksums(db_url) == await checksums(clean_db)
    q = ("SELECT json_agg(json_build_array(id, path, payload, body, body_size, outcome, source) ORDER BY id)::text"
         " FROM raw.observer_requests")
    tip_q = "SELECT row(index_block_hash, block_height, burn_block_height, last_request_id)::text FROM raw.chain_tip"
    other = ("SELECT (SELECT json_agg(json_build_array(request_id, path, reason, detail))::text FROM raw.dead_letters),"
             " (SELECT json_agg(json_build_array(name, position, info))::text FROM raw.checkpoints),"
             " (SELECT json_agg(json_build_array(depth, restored, fork_height, request_id))::text FROM raw.reorgs)")
    seen = []
    for url in (db_url, clean_db):
        conn = await asyncpg.connect(url)
        try:
            seen.append((await conn.fetchval(q), await conn.fetchval(tip_q), tuple(await conn.fetchrow(other))))
        finally:
            await conn.close()
    assert seen[0] == seen[1]


async def test_failed_one_statement_write_leaves_nothing(db_url):
    w = await Writer.open(db_url)
    try:
        await w.write([req("/new_block", synth.block(0, synth.GENESIS_PARENT))])
        p = synth.block(1, synth.block(0, synth.GENESIS_PARENT)["index_block_hash"])
        conn = w.conn
        # make the events insert fail inside the single statement: the request, block and tip roll back too
        await conn.execute("ALTER TABLE raw.events ADD CONSTRAINT only_genesis CHECK (block_height < 1) NOT VALID")
        with pytest.raises(asyncpg.CheckViolationError):
            await w.write([req("/new_block", p)])
        assert await conn.fetchval("SELECT count(*) FROM raw.observer_requests") == 1
        assert await conn.fetchval("SELECT count(*) FROM raw.blocks") == 1
        assert await conn.fetchval("SELECT block_height FROM raw.chain_tip") == 0
        assert len(w.chain) == 1  # the in-memory view was reloaded
        await conn.execute("ALTER TABLE raw.events DROP CONSTRAINT only_genesis")
        assert (await w.write([req("/new_block", p)])).blocks == 1
    finally:
        await w.close()


async def test_replay_commits_asynchronously_only_during_the_run(db_url, tmp_path):
    path = tmp_path / "x.tsv"
    path.write_text("".join(f"{i + 1}\t2026-01-01 00:00:00+00\t/new_block\t{json.dumps(p)}\n"
                            for i, p in enumerate(synth.chain(3))))
    w = await Writer.open(db_url)
    seen = []
    real = w.write

    async def spy(*a, **k):
        seen.append(await w.conn.fetchval("SHOW synchronous_commit"))
        return await real(*a, **k)

    try:
        await w.conn.execute("SET synchronous_commit = on")  # a durable server (the tests' one is not)
        w.write = spy
        await replay_file(w, path, progress=False)
        assert seen and set(seen) == {"off"}
        assert await w.conn.fetchval("SHOW synchronous_commit") == "on"  # a live writer after it is durable
    finally:
        await w.close()


async def test_indexes_serve_the_access_paths(db_url):
    conn = await asyncpg.connect(db_url)
    try:
        await conn.execute("SET enable_seqscan = off")

        async def plan(sql: str, *args) -> str:
            return "\n".join(r[0] for r in await conn.fetch("EXPLAIN " + sql, *args))

        assert "events_contract" in await plan(
            "SELECT * FROM raw.events WHERE canonical AND contract_identifier = $1 AND topic = 'print' "
            "AND block_height > $2 ORDER BY block_height, event_index", "SP1.x", 5)
        by_height = await plan("SELECT e.* FROM raw.blocks b JOIN raw.events e USING (index_block_hash) "
                               "WHERE b.canonical AND b.block_height = $1 ORDER BY e.event_index", 5)
        assert "blocks_canonical_height" in by_height and "events_pkey" in by_height
        assert "events_txid" in await plan("SELECT * FROM raw.events WHERE txid = $1", b"x" * 32)
        assert "transactions_txid" in await plan("SELECT * FROM raw.transactions WHERE txid = $1", b"x" * 32)
        assert "transactions_sender" in await plan(
            "SELECT * FROM raw.transactions WHERE canonical AND sender = $1 ORDER BY block_height", "SP1")
        assert "transactions_height" in await plan(
            "SELECT * FROM raw.transactions WHERE canonical AND block_height = $1", 5)
        indexes = {r[0] for r in await conn.fetch("SELECT indexname FROM pg_indexes WHERE schemaname = 'raw'")}
        assert {"blocks_pkey", "events_pkey", "transactions_pkey", "blocks_canonical_height",
                "burn_blocks_canonical_height"} <= indexes
        assert "events_height" not in indexes
    finally:
        await conn.close()


def test_indexer_settings_are_typed_and_validated(monkeypatch):
    monkeypatch.setenv("BITHEDGE_INDEXER_API_URL", "http://api.example:3999")
    monkeypatch.setenv("BITHEDGE_INDEXER_MAX_BODY_MB", "64")
    s = load_settings()
    assert s.indexer_api_url == "http://api.example:3999" and s.indexer_max_body_mb == 64
    monkeypatch.delenv("BITHEDGE_INDEXER_API_URL")
    monkeypatch.delenv("BITHEDGE_INDEXER_MAX_BODY_MB")
    s = load_settings()
    assert s.indexer_api_url is None and s.indexer_max_body_mb == 500
    for name, bad in (("BITHEDGE_INDEXER_MAX_BODY_MB", "0"), ("BITHEDGE_INDEXER_MAX_BODY_MB", "lots"),
                      ("BITHEDGE_INDEXER_API_URL", "api.example:3999")):
        monkeypatch.setenv(name, bad)
        with pytest.raises(SettingsError, match=name):
            load_settings()
        monkeypatch.delenv(name)


def test_serve_takes_api_url_and_body_limit_from_settings(monkeypatch):
    from bithedge import settings as settings_mod
    from indexer import cli, server

    captured = {}

    async def fake_serve(cfg):
        captured["cfg"] = cfg

    monkeypatch.setattr(server, "serve", fake_serve)
    monkeypatch.setattr(cli, "_dsn", lambda s: "postgresql://x@127.0.0.1:1/x")
    monkeypatch.setenv("BITHEDGE_INDEXER_API_URL", "http://api.example:3999")
    monkeypatch.setenv("BITHEDGE_INDEXER_MAX_BODY_MB", "7")
    settings_mod.get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli.cli, ["serve", "--no-gap-fill"])
        assert result.exit_code == 0, result.output
        cfg = captured["cfg"]
        assert cfg.api_url == "http://api.example:3999" and cfg.max_body_bytes == 7 * 1024 * 1024
        result = CliRunner().invoke(cli.cli, ["serve", "--api", "http://other:1", "--max-body-mb", "3"])
        assert result.exit_code == 0, result.output
        cfg = captured["cfg"]
        assert cfg.api_url == "http://other:1" and cfg.max_body_bytes == 3 * 1024 * 1024
    finally:
        settings_mod.get_settings.cache_clear()


async def test_mempool_batch_keeps_first_sighting_and_first_drop(db_url):
    """A batch of mempool requests is written with one statement per kind: a transaction seen twice keeps its
    first sighting, one dropped twice keeps its first drop, and a drop of an unknown txid changes nothing."""
    a, b, c = (bytes([n]) * 40 for n in (1, 2, 3))
    hexed = ["0x" + raw.hex() for raw in (a, b, c)]
    requests = [
        req("/new_mempool_tx", [hexed[0], hexed[1]]),
        req("/new_mempool_tx", [hexed[1], hexed[2]]),
        req("/drop_mempool_tx", {"dropped_txids": [synth.h32("unknown")], "reason": "TooExpensive"}),
        req("/drop_mempool_tx", {"dropped_txids": ["0x" + txid_of(a).hex()],
                                 "reason": "ReplaceByFee", "new_txid": "0x" + txid_of(c).hex()}),
        req("/drop_mempool_tx", {"dropped_txids": ["0x" + txid_of(a).hex()], "reason": "StaleGarbageCollect"}),
    ]
    w = await Writer.open(db_url)
    try:
        await w.write(requests)
        rows = {bytes(r["txid"]): r for r in await w.conn.fetch("SELECT * FROM raw.mempool_txs")}
    finally:
        await w.close()
    ids = [r.request_id for r in requests]
    txid = txid_of
    assert set(rows) == {txid(a), txid(b), txid(c)}
    assert rows[txid(b)]["request_id"] == ids[0] and bytes(rows[txid(b)]["raw_tx"]) == b
    assert rows[txid(c)]["request_id"] == ids[1]
    dropped = rows[txid(a)]
    assert dropped["drop_reason"] == "ReplaceByFee" and bytes(dropped["replaced_by"]) == txid(c)
    assert dropped["dropped_at"] == requests[3].received_at
    assert rows[txid(b)]["dropped_at"] is None and rows[txid(c)]["dropped_at"] is None


async def test_history_is_read_only_for_blocks_that_reach_below_the_window(db_url, tmp_path):
    """A replayed batch of consecutive blocks asks for history once (its first block, whose parent is unknown:
    each other parent comes earlier in the batch), live blocks on the tip never ask, a fork from below a
    small window asks once per block until it wins, and blocks on the new tip ask nothing."""
    main = synth.chain(40, "a", events=1)
    path = tmp_path / "chain.tsv"
    path.write_text("".join(f"{i + 1}\t2026-01-01 00:00:00+00\t/new_block\t{json.dumps(p)}\n"
                            for i, p in enumerate(main[:30])))
    w = await Writer.open(db_url, chain_window=5)
    log = _Queries(w.conn)

    def history_reads() -> int:
        return sum(q.lstrip().startswith("WITH RECURSIVE up AS") for q in log.take())

    try:
        await replay_file(w, path, progress=False)
        assert history_reads() == 1
        for p in main[30:]:
            await w.write([req("/new_block", p)])
        assert history_reads() == 0
        assert len(w.chain) < 20  # trimmed to the window
        # a fork from height 19: each of its blocks reaches the canonical chain below the window, until it wins
        branch = synth.fork(main, 20, "b", extra=1)
        for p in branch:
            await w.write([req("/new_block", p)])
        assert history_reads() == len(branch)
        assert w.chain.tip == bytes.fromhex(branch[-1]["index_block_hash"][2:])
        for p in synth.chain(3, "c", branch[-1]["index_block_hash"], branch[-1]["block_height"] + 1):
            await w.write([req("/new_block", p)])
        assert history_reads() == 0
    finally:
        await w.close()


async def test_api_key_is_sent_and_never_shown(db_url, tmp_path):
    """BITHEDGE_INDEXER_API_KEY reaches the API as x-api-key; a refusal is one clear line that does not show
    the key, even when the API echoes it back (the settings themselves: tests/bithedge/test_settings_secrets.py)."""
    key = "hiro-secret-7c1f"
    seen: list[str | None] = []

    async def latest(request: web.Request) -> web.Response:
        seen.append(request.headers.get("x-api-key"))
        return web.json_response({"error": f"key {request.headers.get('x-api-key')} is not allowed"}, status=401)

    app = web.Application()
    app.router.add_get("/extended/v2/blocks/latest", latest)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        env = {**os.environ, "DATABASE_URL": db_url, "BITHEDGE_INDEXER_API_KEY": key, "BITHEDGE_LOG_LEVEL": "debug"}
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bithedge", "indexer", "backfill", "--api", f"http://127.0.0.1:{port}",
            "--no-progress", env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, err = await asyncio.wait_for(proc.communicate(), 120)
    finally:
        await runner.cleanup()
    text = (out + err).decode()
    assert proc.returncode == 1, text
    assert seen == [key]  # sent, and a 401 is not retried
    assert "401" in text and "BITHEDGE_INDEXER_API_KEY" in text and "Traceback" not in text
    assert key not in text
