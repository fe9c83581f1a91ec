"""Delivery through real parts: the API, the worker, a loopback webhook receiver and an aiosmtpd server."""

from __future__ import annotations

import hashlib
import hmac
import socket

import pytest
from aiosmtpd.controller import Controller

from tests.notify.conftest import address_of, eventually, sign_in

ALICE = "33" * 32 + "01"
TXID = "0x" + "ab" * 32


async def _user(client) -> tuple[dict, str]:
    session = await sign_in(client, ALICE)
    return {"Authorization": f"Bearer {session['token']}"}, address_of(ALICE)


async def _webhook(client, auth, receiver, **extra) -> dict:
    """A confirmed webhook channel: created, its test message received, the code sent back."""
    resp = await client.post("/v1/me/channels", json={"kind": "webhook", "target": receiver.url, **extra},
                             headers=auth)
    assert resp.status == 201, await resp.text()
    channel = await resp.json()
    got = await eventually(lambda: _first(receiver, "verification"))
    assert got, "no verification message"
    resp = await client.post(f"/v1/me/channels/{channel['channel_id']}/verify", json={"code": got["json"]["code"]},
                             headers=auth)
    assert resp.status == 200 and (await resp.json())["verified"]
    return channel


async def _first(receiver, purpose):
    return next((r for r in receiver.received if r["json"]["purpose"] == purpose), None)


async def _subscribe(client, auth, kind, channel_id, **params):
    resp = await client.post("/v1/me/subscriptions", json={"kind": kind, "params": params, "channel_id": channel_id},
                             headers=auth)
    assert resp.status == 201, await resp.text()
    return await resp.json()


async def _subscribed(api, worker, receiver, kind, **worker_options):
    """A signed-in user with a confirmed webhook channel subscribed to ``kind``, and a started worker."""
    client = await api()
    auth, owner = await _user(client)
    w = await worker(**worker_options)
    channel = await _webhook(client, auth, receiver)
    await _subscribe(client, auth, kind, channel["channel_id"])
    return client, auth, owner, w, channel


async def _policy(admin, owner, policy_id=1, status="active", settled=None, burn=100, txid=TXID):
    await admin.execute(
        "INSERT INTO analytics.policies (policy_id, owner, token, pool_tier, strike, amount, premium, expiry, status,"
        " status_onchain, created_txid, created_burn_height, settled_txid, settled_burn_height, payout)"
        " VALUES ($1, $2, 'STX', 'basic', 9000000000000, 100000, 5000, 500, $3, $3, $4, $5, $6, $7, 0)",
        policy_id, owner, status, txid, burn, settled, burn if settled else None)


def _valid_signature(request, secret) -> bool:
    ts, sig = request["headers"]["X-BitHedge-Timestamp"], request["headers"]["X-BitHedge-Signature"]
    mac = hmac.new(secret.encode(), ts.encode() + b"." + request["body"], hashlib.sha256).hexdigest()
    return hmac.compare_digest(sig, "v1=" + mac)


async def test_webhook_delivery_signed_once_with_confirmations(api, admin, worker, receiver):
    client = await api()
    auth, owner = await _user(client)
    w = await worker(confirmations=2)
    channel = await _webhook(client, auth, receiver)
    assert channel["secret"].startswith("whsec_")
    listed = await (await client.get("/v1/me/channels", headers=auth)).json()
    assert all(c["secret"] is None for c in listed)
    stored = await admin.fetchval("SELECT secret_enc FROM notify.channels WHERE channel_id = $1", channel["channel_id"])
    assert channel["secret"].encode() not in bytes(stored)
    await _subscribe(client, auth, "policy_created", channel["channel_id"])
    await w.run_once()  # baseline of an empty analytics: nothing to notify
    await _policy(admin, owner, burn=100)  # tip 100: 0 blocks deep, 2 needed
    await w.run_once()
    assert await _first(receiver, "notify") is None
    await admin.execute("UPDATE analytics.freshness SET marts_burn_height = 102")
    got = await eventually(lambda: _first(receiver, "notify"))
    assert got and got["json"]["kind"] == "policy_created" and got["json"]["data"]["owner"] == owner
    assert _valid_signature(got, channel["secret"])
    for _ in range(3):
        await w.run_once()
    notifies = [r for r in receiver.received if r["json"]["purpose"] == "notify"]
    assert len(notifies) == 1
    log = await (await client.get("/v1/me/deliveries", headers=auth)).json()
    sent = [d for d in log if d["purpose"] == "notify" and d["channel_id"] == channel["channel_id"]]
    assert sent[0]["status"] == "sent" and sent[0]["attempts"][0]["http_status"] == 200


