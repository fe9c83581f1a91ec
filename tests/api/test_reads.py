"""Reads from the analytics views, on the scale generator's small chain (300 policies)."""

from __future__ import annotations

import asyncpg


async def _json(client, path: str, status: int = 200):
    r = await client.get(path)
    assert r.status == status, (path, r.status, await r.text())
    return await r.json()


async def test_policies_page_through_every_policy_once_in_a_stable_order(reader, analytics_db) -> None:
    seen, cursor, pages = [], None, 0
    while True:
        body = await _json(reader, "/v1/policies?limit=70" + (f"&cursor={cursor}" if cursor else ""))
        seen += [p["policy_id"] for p in body["items"]]
        pages += 1
        if not (cursor := body["next_cursor"]):
            break
    assert seen == sorted(seen, reverse=True) and len(seen) == len(set(seen)) == 300 and pages == 5
    # amounts are base-unit strings, exactly the database's numbers
    first = (await _json(reader, "/v1/policies?limit=1&order=asc&sort=policy_id"))["items"][0]
    conn = await asyncpg.connect(analytics_db.url)
    try:
        premium = await conn.fetchval("SELECT premium FROM analytics.policies WHERE policy_id = $1",
                                      first["policy_id"])
    finally:
        await conn.close()
    assert first["premium"] == str(premium) and isinstance(first["strike"], str)


async def test_policy_filters_match_sql(reader, analytics_db) -> None:
    conn = await asyncpg.connect(analytics_db.url)
    try:
        owner, status = await conn.fetchrow(
            "SELECT owner, status FROM analytics.policies GROUP BY 1, 2 ORDER BY count(*) DESC LIMIT 1")
        expected = await conn.fetchval("SELECT count(*) FROM analytics.policies WHERE owner = $1 AND status = $2 "
                                       "AND expiry BETWEEN 1000 AND 1200", owner, status)
    finally:
        await conn.close()
    body = await _json(reader, f"/v1/policies?owner={owner}&status={status}&expiry_from=1000&expiry_to=1200"
                               "&limit=500&sort=expiry&order=asc")
    expiries = [p["expiry"] for p in body["items"]]
    assert len(body["items"]) == expected and expiries == sorted(expiries)
    assert {(p["owner"], p["status"]) for p in body["items"]} <= {(owner, status)}


async def test_one_policy_carries_its_lifecycle(reader) -> None:
    settled = (await _json(reader, "/v1/policies?status=settled-itm&limit=1"))["items"][0]
    body = await _json(reader, f"/v1/policies/{settled['policy_id']}")
    assert body["policy"] == settled
    events = [e["event_name"] for e in body["pool_events"]]
    assert events[0] == "policy-created" and events[-1] == "policy-settled", events
    assert body["treasury_events"] or body["fund_events"]
    r = await reader.get("/v1/policies/999999")
    assert r.status == 404 and r.content_type == "application/problem+json"


async def test_etag_revalidates_with_304(reader) -> None:
    r = await reader.get("/v1/pools")
    tag = r.headers["ETag"]
    assert r.headers["Cache-Control"] == "max-age=2"
    again = await reader.get("/v1/pools", headers={"If-None-Match": tag})
    assert again.status == 304 and again.headers["ETag"] == tag


async def test_pools_providers_and_history(reader) -> None:
    pools = await _json(reader, "/v1/pools")
    assert len(pools) == 6 and all(isinstance(p["assets"], str) for p in pools)
    one = pools[0]
    assert await _json(reader, f"/v1/pools/{one['token']}/{one['tier']}") == one
    await _json(reader, "/v1/pools/STX/nonexistent", status=404)
    history = await _json(reader, f"/v1/pools/{one['token']}/{one['tier']}/history?limit=5")
    assert history["items"][0]["assets"] == one["assets"]  # newest first: the totals after it are the pool's now
    provider = (await _json(reader, "/v1/providers?limit=1"))["items"][0]["provider"]
    positions = await _json(reader, f"/v1/providers/{provider}")
    assert positions and {p["provider"] for p in positions} == {provider}
    await _json(reader, "/v1/providers/SP000000000000000000002Q6VF78X", status=400)  # bad checksum


