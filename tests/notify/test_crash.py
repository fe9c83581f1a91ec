"""``bithedge notify serve`` killed with SIGKILL mid-delivery, then restarted: every delivery id reaches the
receiver, and the only ids that arrive twice are requests the kill interrupted. Secrets never reach the log."""

from __future__ import annotations

import asyncio
import base64
import os
import signal
import sys
from collections import Counter

from bithedge.database import role_url
from tests.notify.conftest import KEY, eventually
from tests.notify.seed import price_crossing, webhook_users
from tests.processes import free_port

USERS = 40
SMTP_PASSWORD = "smtp-password-" + os.urandom(8).hex()


async def _serve(db_url: str, tmp_path, log) -> asyncio.subprocess.Process:
    env = {**os.environ, "DATABASE_URL": role_url(db_url, "bithedge_notify"),
           "BITHEDGE_DATA_DIR": str(tmp_path), "BITHEDGE_NOTIFY_SECRET_KEY": base64.b64encode(KEY).decode(),
           "BITHEDGE_NOTIFY_ALLOW_LOOPBACK": "true", "BITHEDGE_NOTIFY_CONFIRMATIONS": "0",
           "BITHEDGE_NOTIFY_POLL_S": "0.2", "BITHEDGE_NOTIFY_RETRY_BASE_S": "0.05", "BITHEDGE_NOTIFY_CONCURRENCY": "8",
           "BITHEDGE_NOTIFY_PORT": str(free_port()), "BITHEDGE_NOTIFY_SMTP_HOST": "127.0.0.1",
           "BITHEDGE_NOTIFY_SMTP_USER": "bithedge", "BITHEDGE_NOTIFY_SMTP_PASSWORD": SMTP_PASSWORD,
           "BITHEDGE_LOG_LEVEL": "debug"}
    return await asyncio.create_subprocess_exec(sys.executable, "-m", "bithedge", "notify", "serve", env=env,
                                                stdout=log, stderr=log)


async def test_sigkill_mid_delivery_then_restart_delivers_each_id(db_url, admin, receiver, tmp_path):
    secrets = await webhook_users(admin, USERS, receiver.url, KEY)
    receiver.delay_s = 0.5  # requests stay in flight long enough to be killed
    log_path = tmp_path / "notify.log"
    with open(log_path, "wb") as log:
        proc = await _serve(db_url, tmp_path, log)
        try:
            assert await eventually(lambda: admin.fetchval("SELECT count(*) FROM notify.scan_state"), 60)
            await price_crossing(admin, 1)
            assert await eventually(lambda: _value(len(receiver.received) >= 12), 60)
            proc.send_signal(signal.SIGKILL)
            await proc.wait()
            assert proc.returncode == -signal.SIGKILL
            sent_before = await admin.fetchval("SELECT count(*) FROM notify.outbox WHERE status = 'sent'")
            assert sent_before < USERS  # the kill landed mid-delivery
            receiver.delay_s = 0
            proc = await _serve(db_url, tmp_path, log)
            done = await eventually(lambda: admin.fetchval(
                "SELECT count(*) = $1 FROM notify.outbox WHERE status = 'sent'", USERS), 90)
            assert done
        finally:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
                await asyncio.wait_for(proc.wait(), 30)
    assert proc.returncode == 0  # graceful shutdown
    expected = {str(r["delivery_id"]) for r in await admin.fetch("SELECT delivery_id FROM notify.outbox")}
    counts = Counter(receiver.ids())
    assert set(counts) == expected  # none missing, none unknown
    interrupted = {str(r["delivery_id"]) for r in await admin.fetch(
        "SELECT DISTINCT delivery_id FROM notify.delivery_attempts WHERE status = 'interrupted'")}
    twice = {d for d, n in counts.items() if n > 1}
    assert twice <= interrupted and all(n <= 2 for n in counts.values())
    assert await admin.fetchval("SELECT count(*) FROM notify.delivery_attempts WHERE status = 'sent'") == USERS
    text = log_path.read_text()
    assert "notify_started" in text
    for secret in [SMTP_PASSWORD, base64.b64encode(KEY).decode(), *secrets.values()]:
        assert secret not in text


async def _value(v):
    return v
