"""API keys at the door: Bearer or x-api-key, scopes, revocation on the next request, rate limits, anonymous
reads only when configured."""

from __future__ import annotations

import re

import asyncpg

from api import keys


async def test_a_read_needs_a_key_unless_anonymous_reads_are_configured(make_client) -> None:
    client = await make_client()
    r = await client.get("/v1/freshness")
    assert r.status == 401 and r.content_type == "application/problem+json"
    assert r.headers["WWW-Authenticate"] == "Bearer"
    anon = await make_client(api_anonymous_rate_per_s=5.0)
    r = await anon.get("/v1/freshness")
    assert r.status == 503  # past the door: the test database has no analytics views


async def test_bearer_and_x_api_key_both_work_and_a_bad_key_is_401(make_client, make_key) -> None:
    client = await make_client()
    key = await make_key("read")
    for headers in ({"Authorization": f"Bearer {key}"}, {"x-api-key": key}):
        assert (await client.get("/v1/freshness", headers=headers)).status == 503
    for bad in (key[:-1] + ("A" if key[-1] != "A" else "B"), "bhk_short", "nonsense"):
        r = await client.get("/v1/freshness", headers={"x-api-key": bad})
        assert r.status == 401, bad
        assert key not in await r.text()
    assert (await client.get("/v1/freshness", headers={"Authorization": f"Basic {key}"})).status == 401


async def test_revocation_and_expiry_take_effect_on_the_next_request(make_client, make_key, db_url) -> None:
    client = await make_client()
    key = await make_key("read")
    headers = {"x-api-key": key}
    assert (await client.get("/v1/freshness", headers=headers)).status == 503
    conn = await asyncpg.connect(db_url)
    try:
        assert await keys.revoke(conn, keys.split(key)[0])
        r = await client.get("/v1/freshness", headers=headers)
        assert r.status == 401 and "revoked" in (await r.json())["detail"]
        expired = await make_key("read")
        await conn.execute("UPDATE api.keys SET expires_at = now() - interval '1 second' WHERE prefix = $1",
                           keys.split(expired)[0])
        r = await client.get("/v1/freshness", headers={"x-api-key": expired})
        assert r.status == 401 and "expired" in (await r.json())["detail"]
        used = await conn.fetchval("SELECT last_used_at FROM api.keys WHERE prefix = $1", keys.split(key)[0])
        assert used is not None
        digest = await conn.fetchval("SELECT digest FROM api.keys WHERE prefix = $1", keys.split(key)[0])
        assert key.encode() not in bytes(digest)
        actions = [r["action"] for r in await conn.fetch("SELECT action FROM api.audit ORDER BY id")]
        assert actions == ["key.create", "key.revoke", "key.create"]
    finally:
        await conn.close()


async def test_over_the_rate_a_key_gets_429_with_retry_after(make_client, make_key) -> None:
    # 0.1 requests/s with a burst of 20 s of it: two requests pass, the next token is 10 s away
    client = await make_client(api_rate_per_s=0.1, api_rate_burst_s=20.0)
    headers = {"x-api-key": await make_key("read")}
    responses = [await client.get("/v1/freshness", headers=headers) for _ in range(4)]
    assert [r.status for r in responses[:2]] == [503, 503]
    limited = next(r for r in responses[2:] if r.status == 429)
    assert int(limited.headers["Retry-After"]) >= 1
    assert (await limited.json())["type"] == "urn:bithedge:rate-limited"
    other = {"x-api-key": await make_key("read")}
    assert (await client.get("/v1/freshness", headers=other)).status == 503  # limits are per key
    metrics = await (await client.get("/metrics")).text()
    assert re.search(r"^bithedge_api_rate_limited_total [1-9]", metrics, re.M)


async def test_unknown_query_parameters_are_a_400_problem(make_client, make_key) -> None:
    client = await make_client()
    r = await client.get("/v1/freshness?surprise=1", headers={"x-api-key": await make_key("read")})
    assert r.status == 400 and r.content_type == "application/problem+json"


async def test_an_overlong_query_string_is_414(make_client, make_key) -> None:
    client = await make_client(api_max_query_bytes=64)
    r = await client.get("/v1/freshness?" + "a=1&" * 40, headers={"x-api-key": await make_key("read")})
    assert r.status == 414
