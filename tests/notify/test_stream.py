"""In-app notifications on ``/v1/stream``: the worker delivers, the API relays its NOTIFY to the user's SSE stream
(their own only), ``Last-Event-ID`` resumes with exactly what was missed, and a revoked session cannot stream."""

from __future__ import annotations

import asyncio
import json

from api.state import STATE
from tests.api.test_stream import Sse
from tests.notify.conftest import address_of, eventually, sign_in
from tests.notify.test_delivery import _policy

ALICE = "33" * 32 + "01"
BOB = "44" * 32 + "01"
#: a bound for reading one event, so a missing event fails the test instead of hanging it
READ_S = 30


async def _stream(client, headers: dict | None = None, query: str = "") -> Sse:
    r = await client.get("/v1/stream" + query, headers=headers or {})
    assert r.status == 200, await r.text()
    assert r.content_type == "text/event-stream"
    assert (await r.content.readline()) == b": connected\n"
    return Sse(r)


async def _next(sse: Sse, kind: str = "notification") -> dict:
    frame = await asyncio.wait_for(sse.next(kind), READ_S)
    return {**frame, "data": json.loads(frame["data"])}


async def _stream_relations(admin) -> None:
    """The two views the stream replays analytics events from, with the interface's columns (empty here: this
    test is about notifications), beside the conftest's interface tables."""
    from api.oracle import PriceUpdate
    from api.pools import PoolEvent

    def sql_type(annotation) -> str:
        text = str(annotation)
        return next(t for k, t in (("Decimal", "numeric"), ("datetime", "timestamptz"), ("bool", "boolean"),
                                   ("int", "bigint"), ("str", "text")) if k in text)

    cols = ", ".join(f"{n} {sql_type(f.annotation)}" for n, f in PoolEvent.model_fields.items())
    await admin.execute(f"CREATE TABLE analytics.pool_history ({cols})")
    for n, f in PriceUpdate.model_fields.items():
        await admin.execute(f"ALTER TABLE analytics.oracle_prices ADD COLUMN IF NOT EXISTS {n} {sql_type(f.annotation)}")
    await admin.execute("GRANT SELECT ON ALL TABLES IN SCHEMA analytics TO bithedge_api, bithedge_notify")


async def _in_app(admin, user_id: int) -> int:
    return await admin.fetchval("SELECT count(*) FROM notify.in_app WHERE user_id = $1", user_id)


async def test_in_app_notifications_stream_to_their_user_only_and_resume(api, admin, worker):
    await _stream_relations(admin)
    client = await api()
    alice, bob = await sign_in(client, ALICE), await sign_in(client, BOB)
    alice_auth = {"Authorization": f"Bearer {alice['token']}"}
    bob_auth = {"Authorization": f"Bearer {bob['token']}"}
    w = await worker()
    await w.run_once()  # the first scan records the (empty) history
    relay = client.server.app[STATE].extras["notify_relay"]
    await asyncio.wait_for(relay.listening.wait(), READ_S)

    alice_sse = await _stream(client, alice_auth)  # a session token as the bearer
    r = await client.post("/v1/me/stream/token", headers=bob_auth)  # EventSource: a token naming Bob's session
    assert r.status == 201
    bob_sse = await _stream(client, query=f"?token={(await r.json())['token']}")

    await _policy(admin, address_of(ALICE), policy_id=1, txid="0x" + "a1" * 32)
    first = await _next(alice_sse)
    assert first["data"]["payload"]["kind"] == "policy_created"
    assert first["data"]["payload"]["data"]["owner"] == address_of(ALICE)
    nid = first["data"]["notification_id"]
    assert first["id"].endswith(f".{nid}")  # `<height>-<n>.<notification id>`
    # Bob's policy next: the first notification on Bob's stream is his, so Alice's never reached it
    await _policy(admin, address_of(BOB), policy_id=2, txid="0x" + "b2" * 32)
    bobs = await _next(bob_sse)
    assert bobs["data"]["payload"]["data"]["owner"] == address_of(BOB)
    assert bobs["data"]["notification_id"] != nid
    await bob_sse.close()

    # Alice goes away; two notifications arrive meanwhile; she resumes from the last id she saw
    await alice_sse.close()
    await _policy(admin, address_of(ALICE), policy_id=3, txid="0x" + "a3" * 32)
    await _policy(admin, address_of(ALICE), policy_id=4, txid="0x" + "a4" * 32)
    assert await eventually(lambda: _json_true(_in_app(admin, alice["user_id"]), 3))
    resumed = await _stream(client, {**alice_auth, "Last-Event-ID": first["id"]})
    missed = [await _next(resumed), await _next(resumed)]
    assert [m["data"]["payload"]["data"]["policy_id"] for m in missed] == [3, 4]
    assert missed[1]["id"].endswith(f".{missed[1]['data']['notification_id']}")
    # and live again, without repeating what the replay sent
    await _policy(admin, address_of(ALICE), policy_id=5, txid="0x" + "a5" * 32)
    live = await _next(resumed)
    assert live["data"]["payload"]["data"]["policy_id"] == 5
    await resumed.close()

    # an API-key stream is nobody's: the user routes' tokens do not open it, a revoked session cannot stream
    r = await client.post("/v1/me/stream/token", headers=alice_auth)
    token = (await r.json())["token"]
    sessions = await (await client.get("/v1/me/sessions", headers=alice_auth)).json()
    assert (await client.delete(f"/v1/me/sessions/{sessions[0]['session_id']}", headers=alice_auth)).status == 200
    assert (await client.get(f"/v1/stream?token={token}")).status == 401
    assert (await client.get("/v1/stream", headers=alice_auth)).status == 401


async def _json_true(count, want: int) -> bool:
    return await count >= want


async def test_a_lost_listen_connection_loses_no_notification(api, admin, worker):
    """The relay's LISTEN connection is killed; what commits until it is back reaches the stream anyway (live,
    or from the table when the relay reconnects)."""
    await _stream_relations(admin)
    client = await api()
    alice = await sign_in(client, ALICE)
    w = await worker()
    await w.run_once()
    relay = client.server.app[STATE].extras["notify_relay"]
    await asyncio.wait_for(relay.listening.wait(), READ_S)
    sse = await _stream(client, {"Authorization": f"Bearer {alice['token']}"})
    killed = await admin.fetchval(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database()"
        " AND query ILIKE 'LISTEN %bithedge_notify_in_app%' AND pid <> pg_backend_pid()")
    assert killed == 1
    assert await eventually(lambda: _async(not relay.listening.is_set()))
    await _policy(admin, address_of(ALICE), policy_id=7, txid="0x" + "c7" * 32)
    assert await eventually(lambda: _json_true(_in_app(admin, alice["user_id"]), 1))
    note = await _next(sse)
    assert note["data"]["payload"]["data"]["policy_id"] == 7
    assert relay.listening.is_set()
    await sse.close()


async def _async(value):
    return value