async def test_retries_then_dead(api, admin, worker, receiver):
    _, _, owner, w, channel = await _subscribed(api, worker, receiver, "policy_created", max_attempts=3)
    await w.run_once()
    receiver.fail_first = 2
    await _policy(admin, owner)
    cid = channel["channel_id"]
    row = await eventually(lambda: admin.fetchrow(
        "SELECT status, attempts FROM notify.outbox WHERE purpose = 'notify' AND status = 'sent' AND channel_id = $1",
        cid))
    assert row["attempts"] == 3
    statuses = await admin.fetch("SELECT a.status, a.http_status FROM notify.delivery_attempts a JOIN notify.outbox o"
                                 " USING (delivery_id) WHERE o.purpose = 'notify' AND o.channel_id = $1"
                                 " ORDER BY attempt", cid)
    assert [(r["status"], r["http_status"]) for r in statuses] == [("failed", 500), ("failed", 500), ("sent", 200)]
    ids = [r["headers"]["X-BitHedge-Delivery"] for r in receiver.received if r["json"]["purpose"] == "notify"]
    assert len(ids) == 3 and len(set(ids)) == 1  # every retry carries the same delivery id
    receiver.fail_first = 10
    await _policy(admin, owner, policy_id=2, txid="0x" + "cd" * 32)
    dead = await eventually(lambda: admin.fetchval("SELECT count(*) FROM notify.outbox WHERE status = 'dead'"))
    assert dead == 1


async def test_fork_removes_settlement_before_delivery_and_after(api, admin, worker, receiver):
    _, _, owner, w, _ = await _subscribed(api, worker, receiver, "policy_settled", confirmations=3)
    await _policy(admin, owner, burn=90)
    await w.run_once()  # baseline: the policy exists, not settled
    settle = "0x" + "5e" * 32
    await admin.execute("UPDATE analytics.policies SET status = 'settled-itm', status_onchain = 'settled-itm',"
                        " settled_txid = $1, settled_burn_height = 100, payout = 777", settle)
    await w.run_once()
    seen = await admin.fetchrow("SELECT decided_at, removed_at FROM notify.facts WHERE kind = 'policy_settled'")
    assert seen and seen["decided_at"] is None and seen["removed_at"] is None  # visible, not 3 deep yet
    # a fork takes the settlement away before it is deep enough: nothing is ever sent
    await admin.execute("UPDATE analytics.policies SET status = 'expired', status_onchain = 'active',"
                        " settled_txid = NULL, settled_burn_height = NULL")
    await admin.execute("UPDATE analytics.freshness SET marts_burn_height = 110")
    for _ in range(3):
        await w.run_once()
    assert await _first(receiver, "notify") is None
    assert await admin.fetchval("SELECT count(*) FROM notify.outbox WHERE purpose = 'notify'"
                                " AND fact_key LIKE 'policy_settled:%'") == 0
    assert await admin.fetchval("SELECT removed_at IS NOT NULL FROM notify.facts WHERE kind = 'policy_settled'")
    # settled again in another transaction, deep enough: sent; then a fork removes it: a correction follows
    other = "0x" + "6f" * 32
    await admin.execute("UPDATE analytics.policies SET status = 'settled-otm', status_onchain = 'settled-otm',"
                        " settled_txid = $1, settled_burn_height = 105", other)
    sent = await eventually(lambda: _first(receiver, "notify"))
    assert sent and sent["json"]["data"]["settled_txid"] == other
    await admin.execute("UPDATE analytics.policies SET status = 'expired', status_onchain = 'active',"
                        " settled_txid = NULL, settled_burn_height = NULL")
    correction = await eventually(lambda: _first(receiver, "correction"))
    assert correction and correction["json"]["correction_of"] == sent["headers"]["X-BitHedge-Delivery"]
    assert correction["json"]["title"].startswith("Correction:")


