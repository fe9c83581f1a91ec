"""The facts each kind derives from the analytics interface, and who they reach (scan + decision only)."""

from __future__ import annotations

import json

import asyncpg

from bithedge.database import role_url
from notify import facts, kinds

OWNER = "ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM"
OTHER = "ST2CY5V39NHDPWSXMW9QDT3HC3GD6Q6XX4CFRK9AG"


async def _user(admin, address, admin_user=False) -> int:
    user_id = await admin.fetchval("INSERT INTO notify.users (is_admin) VALUES ($1) RETURNING user_id", admin_user)
    await admin.execute("INSERT INTO notify.user_addresses VALUES ($1, $2)", address, user_id)
    await admin.execute("INSERT INTO notify.channels (user_id, kind, verified_at) VALUES ($1, 'in_app', now())", user_id)
    return user_id


async def _sub(admin, user_id, kind, **params):
    normalized, key = kinds.normalize(kind, params)
    await admin.execute(
        "INSERT INTO notify.subscriptions (user_id, channel_id, kind, params, param_key) SELECT $1, channel_id, $2,"
        " $3::jsonb, $4 FROM notify.channels WHERE user_id = $1", user_id, kind, json.dumps(normalized), key)


async def _scan(db_url, confirmations=0):
    conn = await asyncpg.connect(role_url(db_url, "bithedge_notify"))
    try:
        return await facts.scan(conn, confirmations)
    finally:
        await conn.close()


async def _recipients(admin, kind) -> list[int]:
    return sorted(r["user_id"] for r in await admin.fetch(
        "SELECT o.user_id FROM notify.outbox o JOIN notify.facts f USING (fact_key) WHERE f.kind = $1", kind))


async def test_owner_provider_all_and_admin_audiences(db_url, admin):
    await _scan(db_url)  # baseline
    alice, bob = await _user(admin, OWNER), await _user(admin, OTHER)
    operator = await _user(admin, "ST3NBRSFKX28FQ2ZJ1MAKX58HKHSDGNV5N7R21XCP", admin_user=True)
    for user in (alice, bob, operator):
        for kind in ("policy_created", "policy_expiring", "proposal_created", "proposal_voting_ending",
                     "operator_alert"):
            await _sub(admin, user, kind, **({"blocks": 10} if "blocks" in kinds.KINDS[kind][1] else {}))
        await _sub(admin, user, "pool_coverage_low", metric="coverage_ratio", below="0.9")
        await _sub(admin, user, "price_crossing", asset="STX", level=200_000_000, direction="down")
    await admin.execute(
        "INSERT INTO analytics.policies (policy_id, owner, token, pool_tier, expiry, status, status_onchain,"
        " created_txid, created_burn_height) VALUES (1, $1, 'STX', 'basic', 105, 'active', 'active', '0x01', 95)", OWNER)
    await admin.execute("INSERT INTO analytics.providers VALUES ('STX', 'basic', $1, 10)", OTHER)
    await admin.execute("INSERT INTO analytics.pool_risk (token, tier, coverage_ratio) VALUES ('STX', 'basic', 0.5)")
    await admin.execute("INSERT INTO analytics.proposals (proposal_id, state, end_burn_height, created_txid,"
                        " created_burn_height) VALUES (1, 'active', 500, '0x02', 99), (2, 'active', 108, '0x05', 98)")
    await admin.execute("INSERT INTO analytics.oracle_prices VALUES ('STX', 190000000, 210000000, 98, 99, '0x03', 0),"
                        " ('STX', 220000000, 190000000, 99, 100, '0x04', 0)")  # down through the level, then up
    await admin.execute("CREATE TABLE analytics.alerts (alert_id text, severity text, burn_height bigint)")
    await admin.execute("GRANT SELECT ON analytics.alerts TO bithedge_notify")
    await admin.execute("INSERT INTO analytics.alerts VALUES ('a-1', 'critical', 100)")
    result = await _scan(db_url)
    assert result.new == 8
    assert await _recipients(admin, "policy_created") == [alice]
    assert await _recipients(admin, "policy_expiring") == [alice]  # expiry 105 - 10 blocks <= tip 100
    assert await _recipients(admin, "pool_coverage_low") == [bob]  # bob provides to STX/basic
    assert await _recipients(admin, "proposal_created") == sorted([alice, bob, operator] * 2)
    assert await _recipients(admin, "proposal_voting_ending") == sorted([alice, bob, operator])  # 108 - 10 <= 100
    assert await _recipients(admin, "price_crossing") == sorted([alice, bob, operator])  # the downward print only
    assert await _recipients(admin, "operator_alert") == [operator]
    again = await _scan(db_url)
    assert again.new == 0 and again.queued == 0  # nothing twice


async def test_coverage_episodes(db_url, admin):
    await _scan(db_url)
    bob = await _user(admin, OTHER)
    await _sub(admin, bob, "pool_coverage_low", metric="coverage_ratio", below="0.9")
    await admin.execute("INSERT INTO analytics.providers VALUES ('STX', 'basic', $1, 10)", OTHER)
    await admin.execute("INSERT INTO analytics.pool_risk (token, tier, coverage_ratio) VALUES ('STX', 'basic', 0.5)")
    for ratio in (0.5, 0.6, 1.2, 0.4, 0.3):  # below, still below, recovered, below again, still below
        await admin.execute("UPDATE analytics.pool_risk SET coverage_ratio = $1", ratio)
        await _scan(db_url)
    keys = [r["fact_key"] for r in await admin.fetch(
        "SELECT fact_key FROM notify.facts WHERE kind = 'pool_coverage_low' ORDER BY fact_key")]
    assert keys == ["pool_coverage_low:STX:basic:coverage_ratio<0.9:1", "pool_coverage_low:STX:basic:coverage_ratio<0.9:2"]


async def test_history_is_not_notified_and_new_subscribers_miss_old_facts(db_url, admin):
    alice = await _user(admin, OWNER)
    await _sub(admin, alice, "policy_created")
    await admin.execute("INSERT INTO analytics.policies (policy_id, owner, created_txid, created_burn_height, expiry,"
                        " status, status_onchain) VALUES (1, $1, '0x01', 50, 900, 'active', 'active')", OWNER)
    first = await _scan(db_url)
    assert first.new == 1 and first.queued == 0  # the deployment's first scan: history
    assert await admin.fetchval("SELECT count(*) FROM notify.outbox") == 0
