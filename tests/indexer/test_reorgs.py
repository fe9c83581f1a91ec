"""Forks of depth 1, 6, 50 and 200 (synthetic payloads through the one write path): canonical rows equal a
clean index of the winning chain; nothing is deleted; Nakamoto's newest-block rule; gaps filled late."""

from __future__ import annotations

import random

import asyncpg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indexer.chain import Chain
from indexer.ingest import CHAIN_WINDOW, Writer

from . import synth
from .helpers import checksums, post_all, req


async def _index(url: str, payloads: list[dict], window: int = CHAIN_WINDOW) -> None:
    w = await Writer.open(url, chain_window=window)
    try:
        await post_all(w, payloads)
    finally:
        await w.close()


# window=3: the writer keeps only a few blocks in memory, so every fork below reaches past it and the rules
# run on history read back from the database; the result must not differ.
@pytest.mark.parametrize("window", [CHAIN_WINDOW, 3])
@pytest.mark.parametrize("depth", [1, 6, 50, 200])
@pytest.mark.parametrize("nakamoto", [False, True])
async def test_fork_matches_clean_index_of_winner(db_url, clean_db, depth, nakamoto, window):
    main = synth.chain(depth + 5, "a", nakamoto=nakamoto, events=2)
    # pre-Nakamoto needs a longer branch; Nakamoto takes the newest block even at a lower height
    branch = synth.fork(main, depth, "b", extra=1 if not nakamoto else 0, nakamoto=nakamoto, events=3)
    if nakamoto:
        branch = branch[:-1] if len(branch) > 1 else branch  # the new tip is below the old one
    await _index(db_url, main + branch, window)
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


@pytest.mark.parametrize("window", [CHAIN_WINDOW, 2])
async def test_fork_back_restores_orphaned_branch(db_url, clean_db, window):
    """a wins, b overtakes, then a grows again and wins back: a's blocks are restored, not re-inserted."""
    main = synth.chain(20, "a")
    branch = synth.fork(main, 6, "b", extra=1)
    more_a = synth.chain(3, "a2", main[-1]["index_block_hash"], main[-1]["block_height"] + 1)
    await _index(db_url, main + branch + more_a, window)
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


@pytest.mark.parametrize("window", [CHAIN_WINDOW, 2])
async def test_gap_filled_late_joins_the_chain(db_url, clean_db, window):
    main = synth.chain(10, "a")
    delivered = main[:4] + main[5:]  # block 4 missing (a gap the reconciler would fill)
    await _index(db_url, delivered, window)
    await _index(db_url, [main[4]], window)
    await _index(clean_db, main)
    assert await checksums(db_url, canonical_only=True) == await checksums(clean_db, canonical_only=True)


async def test_old_duplicate_below_the_window_changes_nothing(db_url):
    main = synth.chain(30, "a", events=2)
    await _index(db_url, main, window=3)
    before = await checksums(db_url)
    w = await Writer.open(db_url, chain_window=3)
    try:
        assert len(w.chain) <= 4 and main[2]["index_block_hash"] not in {"0x" + h.hex() for h in w.chain.nodes}
        # what the gap reconciler asks before walking further down a hole
        assert await w.knows(bytes.fromhex(main[2]["index_block_hash"][2:]))
        assert not await w.knows(bytes(32))
        res = await w.write([req("/new_block", main[2])])
        assert res.duplicates == 1 and res.blocks == 0
    finally:
        await w.close()
    after = await checksums(db_url)
    assert {t: v for t, v in after.items() if t != "observer_requests"} == \
        {t: v for t, v in before.items() if t != "observer_requests"}


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


def _delivery_order(blocks: list[tuple], seed: int, duplicates: float = 0.0) -> list[tuple]:
    """Parents before children, otherwise random; with ``duplicates``, that share of deliveries repeats an
    earlier block (possibly an old one)."""
    rng = random.Random(seed)
    order, pending, seen = [], list(blocks), set()
    while pending:
        ready = [b for b in pending if b[2] in seen or b[2] == b"-"]
        b = rng.choice(ready)
        pending.remove(b)
        seen.add(b[0])
        order.append(b)
        if duplicates and rng.random() < duplicates:
            order.append(rng.choice(order))
    return order


@settings(max_examples=200, deadline=None)
@given(block_trees())
def test_canonical_set_is_the_ancestry_of_the_longest_first_seen_tip(tree):
    order = _delivery_order(*tree)
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


def _stored_rows(full: Chain, h: bytes, height: int, parent: bytes, top: int) -> list[tuple]:
    """What the writer's history query returns, read from a chain that holds every stored block: the block
    itself, its non-canonical ancestry down to the first canonical block, and the canonical blocks from
    just below there up to ``top`` (exclusive)."""
    rows, nodes = [], full.nodes
    if h in nodes:
        n = nodes[h]
        rows.append((h, n.height, n.parent, n.canonical))
    cur, below, lowest = parent, height, height
    while cur in nodes and nodes[cur].height < below:
        n = nodes[cur]
        rows.append((cur, n.height, n.parent, n.canonical))
        lowest = min(lowest, n.height)
        if n.canonical:
            break
        cur, below = n.parent, n.height
    rows += [(b, hh, nodes[b].parent, True) for hh, b in full.by_height.items() if lowest - 1 <= hh < top]
    return rows


@st.composite
def deep_trees(draw):
    """Long chains with forks: mostly a child of one of the newest blocks, sometimes of any block."""
    n = draw(st.integers(10, 60))
    blocks = [(b"g", 0, b"-")]
    for i in range(1, n):
        back = draw(st.integers(0, len(blocks) - 1)) if draw(st.integers(0, 9)) == 0 else draw(st.integers(0, 2))
        parent = blocks[max(0, len(blocks) - 1 - back)]
        blocks.append((f"b{i}".encode(), parent[1] + 1, parent[0]))
    return blocks, draw(st.integers(0, 2**16))


@settings(max_examples=300, deadline=None)
@given(st.one_of(block_trees(), deep_trees()), st.integers(1, 5), st.lists(st.booleans(), min_size=40, max_size=40))
def test_a_windowed_chain_with_history_reads_decides_like_the_whole_chain(tree, window, nakamoto):
    """Any delivery order, both rules, duplicates: a chain that keeps only ``window`` heights in memory and
    reads history when :meth:`Chain.needs_history` says so makes every decision the whole chain makes."""
    order = _delivery_order(*tree, duplicates=0.2)
    full, windowed = Chain(), Chain()
    for i, (h, height, parent) in enumerate(order):
        flag = nakamoto[i % len(nakamoto)]
        if windowed.needs_history(h, height, parent):
            windowed.merge(_stored_rows(full, h, height, parent, windowed.history_top(height, flag)))
        got, want = windowed.add(h, height, parent, flag), full.add(h, height, parent, flag)
        assert (got is None) == (want is None)
        if want is not None:
            assert (got.canonical, sorted(got.orphaned), sorted(got.restored), got.fork_height, got.new_tip) == \
                (want.canonical, sorted(want.orphaned), sorted(want.restored), want.fork_height, want.new_tip)
        windowed.trim(window)
        assert windowed.tip == full.tip
        assert all(n.canonical == full.nodes[x].canonical for x, n in windowed.nodes.items())
        assert all(x in windowed.nodes for x, n in full.nodes.items() if n.height >= windowed.low)