async def test_in_app_list_read_archive_and_notify(api, admin, worker, db_url):
    import asyncpg

    client = await api()
    auth, owner = await _user(client)
    w = await worker()
    listener = await asyncpg.connect(db_url)
    heard = []
    await listener.add_listener("bithedge_notify_in_app", lambda *args: heard.append(args[3]))
    await w.run_once()
    await _policy(admin, owner)  # default subscriptions: policy_created on the in-app channel
    items = await eventually(lambda: _json(client.get("/v1/me/notifications", headers=auth)))
    assert len(items) == 1 and items[0]["payload"]["kind"] == "policy_created"
    assert await eventually(lambda: _async(heard))
    nid = items[0]["notification_id"]
    assert (await client.post(f"/v1/me/notifications/{nid}/read", headers=auth)).status == 200
    assert await _json(client.get("/v1/me/notifications?unread=true", headers=auth)) == []
    assert (await client.post(f"/v1/me/notifications/{nid}/archive", headers=auth)).status == 200
    assert await _json(client.get("/v1/me/notifications", headers=auth)) == []
    assert len(await _json(client.get("/v1/me/notifications?archived=true", headers=auth))) == 1
    assert (await client.post("/v1/me/notifications/999/read", headers=auth)).status == 404
    await listener.close()


async def _json(request):
    resp = await request
    return await resp.json()


async def _async(value):
    return value


async def test_rate_limit_defers_and_digest_bundles(api, admin, worker, receiver):
    from datetime import UTC, datetime

    client, auth, owner, w, channel = await _subscribed(
        api, worker, receiver, "policy_created", rate_limit_per_hour=2,
        digest_hour_utc=(datetime.now(UTC).hour + 12) % 24)
    await w.run_once()
    for i in range(4):
        await _policy(admin, owner, policy_id=i + 1, txid=f"0x{i:064x}")
    for _ in range(3):
        await w.run_once()
    # 4 facts × (webhook + the default in-app subscription): 2 an hour for this user, the rest wait
    statuses = await admin.fetch("SELECT status, count(*) FROM notify.outbox WHERE purpose = 'notify' GROUP BY 1")
    assert dict((r["status"], r["count"]) for r in statuses) == {"sent": 2, "queued": 6}
    resp = await client.post("/v1/me/subscriptions", headers=auth, json={
        "kind": "proposal_created", "channel_id": channel["channel_id"], "digest": True})
    assert resp.status == 201 and (await resp.json())["digest"]
    for i in range(2):
        await admin.execute("INSERT INTO analytics.proposals (proposal_id, proposer, kind, key, value, state,"
                            " end_burn_height, created_txid, created_burn_height) VALUES ($1, $2, 'param', 'k', 1,"
                            " 'active', 900, $3, 100)", i + 1, owner, f"0x{i + 10:064x}")
    await w.run_once()
    assert await admin.fetchval("SELECT count(*) FROM notify.outbox WHERE status = 'held'") == 2
    from notify.worker import bundle_digests

    async with w.pool.acquire() as conn:
        await bundle_digests(conn, "2026-12-02")
        await bundle_digests(conn, "2026-12-02")  # once per day
    rows = await admin.fetch("SELECT payload FROM notify.outbox WHERE purpose = 'digest'")
    assert len(rows) == 1
    assert await admin.fetchval("SELECT count(*) FROM notify.outbox WHERE status = 'digested'") == 2


