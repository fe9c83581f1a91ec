"""The per-block run builds only the marts whose inputs changed (transforms.selection): with nothing new it runs
no dbt at all and still reports every mart current; after new blocks the block-driven marts are built, and the
marts equal a --full-refresh row for row whatever was left out."""

from __future__ import annotations

import psycopg

from tests.transforms.chain import DEPLOYER, build, mart_rows, transform_dbt
from transforms import selection


def _heights(db: str) -> tuple[int, int, int]:
    with psycopg.connect(db) as conn:
        return conn.execute("SELECT (SELECT min(included_height) FROM marts.build_state), "
                            "(SELECT max(included_height) FROM marts.build_state), "
                            "(SELECT block_height FROM raw.chain_tip)").fetchone()


async def test_marts_read_the_contracts_upstream(chain, tmp_path):
    dbt = transform_dbt(chain.db, tmp_path / "dbt")
    dbt.parse()
    by_name = {m.name: m for m in selection.marts(dbt._manifest, DEPLOYER)}
    assert by_name["mart_policies"].contracts == {f"{DEPLOYER}.bithedge-policy-registry"}
    assert by_name["mart_pool_history"].contracts == {f"{DEPLOYER}.bithedge-policy-registry",
                                                      f"{DEPLOYER}.bithedge-vault"}
    assert by_name["mart_chain_blocks"].contracts == frozenset()  # changes with every block
    assert by_name["mart_policies"].table == "policies"


async def test_unchanged_marts_are_left_out_and_kept_current(chain, tmp_path):
    dbt = transform_dbt(chain.db, tmp_path / "dbt")
    await chain.settle()
    await build(dbt, "deploy")
    await build(dbt, "refresh_marts")

    idle = await build(dbt, "refresh_marts")  # nothing written since
    assert idle.statuses == {} and len(idle.unchanged) == len(selection.marts(dbt._manifest, DEPLOYER))
    low, high, tip = _heights(chain.db)
    assert low == high == tip

    await chain.advance(3)
    out = await build(dbt, "refresh_marts")
    assert {"mart_chain_blocks", "mart_contract_calls"} <= set(out.statuses)
    assert not set(out.statuses) & set(out.unchanged)
    low, high, tip = _heights(chain.db)
    assert low == high == tip
    incremental = mart_rows(chain.db)
    await build(dbt, "deploy", full_refresh=True)
    assert mart_rows(chain.db) == incremental


def _positions(db: str) -> dict[str, int]:
    with psycopg.connect(db) as conn:
        return dict(conn.execute("SELECT model, request_id FROM marts.build_state").fetchall())


async def test_a_mart_that_reads_a_mart_never_runs_ahead_of_it(chain, tmp_path):
    """The policies read marts.registry_events: built alone, while the registry events have not seen the newest
    blocks, the policies take the registry events' position, not raw's, so the next per-block run builds both and
    nothing written in between is skipped."""
    dbt = transform_dbt(chain.db, tmp_path / "dbt")
    await chain.settle()
    await build(dbt, "deploy")
    with psycopg.connect(chain.db) as conn:
        (before,) = conn.execute("SELECT count(*) FROM marts.registry_events").fetchone()
    await chain.advance(3)

    await build(dbt, "deploy", select=("mart_policies",))
    positions = _positions(chain.db)
    with psycopg.connect(chain.db) as conn:
        (raw,) = conn.execute("SELECT max(id) FROM raw.observer_requests").fetchone()
    assert positions["policies"] == positions["registry_events"] < raw

    out = await build(dbt, "refresh_marts")
    assert {"mart_registry_events", "mart_policies"} <= set(out.statuses)
    with psycopg.connect(chain.db) as conn:
        (after,) = conn.execute("SELECT count(*) FROM marts.registry_events").fetchone()
    assert after > before  # the new blocks printed policy events
    incremental = mart_rows(chain.db)
    await build(dbt, "deploy", full_refresh=True)
    assert mart_rows(chain.db) == incremental
