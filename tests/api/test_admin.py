"""Admin endpoints: keys over HTTP (shown once), scope checks, and the audit row of every admin action."""

from __future__ import annotations


async def test_admin_creates_lists_and_revokes_keys_and_every_action_is_audited(make_client, make_key) -> None:
    client = await make_client()
    admin = {"x-api-key": await make_key("admin")}
    reader = {"x-api-key": await make_key("read")}
    assert (await client.get("/v1/admin/keys", headers=reader)).status == 403
    r = await client.post("/v1/admin/keys", json={"name": "wallet app", "scopes": ["read", "quote"]}, headers=admin)
    assert r.status == 201
    created = await r.json()
    new_key = created["key"]
    assert new_key.startswith(f"bhk_{created['prefix']}_") and created["scopes"] == ["quote", "read"]
    listed = await (await client.get("/v1/admin/keys", headers=admin)).json()
    assert created["prefix"] in {k["prefix"] for k in listed} and all("key" not in k for k in listed)
    assert (await client.get("/v1/pools", headers={"x-api-key": new_key})).status == 503  # usable (no views here)
    r = await client.delete(f"/v1/admin/keys/{created['prefix']}", headers=admin)
    assert r.status == 200 and (await r.json())["revoked_at"] is not None
    assert (await client.get("/v1/pools", headers={"x-api-key": new_key})).status == 401
    assert (await client.delete(f"/v1/admin/keys/{created['prefix']}", headers=admin)).status == 404
    bad = await client.post("/v1/admin/keys", json={"name": "x", "scopes": ["root"]}, headers=admin)
    assert bad.status == 400 and (await bad.json())["errors"][0]["loc"][:2] == ["body", "scopes"]
    audit = (await (await client.get("/v1/admin/audit", headers=admin)).json())["items"]
    actions = [(a["action"], a["status"]) for a in audit[:4]]
    assert actions == [("create_key", 400), ("revoke_key", 404), ("revoke_key", 200), ("create_key", 201)]
    assert audit[3]["detail"]["prefix"] == created["prefix"] and new_key not in str(audit)
    assert audit[0]["actor"].startswith("key:")


async def test_bodies_must_be_json_and_small(make_client, make_key) -> None:
    client = await make_client(api_max_body_kb=1)
    admin = {"x-api-key": await make_key("admin")}
    r = await client.post("/v1/admin/keys", data="name=x", headers={**admin, "Content-Type": "text/plain"})
    assert r.status == 415
    r = await client.post("/v1/admin/keys", data="{not json", headers={**admin, "Content-Type": "application/json"})
    assert r.status == 400 and r.content_type == "application/problem+json"
    r = await client.post("/v1/admin/keys", json={"name": "x" * 5000, "scopes": ["read"]}, headers=admin)
    assert r.status == 413 and r.content_type == "application/problem+json"


async def test_cors_is_off_by_default_and_configurable(make_client, make_key) -> None:
    key = {"x-api-key": await make_key("read")}
    origin = {"Origin": "https://app.example"}
    off = await make_client()
    r = await off.get("/v1/pools", headers={**key, **origin})
    assert "Access-Control-Allow-Origin" not in r.headers
    on = await make_client(api_cors_origins="https://app.example")
    r = await on.get("/v1/pools", headers={**key, **origin})
    assert r.headers["Access-Control-Allow-Origin"] == "https://app.example"
    pre = await on.options("/v1/pools", headers={**origin, "Access-Control-Request-Method": "GET"})
    assert pre.status == 204 and "x-api-key" in pre.headers["Access-Control-Allow-Headers"]
    other = await on.get("/v1/pools", headers={**key, "Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers
