"""kill -9 at random points during live ingest, replay and rebuild; restart; no row lost or duplicated."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import aiohttp
import asyncpg
import pytest

from indexer import tsv
from indexer.ingest import Writer
from indexer.replay import rebuild, replay_file
from tests.processes import free_port

from . import synth
from .helpers import checksums

REPO = Path(__file__).resolve().parents[2]


def synthetic_tsv(path: Path, blocks: int = 240, seed: int = 1) -> Path:
    """A chain with forks (depths 1..8), re-sent blocks and burn blocks, as an event_observer_requests export."""
    rng = random.Random(seed)
    main = synth.chain(blocks, "a", events=6)
    rows: list[tuple[str, dict]] = []
    for i, b in enumerate(main):
        rows.append(("/new_burn_block", {"burn_block_hash": b["burn_block_hash"], "burn_block_height":
                                         b["burn_block_height"], "reward_recipients": [], "reward_slot_holders": [],
                                         "burn_amount": 0}))
        rows.append(("/new_block", b))
        if i > 10 and rng.random() < 0.08:
            depth = rng.randint(1, 8)
            for fb in synth.fork(main[: i + 1], depth, f"f{i}", extra=0, events=4):
                rows.append(("/new_block", fb))
        if rng.random() < 0.05:
            rows.append(("/new_block", rng.choice(main[: i + 1])))  # a re-delivery
    with open(path, "w") as f:
        for n, (p, body) in enumerate(rows, start=1):
            f.write(f"{n}\t2026-01-01 00:00:{n % 60:02d}+00\t{p}\t{json.dumps(body)}\n")
    return path


def _env(db_url: str) -> dict:
    return {**os.environ, "DATABASE_URL": db_url, "BITHEDGE_LOG_LEVEL": "warning", "PYTHONPATH": str(REPO)}


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "bithedge", "indexer", *args]


async def _clean_replay(url: str, path: Path) -> dict:
    w = await Writer.open(url)
    try:
        await replay_file(w, path, progress=False)
    finally:
        await w.close()
    return await checksums(url)


async def _kill_later(proc: asyncio.subprocess.Process, delay: float, url: str | None = None,
                      checkpoint: str | None = None) -> bool:
    """SIGKILL after `delay` seconds, counted from when `checkpoint` first shows progress (if given)."""
    if checkpoint is not None:
        conn = await asyncpg.connect(url)
        try:
            while proc.returncode is None:
                if (await conn.fetchval("SELECT position FROM raw.checkpoints WHERE name = $1", checkpoint) or 0) > 0:
                    break
                await asyncio.sleep(0.02)
        finally:
            await conn.close()
    try:
        await asyncio.wait_for(proc.wait(), delay)
        return False  # finished before the kill
    except TimeoutError:
        proc.send_signal(signal.SIGKILL)
        await proc.wait()
        return True


@pytest.mark.parametrize("trial", range(3))
async def test_kill_during_replay(db_url, clean_db, tmp_path, trial):
    path = synthetic_tsv(tmp_path / "chain.tsv", seed=trial)
    expected = await _clean_replay(clean_db, path)
    rng = random.Random(100 + trial)
    kills = 0
    for attempt in range(4):  # three kills at random points, then a run to the end
        proc = await asyncio.create_subprocess_exec(*_cli("replay", str(path), "--batch", "7", "--workers", "0",
                                                          "--no-progress"), env=_env(db_url),
                                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        delay = rng.uniform(0.0, 0.4) if attempt < 3 else 300
        if await _kill_later(proc, delay, db_url, "replay:chain.tsv"):
            kills += 1
            continue
        assert proc.returncode == 0
        break
    else:
        pytest.fail("replay never finished")
    if kills == 0:
        pytest.skip("the replay finished before the first kill on this machine")
    assert await checksums(db_url) == expected
    conn = await asyncpg.connect(db_url)
    try:  # each TSV request stored exactly once
        n = sum(1 for _ in tsv.read(path))
        assert await conn.fetchval("SELECT count(*) FROM raw.observer_requests") == n
    finally:
        await conn.close()


@pytest.mark.parametrize("trial", range(3))
async def test_kill_during_live_ingest(db_url, clean_db, tmp_path, trial):
    """A stacks-node-like sender (in order, retry until 200) while the server is killed and restarted."""
    path = synthetic_tsv(tmp_path / "chain.tsv", blocks=150, seed=10 + trial)
    expected = await _clean_replay(clean_db, path)
    rows = list(tsv.read(path))
    port = free_port()
    rng = random.Random(200 + trial)
    argv = _cli("serve", "--port", str(port), "--no-gap-fill", "--node", "http://127.0.0.1:9")
    stop = asyncio.Event()
    state = {"proc": None, "kills": 0, "acked": 0}

    async def start():
        state["proc"] = await asyncio.create_subprocess_exec(*argv, env=_env(db_url), stdout=subprocess.DEVNULL,
                                                             stderr=subprocess.DEVNULL)

    async def killer():
        while not stop.is_set():
            # kill at a random moment while deliveries are flowing: after a random number of acknowledged
            # requests since the (re)start, a few milliseconds into the next write
            threshold = rng.randint(5, 80)
            while not stop.is_set() and state["acked"] < threshold:
                await asyncio.sleep(0.002)
            await asyncio.sleep(rng.uniform(0, 0.004))
            if stop.is_set():
                break
            state["proc"].send_signal(signal.SIGKILL)
            await state["proc"].wait()
            state["kills"] += 1
            state["acked"] = 0
            await start()

    await start()
    k = asyncio.create_task(killer())
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as s:
            for row in rows:
                while True:
                    try:
                        async with s.post(f"http://127.0.0.1:{port}{row.path}", data=row.payload.encode()) as r:
                            if r.status == 200:
                                state["acked"] += 1
                                break
                    except (TimeoutError, aiohttp.ClientError):
                        pass
                    await asyncio.sleep(0.05)
    finally:
        stop.set()
        await k
        state["proc"].send_signal(signal.SIGTERM)
        await state["proc"].wait()
    assert state["kills"] > 0
    assert await checksums(db_url) == expected


async def test_rebuild_reproduces_and_resumes(db_url, tmp_path, shared_fixtures):
    path = synthetic_tsv(tmp_path / "chain.tsv", blocks=400, seed=7)
    w = await Writer.open(db_url)
    try:
        await replay_file(w, path, progress=False)
        fixture = shared_fixtures / "event-observer/stacks-blockchain-api/fuzzed-transactions-1.tsv"
        await replay_file(w, fixture, progress=False)
    finally:
        await w.close()
    before = await checksums(db_url)
    # a rebuild killed part-way, then resumed
    conn = await asyncpg.connect(db_url)
    await conn.execute("DELETE FROM raw.checkpoints WHERE name = 'rebuild'")
    await conn.close()
    proc = await asyncio.create_subprocess_exec(*_cli("rebuild", "--no-progress"), env=_env(db_url),
                                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    killed = await _kill_later(proc, 0.1, db_url, "rebuild")
    conn = await asyncpg.connect(db_url)
    try:
        cp = await conn.fetchrow("SELECT position, info FROM raw.checkpoints WHERE name = 'rebuild'")
    finally:
        await conn.close()
    # The kill can land after the rebuild recorded completion; only an unfinished one has something to resume.
    interrupted = killed and cp is not None and not json.loads(cp["info"] or "{}").get("done")
    w = await Writer.open(db_url)
    try:
        stats = await rebuild(w, progress=False, batch_requests=50)
    finally:
        await w.close()
    if interrupted:
        assert stats["resumed_after_id"] == cp["position"]
    else:
        assert stats["resumed_after_id"] is None
    assert await checksums(db_url) == before