async def test_oracle_governance_risk_platform(reader) -> None:
    latest = await _json(reader, "/v1/oracle/latest")
    assert {p["asset"] for p in latest} == {"BTC", "STX"}
    stats = await _json(reader, "/v1/oracle/stats")
    assert all(s["prices"] > 0 for s in stats)
    btc = await _json(reader, "/v1/oracle/BTC/history?limit=3")
    assert btc["items"][0]["price"] == next(p["latest_price"] for p in latest if p["asset"] == "BTC")
    params = await _json(reader, "/v1/parameters")
    assert any(p["key"] == "fee.protocol-bp" for p in params)
    changes = await _json(reader, "/v1/parameters/history?key=fee.protocol-bp")
    assert changes["items"] and {c["key"] for c in changes["items"]} == {"fee.protocol-bp"}
    tiers = await _json(reader, "/v1/tiers?kind=buyer")
    assert tiers and {t["tier_kind"] for t in tiers} == {"buyer"}
    proposals = await _json(reader, "/v1/proposals")
    assert [p["state"] for p in proposals["items"]] == ["executed"]
    votes = await _json(reader, f"/v1/proposals/{proposals['items'][0]['proposal_id']}/votes")
    assert votes["items"]
    risk = await _json(reader, "/v1/risk/pools")
    assert len(risk) == 6
    await _json(reader, "/v1/risk/exposure?token=STX")
    calm = await _json(reader, "/v1/risk/stress?btc_shock=0&stx_shock=0")
    crash = await _json(reader, "/v1/risk/stress?btc_shock=-0.5&stx_shock=-0.5")
    assert sum(int(p["payout"]) for p in crash) >= sum(int(p["payout"]) for p in calm)
    await _json(reader, "/v1/risk/stress?btc_shock=-2&stx_shock=0", status=400)
    days = await _json(reader, "/v1/platform/daily?limit=2")
    assert len(days["items"]) <= 2 and days["items"][0]["day"] > days["items"][-1]["day"] or len(days["items"]) == 1
    fresh = await _json(reader, "/v1/freshness")
    assert fresh["marts_stacks_height"] == fresh["raw_stacks_height"]


async def test_a_cursor_from_another_list_is_refused(reader) -> None:
    cursor = (await _json(reader, "/v1/policies?limit=1"))["next_cursor"]
    r = await reader.get(f"/v1/policies?limit=1&sort=expiry&cursor={cursor}")
    assert r.status == 400 and (await r.json())["type"] == "urn:bithedge:invalid-cursor"
    assert (await reader.get("/v1/policies?cursor=AAAA")).status == 400


async def test_cached_answers_last_until_the_next_build(analytics_client, analytics_db) -> None:
    import asyncio
    import json

    from api.state import STATE
    from transforms.daemon import ANALYTICS_CHANNEL

    client = await analytics_client()
    state = client.server.app[STATE]
    await asyncio.wait_for(state.extras["stream"].listening.wait(), 30)
    headers = {"x-api-key": client.key}
    first = await client.get("/v1/parameters?x=1", headers=headers)
    assert first.status == 400 and state.cache.get("/v1/parameters?x=1") is None  # errors are never kept
    body = await (await client.get("/v1/parameters", headers=headers)).read()
    assert state.cache.get("/v1/parameters")[0] == body
    assert (await client.get("/v1/policies/1", headers=headers)).status == 200
    assert state.cache.get("/v1/policies/1") is not None
    assert (await client.get("/v1/admin/keys", headers=headers)).status == 403
    conn = await asyncpg.connect(analytics_db.url)
    try:  # a build finished: nothing from before it is served again
        await conn.execute("SELECT pg_notify($1, $2)", ANALYTICS_CHANNEL, json.dumps({"stacks_height": 1}))
    finally:
        await conn.close()
    for _ in range(3000):
        if state.cache.get("/v1/parameters") is None:
            break
        await asyncio.sleep(0.01)
    assert state.cache.get("/v1/parameters") is None and state.cache.get("/v1/policies/1") is None