@pytest.mark.parametrize("target,status", [
    ("http://127.0.0.1:9/hook", 422),        # loopback, not allowed by default
    ("http://10.1.2.3/hook", 422),           # private
    ("http://169.254.169.254/latest", 422),  # link-local (cloud metadata)
    ("http://[::1]/x", 422),
    ("ftp://example.com/x", 422),
    ("http://user:pw@example.com/x", 422),
    ("not a url", 422),
    ("http://localhost./x", 422),
])
async def test_webhook_targets_checked(api, target, status):
    client = await api(notify_allow_loopback=False)
    auth, _ = await _user(client)
    resp = await client.post("/v1/me/channels", json={"kind": "webhook", "target": target}, headers=auth)
    assert resp.status == status, await resp.text()


async def test_bad_inputs_are_4xx(api, receiver):
    client = await api()
    auth, _ = await _user(client)
    big = {"kind": "webhook", "target": receiver.url, "template": {"text": "x" * 5000}}
    assert (await client.post("/v1/me/channels", json=big, headers=auth)).status in (400, 413)
    bad = await client.post("/v1/me/subscriptions", json={"kind": "policy_expiring", "params": {"blocks": -1}},
                            headers=auth)
    assert bad.status == 422
    assert (await client.post("/v1/me/subscriptions", json={"kind": "nope"}, headers=auth)).status == 422
    assert (await client.post("/v1/me/channels", json={"kind": "email", "target": "x@y.z"},
                              headers=auth)).status == 422  # email not configured on this server
    resp = await client.post("/v1/me/channels", json={"kind": "webhook", "target": receiver.url}, headers=auth)
    channel = await resp.json()
    unverified = await client.post("/v1/me/subscriptions", headers=auth,
                                   json={"kind": "policy_created", "channel_id": channel["channel_id"]})
    assert unverified.status == 409


class _Sink:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(envelope.content)
        return "250 OK"


def _free_port() -> int:
    # aiosmtpd's Controller(port=0) cannot probe its own readiness: bind a free port first
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_email_with_plain_text_part(api, admin, worker):
    from email import message_from_bytes, policy

    sink = _Sink()
    port = _free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        client = await api(notify_smtp_host="127.0.0.1", notify_smtp_port=port)
        auth, owner = await _user(client)
        w = await worker(smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False)
        resp = await client.post("/v1/me/channels", json={"kind": "email", "target": "alice@example.com"},
                                 headers=auth)
        assert resp.status == 201
        channel = await resp.json()
        assert await eventually(lambda: _async(sink.messages))
        verify = message_from_bytes(sink.messages[0], policy=policy.default)
        code = verify.get_body(("plain",)).get_content().strip().rsplit(" ", 1)[1].rstrip(".")
        assert (await client.post(f"/v1/me/channels/{channel['channel_id']}/verify", json={"code": code},
                                  headers=auth)).status == 200
        await _subscribe(client, auth, "policy_created", channel["channel_id"])
        await w.run_once()
        await _policy(admin, owner)
        assert await eventually(lambda: _async(len(sink.messages) >= 2))
        mail = message_from_bytes(sink.messages[1], policy=policy.default)
        assert mail["Subject"] == "Policy 1 created" and mail["To"] == "alice@example.com"
        plain = mail.get_body(("plain",)).get_content()
        assert "owner: " + owner in plain and mail.get_body(("html",)) is not None
        assert mail["X-BitHedge-Delivery"]
    finally:
        controller.stop()


async def _direct_channel(admin, user_auth_client, target) -> int:
    """A confirmed webhook channel written straight to the table (as if its name resolved publicly at creation)."""
    from notify.secrets import SecretBox
    from tests.notify.conftest import KEY

    user_id = await admin.fetchval("SELECT min(user_id) FROM notify.users")
    channel_id = await admin.fetchval(
        "INSERT INTO notify.channels (user_id, kind, target, verified_at) VALUES ($1, 'webhook', $2, now())"
        " RETURNING channel_id", user_id, target)
    await admin.execute("UPDATE notify.channels SET secret_enc = $2 WHERE channel_id = $1", channel_id,
                        SecretBox(KEY).seal("whsec_x", channel_id))
    await admin.execute("INSERT INTO notify.subscriptions (user_id, channel_id, kind) VALUES ($1, $2, 'policy_created')",
                        user_id, channel_id)
    return channel_id


