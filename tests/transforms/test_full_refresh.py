"""A full refresh derives every mart again from the events, in place: a row that nothing derives any more is gone
after it (an entity mart's too, whose incremental runs only recompute the ids their window touches), and every
other row is as the incremental build left it."""

from __future__ import annotations

import psycopg

from bithedge.database import role_url
from tests.transforms.chain import build, mart_rows, transform_dbt


async def test_a_full_refresh_drops_a_row_nothing_derives(chain, tmp_path):
    dbt = transform_dbt(chain.db, tmp_path)
    await chain.settle()
    await build(dbt, "deploy")
    built = mart_rows(chain.db)
    with psycopg.connect(role_url(chain.db, "bithedge_transform"), autocommit=True) as conn:
        # a policy no event carries (as a bug, or a hand edit, could leave behind)
        conn.execute("INSERT INTO marts.policies (policy_id, owner, tombstone, last_stacks_height) "
                     "VALUES (999999999, 'ST000000000000000000002AMW42H', false, 1)")
    await build(dbt, "deploy", full_refresh=True)
    assert mart_rows(chain.db) == built
