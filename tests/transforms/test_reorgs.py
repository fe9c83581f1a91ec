"""Reorgs through the devnet (``POST /devnet/fork``): after forks of depth 1, 6 and 50 the incremental marts
equal, row for row, the marts built from a clean index of the winning chain alone, and a --full-refresh in
place changes nothing (and drops no view)."""

from __future__ import annotations

import psycopg

from tests.transforms.chain import build, clean_build, first_difference, fork, mart_rows, transform_dbt

DEPTHS = (1, 6, 50)


async def test_forks_give_marts_equal_to_a_clean_build(chain, pg_server, migrated_template, tmp_path):
    live = transform_dbt(chain.db, tmp_path / "live")
    await chain.settle()
    await build(live, "deploy")
    with psycopg.connect(chain.db) as conn:
        (view_oid,) = conn.execute("SELECT 'analytics.policies'::regclass::oid").fetchone()
    for depth in DEPTHS:
        before = mart_rows(chain.db)
        forked = await fork(chain, depth)
        await chain.settle()
        await build(live, "refresh_marts")
        after_fork = mart_rows(chain.db)
        await chain.advance(2)  # traffic on the winning branch (the orphaned transactions are mined again)
        await build(live, "refresh_marts")
        incremental = mart_rows(chain.db)

        reference, _ = await clean_build(chain, pg_server, migrated_template, tmp_path / f"clean{depth}")
        assert incremental == reference, f"depth {depth}: {first_difference(incremental, reference)}"
        assert len(forked["orphaned_blocks"]) == depth
        if depth > 1:  # the orphaned blocks carried BitHedge events, so the fork changed marts
            assert before != after_fork, depth

    await build(live, "deploy", full_refresh=True)
    assert mart_rows(chain.db) == incremental
    with psycopg.connect(chain.db) as conn:
        assert conn.execute("SELECT 'analytics.policies'::regclass::oid").fetchone()[0] == view_oid
        reorgs = conn.execute("SELECT count(*) FROM raw.reorgs").fetchone()[0]
        orphaned = conn.execute("SELECT count(*) FROM raw.events WHERE NOT canonical AND topic = 'print'").fetchone()[0]
    assert reorgs >= len(DEPTHS) and orphaned > 0
