"""Forks of depth 1, 6, 50 and 200 (synthetic payloads through the one write path): canonical rows equal a
clean index of the winning chain; nothing is deleted; Nakamoto's newest-block rule; gaps filled late."""

from __future__ import annotations

import random

import asyncpg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indexer.chain import Chain
from indexer.ingest import Writer

from . import synth
from .helpers import checksums, post_all


async def _index(url: str, payloads: list[dict]) -> None:
    w = await Writer.open(url)
    try:
        await post_all(w, payloads)
    finally:
        await w.close()


@pytest.mark.parametrize("depth", [1, 6, 50, 200])
@pytest.mark.parametrize("nakamoto", [False, True])
async def test_fork_matches_clean_index_of_winner(db_url, clean_db, depth, nakamoto):
    main = synth.chain(depth + 5, "a", nakamoto=nakamoto, events=2)
    # pre-Nakamoto needs a longer branch; Nakamoto takes the newest block even at a lower height
    branch = synth.fork(main, depth, "b", extra=1 if not nakamoto else 0, nakamoto=nakamoto, events=3)
    if nakamoto:
        branch = branch[:-1] if len(branch) > 1 else branch  # the new tip is below the old one
    await _index(db_url, main + branch)
    winner = main[: len(main) - depth] + branch
    await _index(clean_db, winner)
    assert await checksums(db_url, canonical_only=True) == await checksums(clean_db, canonical_only=True)
    conn = await asyncpg.connect(db_url)
    try:  # nothing deleted: every block of both branches is still there
        assert await conn.fetchval("SELECT count(*) FROM raw.blocks") == len(main) + len(branch)
        r = await conn.fetchrow("SELECT depth, fork_height FROM raw.reorgs ORDER BY id DESC LIMIT 1")
        assert r["depth"] == depth and r["fork_height"] == main[-depth - 1]["block_height"]
        assert await conn.fetchval("SELECT count(*) FROM raw.events WHERE NOT canonical") == 2 * depth
        tip = await conn.fetchrow("SELECT * FROM raw.chain_tip")
        assert "0x" + bytes(tip["index_block_hash"]).hex() == winner[-1]["index_block_hash"]
    finally:
        await conn.close()


async def test_fork_back_restores_orphaned_branch(db_url, clean_db):
    """a wins, b overtakes, then a grows again and wins back: a's blocks are restored, not re-inserted."""
    main = synth.chain(20, "a")
    branch = synth.fork(main, 6, "b", extra=1)
    more_a = synth.chain(3, "a2", main[-1]["index_block_hash"], main[-1]["block_height"] + 1)
    await _index(db_url, main + branch + more_a)
    await _index(clean_db, main + more_a)
    assert await checksums(db_url, canonical_only=True) == await checksums(clean_db, canonical_only=True)
    conn = await asyncpg.connect(db_url)
    try:
        depths = [r[0] for r in await conn.fetch("SELECT depth FROM raw.reorgs ORDER BY id")]
        assert depths == [6, 7]
    finally:
        await conn.close()


async def test_pre_nakamoto_tie_keeps_first_seen(db_url):
    main = synth.chain(5, "a")
    sibling = synth.fork(main, 1, "b", extra=0)
    await _index(db_url, main + sibling)
    conn = await asyncpg.connect(db_url)
    try:
        h = await conn.fetchval("SELECT index_block_hash FROM raw.blocks WHERE canonical ORDER BY block_height DESC")
        assert "0x" + bytes(h).hex() == main[-1]["index_block_hash"]
    finally:
        await conn.close()


async def test_gap_filled_late_joins_the_chain(db_url, clean_db):
    main = synth.chain(10, "a")
    delivered = main[:4] + main[5:]  # block 4 missing (a gap the reconciler would fill)
    await _index(db_url, delivered)
    await _index(db_url, [main[4]])
    await _index(clean_db, main)
    assert await checksums(db_url, canonical_only=True) == await checksums(clean_db, canonical_only=True)


# --- the fork-choice rules alone, on random block trees ---------------------------------------------


@st.composite
def block_trees(draw):
    n = draw(st.integers(2, 40))
    blocks = [(b"g", 0, b"-")]
    for i in range(1, n):
        parent = draw(st.sampled_from(blocks))
        blocks.append((f"b{i}".encode(), parent[1] + 1, parent[0]))
    seed = draw(st.integers(0, 2**16))
    return blocks, seed


@settings(max_examples=200, deadline=None)
@given(block_trees())
def test_canonical_set_is_the_ancestry_of_the_longest_first_seen_tip(tree):
    blocks, seed = tree
    # deliver parents before children, otherwise in random order
    rng = random.Random(seed)
    order, pending, seen = [], list(blocks), set()
    while pending:
        ready = [b for b in pending if b[2] in seen or b[2] == b"-"]
        b = rng.choice(ready)
        pending.remove(b)
        seen.add(b[0])
        order.append(b)
    chain = Chain()
    tip = None
    info = {}
    for h, height, parent in order:
        chain.add(h, height, parent)
        info[h] = (height, parent)
        if tip is None or height > info[tip][0]:
            tip = h
    expected, cur = set(), tip
    while cur in info:
        expected.add(cur)
        cur = info[cur][1]
    assert {h for h, n in chain.nodes.items() if n.canonical} == expected
    assert chain.tip == tip
    assert len(chain.by_height) == len(expected)
