"""End to end on a real chain: the devnet (real Clarity VM) indexed live, the dbt project building the real
``analytics`` views, the worker reading them; then a devnet fork. Policies whose facts the fork removes before
they are deep enough are never notified; notified ones that the fork removes get a correction; re-mined ones
are notified once."""

from __future__ import annotations

import shutil

import asyncpg
import psycopg
import pytest

from bithedge.database import role_url
from notify.worker import Worker, WorkerConfig
from tests.conftest import create_database, drop_database
from tests.notify.conftest import KEY

CONFIRMATIONS = 2  # burn blocks; the devnet mines 2 Stacks blocks per burn block


async def _subscribe_owners(admin: asyncpg.Connection) -> None:
    """Every policy owner analytics knows becomes a user with the default in-app subscriptions."""
    from notify.accounts import create_user

    owners = await admin.fetch(
        "SELECT DISTINCT owner FROM analytics.policies p WHERE NOT EXISTS"
        " (SELECT 1 FROM notify.user_addresses a WHERE a.address = p.owner)")
    for row in owners:
        await create_user(admin, row["owner"])


async def _round(chain, dbt, admin, worker) -> None:
    from tests.transforms.chain import build

    await chain.settle()
    await build(dbt, "refresh_marts")
    await _subscribe_owners(admin)
    await worker.run_once()


@pytest.fixture
async def live(pg_server, migrated_template, tmp_path):
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    from tests.transforms.chain import build, start_chain, transform_dbt

    db = create_database(pg_server, migrated_template)
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("SELECT public.bithedge_database_grants()")
    chain = await start_chain(db, tmp_path / "devnet", steps=16)
    dbt = transform_dbt(db, tmp_path / "dbt")
    await build(dbt, "deploy")
    admin = await asyncpg.connect(db)
    worker = Worker(WorkerConfig(url=role_url(db, "bithedge_notify"), secret_key=KEY, port=0,
                                 confirmations=CONFIRMATIONS, poll_s=3600))
    try:
        yield chain, dbt, admin, worker
    finally:
        await worker.stop() if worker.pool else None
        await admin.close()
        await chain.stop()
        drop_database(pg_server, db)


async def test_fork_on_a_real_chain(live):
    chain, dbt, admin, worker = live
    await worker.start()  # first round: the chain so far is history
    await worker.run_once()
    assert await admin.fetchval("SELECT count(*) FROM notify.facts") > 0
    assert await admin.fetchval("SELECT count(*) FROM notify.outbox") == 0
    await _subscribe_owners(admin)
    await chain.advance(10)
    await _round(chain, dbt, admin, worker)
    await _round(chain, dbt, admin, worker)
    tip = await admin.fetchval("SELECT marts_burn_height FROM analytics.freshness")
    shallow = {r["fact_key"] for r in await admin.fetch(
        "SELECT fact_key FROM notify.facts WHERE decided_at IS NULL AND removed_at IS NULL")}
    sent_before = await admin.fetchval("SELECT count(*) FROM notify.outbox WHERE status = 'sent'")
    assert sent_before > 0, "no notification on the way to the fork"

    fork = await chain.client.fork(6)
    assert len(fork["orphaned_blocks"]) == 6
    await _round(chain, dbt, admin, worker)
    removed = {r["fact_key"]: r["decided_at"] for r in await admin.fetch(
        "SELECT fact_key, decided_at FROM notify.facts WHERE removed_at IS NOT NULL")}
    never_deep = [k for k, decided in removed.items() if decided is None]
    # removed before it was deep enough: no delivery of it exists at all
    assert await admin.fetchval("SELECT count(*) FROM notify.outbox WHERE fact_key = ANY($1::text[])",
                                never_deep) == 0
    # removed after delivery: each sent notification has its correction
    orphans = await admin.fetchval(
        "SELECT count(*) FROM notify.outbox o WHERE o.purpose = 'notify' AND o.status = 'sent'"
        " AND o.fact_key = ANY($1::text[]) AND NOT EXISTS (SELECT 1 FROM notify.outbox c"
        " WHERE c.purpose = 'correction' AND c.dedupe_key = o.subscription_id || ':' || o.fact_key || ':correction')",
        list(removed))
    assert orphans == 0
    # the winning branch goes on (orphaned transactions are mined again): each fact reaches a user at most once
    await chain.advance(4)
    for _ in range(3):
        await _round(chain, dbt, admin, worker)
    duplicates = await admin.fetchval(
        "SELECT count(*) FROM (SELECT i.user_id, o.fact_key FROM notify.in_app i JOIN notify.outbox o USING (delivery_id)"
        " WHERE o.purpose = 'notify' GROUP BY 1, 2 HAVING count(*) > 1) d")
    assert duplicates == 0
    in_app = await admin.fetchval("SELECT count(*) FROM notify.in_app")
    sent = await admin.fetchval("SELECT count(*) FROM notify.outbox WHERE status = 'sent'")
    assert in_app == sent  # every sent in-app delivery wrote exactly one row
    print(f"tip {tip}: {len(shallow)} facts not yet deep before the fork; fork removed {len(removed)} "
          f"({len(never_deep)} never notified); {sent} in-app notifications")