async def test_connect_time_and_redirect_checks(api, admin, worker, receiver):
    from aiohttp import web

    client = await api()
    _, owner = await _user(client)
    # a name that resolves to loopback, with loopback not allowed: refused when connecting, nothing arrives
    port = receiver.url.split(":")[2].split("/")[0]
    rebind = await _direct_channel(admin, client, f"http://localhost:{port}/hook")
    w = await worker(allow_loopback=False, max_attempts=1)
    await w.run_once()
    await _policy(admin, owner)
    row = await eventually(lambda: admin.fetchrow(
        "SELECT status, last_error FROM notify.outbox WHERE channel_id = $1 AND status = 'dead'", rebind))
    assert row and "non-public" in row["last_error"] and receiver.received == []
    await w.stop()
    # every redirect hop is checked again: a hop to the unspecified address is refused
    hops = web.Application()
    async def redirect(_request):
        raise web.HTTPTemporaryRedirect("http://0.0.0.0:9/x")

    hops.router.add_post("/hop", redirect)
    runner = web.AppRunner(hops)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        hop = await _direct_channel(admin, client, f"http://127.0.0.1:{runner.addresses[0][1]}/hop")
        w2 = await worker(max_attempts=1)
        await w2.run_once()
        await _policy(admin, owner, policy_id=2, txid="0x" + "77" * 32)
        row = await eventually(lambda: admin.fetchrow(
            "SELECT last_error FROM notify.outbox WHERE channel_id = $1 AND status = 'dead'", hop))
        assert row and "non-public address 0.0.0.0" in row["last_error"]
    finally:
        await runner.cleanup()


async def test_health_ready_metrics(api, admin, worker):
    import aiohttp

    client = await api()
    _, owner = await _user(client)
    w = await worker()
    await w.run_once()
    await _policy(admin, owner)
    assert await eventually(lambda: admin.fetchval("SELECT count(*) FROM notify.in_app"))
    await w.run_once()
    async with aiohttp.ClientSession() as http:
        base = f"http://127.0.0.1:{w.port}"
        assert (await http.get(base + "/health")).status == 200
        assert (await http.get(base + "/ready")).status == 200
        text = await (await http.get(base + "/metrics")).text()
    assert 'bithedge_notify_sent_total{channel="in_app"} 1.0' in text
    assert "bithedge_notify_latency_seconds_count 1.0" in text and "bithedge_notify_queued 0.0" in text


async def test_a_subscription_made_while_a_scan_transaction_runs_sees_later_facts(api, admin, db_url):
    """A scan reads facts in statements after the one that began its transaction: a fact committed after a
    subscription must reach it even when the scan began before the subscription (it once did not, by the
    transaction's start time: the rate-limit/digest test was flaky for it)."""
    import asyncpg

    from bithedge.database import role_url
    from notify import facts

    scanner = await asyncpg.connect(role_url(db_url, "bithedge_notify"))
    try:
        await facts.scan(scanner, 0)  # the first scan ever: the baseline
        outer = scanner.transaction()
        await outer.start()  # the scan's transaction begins here, before the subscription exists
        await scanner.fetchval("SELECT now()")
        client = await api()
        auth, owner = await _user(client)  # signing in subscribes the user (in app) to policy_created
        await _policy(admin, owner)
        result = await facts.scan(scanner, 0)
        await outer.commit()
        assert result.new == 1
        assert await admin.fetchval("SELECT count(*) FROM notify.outbox WHERE purpose = 'notify'"
                                    " AND fact_key LIKE 'policy_created:%'") == 1
    finally:
        await scanner.close()
