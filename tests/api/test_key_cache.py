"""The in-process key cache (api.auth.KeyCache) keeps "revocation takes effect on the next request": a kept key
changed in api.keys by another connection (as `bithedge api keys revoke` does) is refused on the very next
request, whether that request's answer comes from the database or from the response cache."""

from __future__ import annotations

import asyncpg

from api import keys
from api.state import STATE


def _kept(client, key: str) -> bool:
    return client.server.app[STATE].auth.cache._keys.get(keys.digest(key)) is not None


async def test_a_kept_key_revoked_elsewhere_is_refused_on_the_next_request(make_client, make_key, db_url) -> None:
    client = await make_client()
    conn = await asyncpg.connect(db_url)
    try:
        for _ in range(20):  # each round: kept, then changed by another session, then the very next request
            key = await make_key("read")
            for _ in range(2):
                assert (await client.get("/v1/freshness", headers={"x-api-key": key})).status == 503
            assert _kept(client, key)
            assert await keys.revoke(conn, keys.split(key)[0])
            r = await client.get("/v1/freshness", headers={"x-api-key": key})
            assert r.status == 401 and "revoked" in (await r.json())["detail"]
        narrowed = await make_key("read", "quote")
        assert (await client.get("/v1/freshness", headers={"x-api-key": narrowed})).status == 503
        await conn.execute("UPDATE api.keys SET scopes = '{quote}' WHERE prefix = $1", keys.split(narrowed)[0])
        assert (await client.get("/v1/freshness", headers={"x-api-key": narrowed})).status == 403
        expired = await make_key("read")
        assert (await client.get("/v1/freshness", headers={"x-api-key": expired})).status == 503
        await conn.execute("UPDATE api.keys SET expires_at = now() - interval '1 second' WHERE prefix = $1",
                           keys.split(expired)[0])
        r = await client.get("/v1/freshness", headers={"x-api-key": expired})
        assert r.status == 401 and "expired" in (await r.json())["detail"]
    finally:
        await conn.close()


async def test_last_used_writes_keep_the_cache(make_client, make_key, db_url) -> None:
    client = await make_client()
    key = await make_key("read")
    assert (await client.get("/v1/freshness", headers={"x-api-key": key})).status == 503
    conn = await asyncpg.connect(db_url)
    try:
        await conn.execute("UPDATE api.keys SET last_used_at = now() WHERE prefix = $1", keys.split(key)[0])
    finally:
        await conn.close()
    assert (await client.get("/v1/freshness", headers={"x-api-key": key})).status == 503
    assert _kept(client, key)


async def test_a_response_cache_hit_still_refuses_a_revoked_key(analytics_client, analytics_db) -> None:
    client = await analytics_client()
    headers = {"x-api-key": client.key}
    for _ in range(2):  # the second answer: kept key and the response cache, no query of its own
        assert (await client.get("/v1/pools", headers=headers)).status == 200
    assert _kept(client, client.key)
    conn = await asyncpg.connect(analytics_db.url)
    try:
        assert await keys.revoke(conn, keys.split(client.key)[0])
    finally:
        await conn.close()
    r = await client.get("/v1/pools", headers=headers)
    assert r.status == 401 and "revoked" in (await r.json())["detail"]
