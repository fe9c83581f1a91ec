"""A reorg of depth 200 (``POST /devnet/fork``) on a chain of its own: the fork orphans most of a ~215-block
chain, which would take the session chain's settled policies from the other transforms tests, so this test
starts a devnet, an indexer and a database for itself. After the fork and traffic on the winning branch, the
incremental marts equal, row for row, a build from a clean index of the winning chain, and a ``--full-refresh``
in place changes nothing."""

from __future__ import annotations

import psycopg
import pytest

from tests.conftest import create_database, drop_database
from tests.indexer.devnet_support import needs_node
from tests.transforms.chain import (
    build,
    clean_build,
    first_difference,
    fork,
    mart_rows,
    start_chain,
    transform_dbt,
)

pytestmark = needs_node

DEPTH = 200
#: only what the marts need (their staging and intermediate views, and the tests on them): the analytics views
#: and their tests are the session chain's business, and a build of everything costs twice as much
MARTS_AND_PARENTS = ("+config.materialized:mart",)
EMPTY_RUN = 25  # empty blocks between two bursts of simulator traffic


@pytest.fixture
async def deep_chain(pg_server, migrated_template, tmp_path):
    """A chain of its own, more than DEPTH blocks above genesis. Cheap: after the simulator's first steps, runs of
    empty blocks (``/devnet/mine``) each followed by two simulator steps, so BitHedge events are spread over the
    blocks the fork orphans."""
    db = create_database(pg_server, migrated_template)
    with psycopg.connect(db, autocommit=True) as conn:  # a clone does not copy the database's grants
        conn.execute("SELECT public.bithedge_database_grants()")
    chain = await start_chain(db, tmp_path / "devnet", steps=12)
    try:
        genesis = (await chain.client.devnet_status())["genesis_height"]
        while (await chain.client.devnet_status())["tip"] - genesis < DEPTH + 15:
            await chain.client.mine(EMPTY_RUN)
            await chain.advance(2)
        yield chain
    finally:
        await chain.stop()
        drop_database(pg_server, db)


async def test_fork_of_depth_200_gives_marts_equal_to_a_clean_build(deep_chain, pg_server, migrated_template,
                                                                    tmp_path):
    chain = deep_chain
    live = transform_dbt(chain.db, tmp_path / "live")
    await build(live, "deploy", select=MARTS_AND_PARENTS)
    before = mart_rows(chain.db)
    result = await fork(chain, DEPTH)
    assert len(result["orphaned_blocks"]) == DEPTH
    await chain.settle()
    await build(live, "refresh_marts")
    assert mart_rows(chain.db) != before  # the orphaned blocks carried BitHedge events
    await chain.advance(2)  # traffic on the winning branch (the orphaned transactions are mined again)
    await build(live, "refresh_marts")
    incremental = mart_rows(chain.db)

    reference, blocks = await clean_build(chain, pg_server, migrated_template, tmp_path / "clean",
                                         MARTS_AND_PARENTS)
    assert blocks > DEPTH
    assert incremental == reference, first_difference(incremental, reference)
    assert len(reference["policies"]) > 0 and len(reference["oracle_prices"]) > 0

    await build(live, "deploy", full_refresh=True, select=MARTS_AND_PARENTS)
    assert mart_rows(chain.db) == incremental
    with psycopg.connect(chain.db) as conn:
        (orphaned,) = conn.execute(
            "SELECT count(*) FROM raw.events WHERE NOT canonical AND topic = 'print'").fetchone()
        (reorg_depth,) = conn.execute("SELECT max(depth) FROM raw.reorgs").fetchone()
    assert orphaned > 0 and reorg_depth >= DEPTH
