"""The reconciler against a real devnet, indexer and dbt build: after simulator traffic with forks, the analytics
views equal the contracts' state read through read-only calls (0 mismatches); a corrupted mart row is reported
with both values, recorded in transforms.reconcile_runs, and makes `bithedge transforms reconcile` exit 1."""

from __future__ import annotations

import asyncio
import shutil
import socket
from collections import Counter

import psycopg
import pytest
from click.testing import CliRunner

from bithedge.database import role_url
from stacks.rpc import StacksClient
from tests.conftest import create_database, drop_database
from tests.transforms.chain import build, start_chain, transform_dbt
from transforms import reconcile
from transforms.cli import cli

#: simulator rounds (each step mines one or two blocks: ~500 blocks in all) and the fork after each of the first
#: rounds. A devnet fork replays the chain from genesis, so the forks come early, while the chain is short.
ROUNDS, STEPS_PER_ROUND, FORK_DEPTHS = 6, 42, (1, 3, 6)


@pytest.fixture(scope="module")
async def long_chain(pg_server, migrated_template, tmp_path_factory):
    """A chain of its own (the session's stays short, so the other tests' forks and clean indexes stay cheap)."""
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    db = create_database(pg_server, migrated_template)
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("SELECT public.bithedge_database_grants()")
    ch = await start_chain(db, tmp_path_factory.mktemp("reconcile-devnet"), steps=0)
    yield ch
    await ch.stop()
    drop_database(pg_server, db)


async def test_marts_reconcile_with_the_chain_through_forks_and_a_corruption_is_reported(long_chain, tmp_path):
    chain = long_chain
    dbt = transform_dbt(chain.db, tmp_path / "dbt")
    url = role_url(chain.db, "bithedge_transform")
    async with StacksClient(chain.devnet.rpc_url, timeout=300) as forker:
        for round_ in range(ROUNDS):
            await chain.advance(STEPS_PER_ROUND)
            if round_ < len(FORK_DEPTHS):  # the incremental marts follow each fork
                await forker.fork(FORK_DEPTHS[round_])
                await chain.settle()
                await build(dbt, "deploy" if round_ == 0 else "refresh_marts")
    await build(dbt, "refresh_marts")

    result = await reconcile.run(url, chain.devnet.rpc_url)
    assert result.error is None, result.error
    assert result.mismatches == [], summary(result.mismatches)
    with psycopg.connect(chain.db) as conn:
        (height,) = conn.execute("SELECT block_height FROM raw.chain_tip").fetchone()
        (policies,) = conn.execute("SELECT count(*) FROM analytics.policies").fetchone()
        (reorgs,) = conn.execute("SELECT count(*) FROM raw.reorgs").fetchone()
    assert result.stacks_height == height and reorgs >= len(FORK_DEPTHS) and height >= 500, (height, reorgs)
    assert result.checked > 20 * policies  # every policy's fields, besides pools, providers, prices, parameters

    with psycopg.connect(chain.db, autocommit=True) as admin:
        (policy_id, payout) = admin.execute(
            "SELECT policy_id, payout FROM marts.policies WHERE payout IS NOT NULL ORDER BY policy_id LIMIT 1"
        ).fetchone()
        admin.execute("UPDATE marts.policies SET payout = payout + 7 WHERE policy_id = %s", (policy_id,))
        try:
            env = {"BITHEDGE_DATABASE_URL": url, "BITHEDGE_NODE_URL": chain.devnet.rpc_url,
                   "BITHEDGE_DATA_DIR": str(tmp_path / "data")}
            out = await asyncio.to_thread(CliRunner().invoke, cli, ["reconcile", "--wait", "10"], env=env)
        finally:
            admin.execute("UPDATE marts.policies SET payout = payout - 7 WHERE policy_id = %s", (policy_id,))
        runs = admin.execute("SELECT mismatch_count, mismatches, checked, stacks_height FROM transforms.reconcile_runs "
                             "ORDER BY id").fetchall()
    assert out.exit_code == 1, out.output
    assert f"MISMATCH policy {policy_id} payout: mart={payout + 7} chain={payout}" in out.output
    assert [r[0] for r in runs] == [0, 1]
    assert runs[1][1] == [{"entity": f"policy {policy_id}", "field": "payout", "mart": str(payout + 7),
                           "chain": str(payout)}]
    assert runs[1][2] == result.checked and runs[1][3] == height


def summary(mismatches: list[reconcile.Mismatch]) -> str:
    """Mismatches by entity kind and field, with an example of each."""
    counts = Counter((m.entity.split(" ")[0], m.field) for m in mismatches)
    first = {}
    for m in mismatches:
        first.setdefault((m.entity.split(" ")[0], m.field), m)
    return "; ".join(f"{k}: {n}x e.g. {first[k]}" for k, n in counts.most_common())


def test_compare_reports_missing_entities_and_differing_fields_in_one_form() -> None:
    from decimal import Decimal

    marts = {"pool STX/balanced": {"assets": reconcile._norm(Decimal("100")), "locked": reconcile._norm(Decimal(5))},
             "policy 1": {"status": "active"}}
    chain = {"pool STX/balanced": {"assets": reconcile._norm("100"), "locked": reconcile._norm("6")},
             "policy 2": {"status": "active"}}
    checked, mismatches = reconcile.compare(marts, chain)
    assert checked == 5  # three entities, two pool fields
    assert mismatches == [
        reconcile.Mismatch("policy 1", "exists", True, False),
        reconcile.Mismatch("policy 2", "exists", False, True),
        reconcile.Mismatch("pool STX/balanced", "locked", 5, 6),
    ]
    assert mismatches[2].as_json() == {"entity": "pool STX/balanced", "field": "locked", "mart": "5", "chain": "6"}


async def test_a_run_that_cannot_compare_is_recorded_with_its_reason(db_url) -> None:
    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("SELECT public.bithedge_database_grants()")
    result = await reconcile.run(role_url(db_url, "bithedge_transform"), f"http://127.0.0.1:{port}")
    assert result.error and "RpcError" in result.error and not result.mismatches
    with psycopg.connect(db_url) as conn:
        rows = conn.execute("SELECT stacks_height, checked, mismatch_count, error FROM transforms.reconcile_runs").fetchall()
    assert rows == [(None, 0, 0, result.error)]
