"""Delivery from the real ``analytics`` views: the synthetic chain (``benchmarks/synth_policies.py``) replayed
through the real indexer and built by the real dbt project, in two parts. After the first part the worker's
first scan records history; after the second, each policy settled, each policy newly within its expiry window
and each pool that fell below full coverage reaches its owner / providers once, in app, with the views' figures."""

from __future__ import annotations

import json
import sys

import asyncpg
import psycopg
import pytest

from bithedge.database import role_url
from notify import kinds
from notify.worker import Worker, WorkerConfig
from tests.conftest import REPO, create_database, drop_database
from tests.notify.conftest import KEY

POLICIES = 80
#: the first part ends here, then parts of STEP follow (request lines of the TSV: two a block, burn then Stacks)
SPLIT = 80
STEP = 100
_BLOCKS_KEY = "blocks=144"  # the default policy_expiring subscription's param_key


async def _replay(db: str, tsv) -> None:
    from indexer.ingest import Writer
    from indexer.replay import replay_file

    writer = await Writer.open(db)
    try:
        await replay_file(writer, tsv, progress=False)
    finally:
        await writer.close()


@pytest.fixture
async def replayed(pg_server, migrated_template, tmp_path):
    from tests.transforms.chain import transform_dbt

    sys.path.insert(0, str(REPO / "benchmarks"))
    import synth_policies

    db = create_database(pg_server, migrated_template)
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("SELECT public.bithedge_database_grants()")
    full = tmp_path / "full.tsv"
    synth_policies.generate(full, policies=POLICIES, per_block=10, seed=3)
    lines = full.read_text().splitlines(keepends=True)
    assert len(lines) > SPLIT
    # the same file name both times: the replay's checkpoint resumes after the first part
    tsv = tmp_path / "part" / "synth.tsv"
    tsv.parent.mkdir()
    tsv.write_text("".join(lines[:SPLIT]))
    admin = await asyncpg.connect(db)
    worker = Worker(WorkerConfig(url=role_url(db, "bithedge_notify"), secret_key=KEY, port=0, confirmations=0,
                                 poll_s=3600, rate_limit_per_hour=10**6))
    try:
        yield db, admin, worker, transform_dbt(db, tmp_path / "dbt"), tsv, lines
    finally:
        await worker.stop() if worker.pool else None
        await admin.close()
        drop_database(pg_server, db)


_SETTLED = ("SELECT created_txid || ':' || settled_txid AS k, owner, payout::text AS payout FROM analytics.policies"
            " WHERE status_onchain IN ('settled-itm', 'settled-otm')")
_EXPIRING = ("SELECT created_txid AS k, owner FROM analytics.policies WHERE status = 'active' AND expiry - 144 <="
             " (SELECT marts_burn_height FROM analytics.freshness)")
#: the default coverage subscription (below 1) and one more for providers: this seed's STX conservative pool
#: rises from about 1.14 to 1.17, then dips to about 1.16 in the third part (an episode); the sBTC pools are
#: below 1 from the start (history)
THRESHOLDS = ("1", "1.165")
_UNCOVERED = "SELECT token || ':' || tier AS k FROM analytics.pool_risk WHERE coverage_ratio < $1::numeric"


async def _keys(admin, sql, *args) -> dict[str, asyncpg.Record]:
    return {r["k"]: r for r in await admin.fetch(sql, *args)}


async def _below(admin) -> dict[str, set[str]]:
    return {t: set(await _keys(admin, _UNCOVERED, t)) for t in THRESHOLDS}


async def test_settled_expiring_and_coverage_from_the_dbt_views(replayed):
    from notify.accounts import create_user
    from tests.transforms.chain import build

    db, admin, worker, dbt, tsv, lines = replayed
    await _replay(db, tsv)
    await build(dbt, "deploy")
    # every owner and provider so far is a user with the default in-app subscriptions
    for (address,) in await admin.fetch("SELECT owner FROM analytics.policies UNION SELECT provider"
                                        " FROM analytics.providers"):
        await create_user(admin, address)
    params, param_key = kinds.normalize("pool_coverage_low", {"below": THRESHOLDS[1]})
    await admin.execute(
        "INSERT INTO notify.subscriptions (user_id, channel_id, kind, params, param_key) SELECT c.user_id,"
        " c.channel_id, 'pool_coverage_low', $1::jsonb, $2 FROM notify.channels c WHERE c.kind = 'in_app'",
        json.dumps(params), param_key)
    seen = {name: set(await _keys(admin, sql)) for name, sql in
            (("settled", _SETTLED), ("expiring", _EXPIRING))}
    below = await _below(admin)
    await worker.start()
    await worker.run_once()  # the first scan: all of that is history
    assert await admin.fetchval("SELECT count(*) FROM notify.outbox WHERE purpose = 'notify'") == 0

    # the rest of the chain in parts, each built and scanned: what a part newly shows is notified
    want: dict[str, dict] = {"settled": {}, "expiring": {}}
    episodes: list[tuple[str, str]] = []
    for end in range(SPLIT + STEP, len(lines) + STEP, STEP):
        tsv.write_text("".join(lines[:end]))
        await _replay(db, tsv)
        await build(dbt, "refresh_marts")
        await worker.run_once()
        for name, sql in (("settled", _SETTLED), ("expiring", _EXPIRING)):
            for k, row in (await _keys(admin, sql)).items():
                if k not in seen[name]:
                    seen[name].add(k)
                    want[name][k] = row
        now_below = await _below(admin)
        episodes += [(pool, t) for t in THRESHOLDS for pool in sorted(now_below[t] - below[t])]  # each fall below
        below = now_below
    got: dict[str, dict[str, list]] = {}
    for r in await admin.fetch(
            "SELECT i.payload->>'kind' AS kind, i.payload->'data' AS data, i.payload->>'fact_key' AS fact_key,"
            " a.address FROM notify.in_app i JOIN notify.user_addresses a USING (user_id)"):
        got.setdefault(r["kind"], {}).setdefault(r["fact_key"], []).append(
            {"address": r["address"], "data": json.loads(r["data"])})

    assert want["settled"], "no policy settles after the first part: move SPLIT"
    assert set(got.get("policy_settled", {})) == {f"policy_settled:{k}" for k in want["settled"]}
    for k, policy in want["settled"].items():
        [note] = got["policy_settled"][f"policy_settled:{k}"]  # exactly once, to the owner
        assert note["address"] == policy["owner"] and note["data"]["payout"] == policy["payout"]

    assert want["expiring"], "no policy comes within its expiry window after the first part"
    assert set(got.get("policy_expiring", {})) == {f"policy_expiring:{k}:{_BLOCKS_KEY}" for k in want["expiring"]}
    for k, policy in want["expiring"].items():
        [note] = got["policy_expiring"][f"policy_expiring:{k}:{_BLOCKS_KEY}"]
        assert note["address"] == policy["owner"] and note["data"]["blocks"] == 144

    providers = await admin.fetch("SELECT token || ':' || tier AS k, provider FROM analytics.providers"
                                  " WHERE shares > 0")
    expected = sorted((k, t, p["provider"]) for k, t in episodes for p in providers if p["k"] == k)
    notes = sorted((f"{n['data']['token']}:{n['data']['tier']}", n["data"]["below"], n["address"])
                   for ns in got.get("pool_coverage_low", {}).values() for n in ns)
    assert expected, "no coverage episode after the first part"
    assert notes == expected
    print(f"{len(want['settled'])} settled, {len(want['expiring'])} newly expiring, {len(episodes)} coverage "
          f"episodes ({len(expected)} provider notifications)")
