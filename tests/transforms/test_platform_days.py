"""marts.platform_days (the final days of analytics.platform_daily) over several days of block time and a reorg.

The devnet chains of the other tests span minutes of block time, so their platform_days is empty: here the
scale-data generator writes ~660 blocks 10 minutes apart (five UTC days). Built incrementally, a day becomes a
row once the day after it has ended, and the mart equals a ``--full-refresh`` build row for row; a fork from the
second day, whose branch writes other policies and runs longer, wins: the days it reaches are re-derived, the
mart again equals a ``--full-refresh`` build, and analytics.platform_daily lists every day of the winning chain
with the policies written on it."""

from __future__ import annotations

import io
import random

import psycopg

from tests.transforms.chain import build, first_difference, mart_rows, transform_dbt
from tests.transforms.synth_chain import BranchingGenerator, replay, write

FORK_AT = 150  # a block of the chain's second UTC day (block 1 is 08:53 on the first)


class DaysChain(BranchingGenerator):
    """``fork_at``: the blocks after it are another branch (other random policies, and more of them, so it is
    the longer chain and wins)."""

    def __init__(self, *, fork_at: int | None = None) -> None:
        super().__init__(io.StringIO(), fork_at=fork_at, policies=400 if fork_at is None else 430, per_block=1, seed=5)

    def create_policies(self, txs) -> None:
        if self.h == (self.fork_at or -1) + 1:
            self.rng = random.Random(11)
        super().create_policies(txs)


def days(db_url: str) -> tuple[list[tuple], list[tuple], list[tuple]]:
    """(the mart's days; the view's days with new policies, unique buyers, ITM and OTM settlements; the same per
    day of the chain, counted from analytics.policies: a settlement's day is its burn height's first block's)."""
    with psycopg.connect(db_url) as conn:
        mart = conn.execute("SELECT day FROM marts.platform_days ORDER BY day").fetchall()
        view = conn.execute("SELECT day, new_policies, unique_buyers, settled_itm, settled_otm "
                            "FROM analytics.platform_daily ORDER BY day").fetchall()
        chain = conn.execute(
            "WITH d AS (SELECT DISTINCT date_trunc('day', block_at)::date AS day FROM marts.chain_blocks), "
            "settled AS (SELECT p.payout, (SELECT date_trunc('day', b.block_at)::date FROM marts.chain_blocks AS b "
            "  WHERE b.burn_height = p.settled_burn_height ORDER BY b.stacks_height LIMIT 1) AS day "
            "  FROM analytics.policies AS p WHERE p.status IN ('settled-itm', 'settled-otm')) "
            "SELECT d.day, "
            " (SELECT count(*) FROM analytics.policies AS p WHERE p.created_at::date = d.day), "
            " (SELECT count(DISTINCT owner) FROM analytics.policies AS p WHERE p.created_at::date = d.day), "
            " (SELECT count(*) FROM settled AS s WHERE s.day = d.day AND s.payout > 0), "
            " (SELECT count(*) FROM settled AS s WHERE s.day = d.day AND s.payout = 0) "
            "FROM d ORDER BY d.day").fetchall()
    return mart, view, chain


async def test_final_days_survive_incremental_runs_and_a_reorg_equal_to_a_full_refresh(db_url, tmp_path):
    main = DaysChain()
    main.run()
    branch = DaysChain(fork_at=FORK_AT)
    branch.run()
    assert max(branch.blocks) > max(main.blocks)
    heights = sorted(main.blocks)

    await replay(db_url, write(tmp_path / "base.tsv", main.blocks, [h for h in heights if h <= 100]))
    dbt = transform_dbt(db_url, tmp_path / "dbt")
    await build(dbt, "deploy")
    assert days(db_url)[0] == []  # the first day has not been followed by a whole day yet
    rest = [h for h in heights if h > 100]
    for i in range(0, len(rest), 90):  # runs as the daemon's, a chunk of blocks each
        chunk = rest[i:i + 90]
        await replay(db_url, write(tmp_path / f"c{i}.tsv", main.blocks, chunk, first_id=10_000 + i * 1_000))
        await build(dbt, "refresh_marts")
    mart, view, chain = days(db_url)
    assert len(chain) >= 5 and len(mart) == len(chain) - 2, (mart, chain)  # all but the last two are final
    assert view == chain and sum(v[1] for v in view) == 400
    assert sum(v[3] for v in view) and sum(v[4] for v in view)  # settlements both ways, on their days
    incremental = mart_rows(db_url)
    await build(dbt, "deploy", full_refresh=True)
    assert not first_difference(incremental, mart_rows(db_url)), first_difference(incremental, mart_rows(db_url))
    before = {v[0]: v[1:] for v in view}

    await replay(db_url, write(tmp_path / "fork.tsv", branch.blocks, [h for h in sorted(branch.blocks) if h > FORK_AT],
                               first_id=1_000_000))
    await build(dbt, "refresh_marts")
    mart, view, chain = days(db_url)
    assert view == chain and sum(v[1] for v in view) == 430
    assert len(mart) == len(chain) - 2
    after = {v[0]: v[1:] for v in view}
    assert after[view[0][0]] == before[view[0][0]] and after != before  # the first day is below the fork
    incremental = mart_rows(db_url)
    await build(dbt, "deploy", full_refresh=True)
    assert not first_difference(incremental, mart_rows(db_url)), first_difference(incremental, mart_rows(db_url))
