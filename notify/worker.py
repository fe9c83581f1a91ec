"""``bithedge notify serve``: scan analytics for facts, decide, deliver the outbox exactly once per delivery id.

Wakes on ``NOTIFY bithedge_analytics`` (the transforms daemon, after each build), on ``NOTIFY bithedge_notify``
(the API, after queueing a verification message) and every ``poll_s``. Delivery: due rows are leased (attempts
+1, ``next_attempt_at`` pushed past the request timeout) and an attempt row is written *before* the request, so a
worker killed mid-request leaves a ``started`` attempt that the next start marks ``interrupted`` and resends with
the same delivery id. Success, failure (retry after ``base·2^n`` with full jitter, capped; dead after
``max_attempts``) and the attempt's outcome commit together; a row already ``sent`` is never sent again (the
update names ``status = 'queued'``). In-app notifications are written in that same transaction (exactly once)
and announced with ``NOTIFY bithedge_notify_in_app`` (``{"user_id", "notification_id"}``) for the API's stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import secrets
import signal
import smtplib
import ssl
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import aiohttp
import asyncpg
from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from bithedge import channels, logs
from bithedge.ops_http import serve_ops
from notify import facts, templates
from notify.secrets import SecretBox, digest, sign_webhook
from notify.targets import PublicResolver, TargetError, check_url

ANALYTICS_CHANNEL = channels.ANALYTICS
WAKE_CHANNEL = channels.NOTIFY_WAKE
IN_APP_CHANNEL = channels.NOTIFY_IN_APP
MAX_RESPONSE_BYTES = 64 * 1024
MAX_REDIRECTS = 3
VERIFY_TTL_S = 86_400


@dataclass
class WorkerConfig:
    url: str
    secret_key: bytes
    host: str = "127.0.0.1"
    port: int = 4200
    confirmations: int = 1
    max_attempts: int = 8
    retry_base_s: float = 2.0
    retry_max_s: float = 3600.0
    rate_limit_per_hour: int = 120
    digest_hour_utc: int = 8
    allow_loopback: bool = False
    webhook_timeout_s: float = 10.0
    concurrency: int = 16
    poll_s: float = 5.0
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_starttls: bool = True
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "bithedge@localhost"
    smtp_ca_file: str | None = None


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.queued = Gauge("bithedge_notify_queued", "Deliveries waiting (queued)", registry=self.registry)
        self.sent = Counter("bithedge_notify_sent", "Deliveries sent", ["channel"], registry=self.registry)
        self.failed = Counter("bithedge_notify_failed", "Failed delivery attempts", ["channel"], registry=self.registry)
        self.dead = Counter("bithedge_notify_dead", "Deliveries given up", registry=self.registry)
        self.latency = Histogram(
            "bithedge_notify_latency_seconds", "Fact visible in analytics to delivered", registry=self.registry,
            buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300))


@dataclass
class _Sent:
    """A delivery that went out, waiting for the group commit that records it."""

    row: asyncpg.Record
    latency_ms: float
    http_status: int | None
    title: str
    text: str
    payload: str


class DeliveryFailed(Exception):
    def __init__(self, message: str, http_status: int | None = None) -> None:
        super().__init__(message)
        self.http_status = http_status


class Worker:
    def __init__(self, cfg: WorkerConfig) -> None:
        self.cfg = cfg
        self.log = logs.get("notify")
        self.metrics = Metrics()
        self.box = SecretBox(cfg.secret_key)
        self.wake = asyncio.Event()
        self.stopping = asyncio.Event()
        self.ready = False
        self.pool: asyncpg.Pool | None = None
        self.http: aiohttp.ClientSession | None = None
        self._tasks: list[asyncio.Task] = []
        self._inflight: set[asyncio.Task] = set()
        self._pending: list[tuple[_Sent, asyncio.Future]] = []
        self._committer: asyncio.Task | None = None
        self._round = asyncio.Lock()
        self._runner: web.AppRunner | None = None
        self.port = cfg.port

    # ---- lifecycle -------------------------------------------------------------------------------------
    async def start(self) -> int:
        self.pool = await asyncpg.create_pool(self.cfg.url, min_size=1, max_size=self.cfg.concurrency + 2,
                                              server_settings={"application_name": "bithedge-notify"})
        # aiohttp bypasses the resolver for literal IPs: check_url covers those on every hop
        self.http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(resolver=PublicResolver(self.cfg.allow_loopback), limit=self.cfg.concurrency,
                                           use_dns_cache=False),
            timeout=aiohttp.ClientTimeout(total=self.cfg.webhook_timeout_s, connect=min(5.0, self.cfg.webhook_timeout_s)),
            trust_env=False)
        # one worker per database: requests a previous process left in flight are resent now, same delivery id
        await self.pool.execute(
            "UPDATE notify.outbox o SET next_attempt_at = now() FROM notify.delivery_attempts a"
            " WHERE a.delivery_id = o.delivery_id AND a.status = 'started' AND o.status = 'queued'")
        await self.pool.execute(
            "UPDATE notify.delivery_attempts SET status = 'interrupted', error = 'worker stopped mid-request'"
            " WHERE status = 'started'")
        self._runner, self.port = await serve_ops(self.cfg.host, self.cfg.port, health=self._health,
                                                  ready=self._ready, metrics=self._metrics)
        self.wake.set()
        self._tasks = [asyncio.create_task(self._listen()), asyncio.create_task(self._loop())]
        self.log.info("notify_started", port=self.port)
        return self.port

    async def stop(self) -> None:
        """Stop taking work, let requests in flight finish (their outcome commits), close."""
        self.stopping.set()
        self.wake.set()
        self._tasks[0].cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._inflight:
            await asyncio.gather(*self._inflight, return_exceptions=True)
        if self._runner:
            await self._runner.cleanup()
        if self.http:
            await self.http.close()
        if self.pool:
            await self.pool.close()
        self.log.info("notify_stopped")

    # ---- waking ----------------------------------------------------------------------------------------
    async def _listen(self) -> None:
        backoff = 1.0
        while not self.stopping.is_set():
            try:
                conn = await asyncpg.connect(self.cfg.url)
                try:
                    for channel in (ANALYTICS_CHANNEL, WAKE_CHANNEL):
                        await conn.add_listener(channel, lambda *_: self.wake.set())
                    backoff = 1.0
                    self.wake.set()
                    while not conn.is_closed():
                        await asyncio.sleep(1.0)
                finally:
                    await conn.close()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - reconnect whatever broke the connection
                self.log.warning("listen_failed", error=repr(exc), retry_s=backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 60.0)

    async def _loop(self) -> None:
        while not self.stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), timeout=self.cfg.poll_s)
            self.wake.clear()
            if self.stopping.is_set():
                break
            try:
                await self.run_once()
                self.ready = True
            except Exception as exc:  # noqa: BLE001 - a failed round is retried at the next wake
                self.ready = False
                self.log.error("notify_round_failed", error=repr(exc))
                await asyncio.sleep(1.0)

    async def run_once(self) -> int:
        """One round: scan and decide, bundle digests when due, deliver what is due. Returns deliveries tried.
        Rounds never overlap (a claim must see the previous round's sends to apply the rate limit)."""
        async with self._round:
            return await self._round_unlocked()

    async def _round_unlocked(self) -> int:
        assert self.pool is not None
        async with self.pool.acquire() as conn:
            result = await facts.scan(conn, self.cfg.confirmations)
            if result.new or result.removed or result.queued:
                self.log.info("notify_scan", tip=result.tip, new=result.new, removed=result.removed,
                              restored=result.restored, queued=result.queued)
            if datetime.now(UTC).hour == self.cfg.digest_hour_utc:
                await bundle_digests(conn, datetime.now(UTC).date().isoformat())
        tried = 0
        while not self.stopping.is_set():
            batch = await self._claim()
            if not batch:
                break
            tried += len(batch)
            await asyncio.gather(*(self._track(row) for row in batch))
        self.metrics.queued.set(await self.pool.fetchval("SELECT count(*) FROM notify.outbox WHERE status = 'queued'"))
        return tried

    async def _track(self, row: asyncpg.Record) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._inflight.add(task)
        try:
            await self._deliver(row)
        finally:
            self._inflight.discard(task)

    # ---- delivery --------------------------------------------------------------------------------------
    async def _claim(self) -> list[asyncpg.Record]:
        lease = f"{self.cfg.webhook_timeout_s * (MAX_REDIRECTS + 1) + 30} seconds"
        assert self.pool is not None
        async with self.pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                # the per-user hourly limit: notifications sent in the last hour plus those ahead in this batch;
                # a row over it waits a minute (a limited user does not hold up the line)
                f"""WITH cand AS (
                      SELECT o.delivery_id, o.user_id, o.purpose, o.next_attempt_at FROM notify.outbox o
                      WHERE o.status = 'queued' AND o.next_attempt_at <= now() ORDER BY o.next_attempt_at LIMIT $1 * 4
                    ), recent AS (
                      SELECT s.user_id, count(*) AS n FROM notify.outbox s
                      WHERE s.user_id IN (SELECT user_id FROM cand) AND s.purpose = 'notify' AND s.status = 'sent'
                        AND s.sent_at > now() - interval '1 hour' GROUP BY s.user_id
                    ), line AS (
                      SELECT c.delivery_id, c.next_attempt_at, c.purpose <> 'notify' OR coalesce(r.n, 0)
                             + row_number() OVER (PARTITION BY c.user_id, c.purpose = 'notify'
                                                  ORDER BY c.next_attempt_at, c.delivery_id)
                             <= coalesce(u.rate_limit_per_hour, $2) AS ok
                      FROM cand c JOIN notify.users u ON u.user_id = c.user_id LEFT JOIN recent r ON r.user_id = c.user_id
                    ), deferred AS (
                      UPDATE notify.outbox o SET next_attempt_at = now() + interval '60 seconds'
                      FROM line WHERE o.delivery_id = line.delivery_id AND NOT line.ok RETURNING 1
                    ), allowed AS (
                      SELECT delivery_id FROM line WHERE ok ORDER BY next_attempt_at LIMIT $1
                    ), due AS (
                      SELECT o.delivery_id FROM notify.outbox o JOIN allowed USING (delivery_id)
                      WHERE o.status = 'queued' AND o.next_attempt_at <= now() FOR UPDATE OF o SKIP LOCKED)
                    UPDATE notify.outbox o SET attempts = o.attempts + 1, next_attempt_at = now() + interval '{lease}'
                    FROM due, notify.channels c
                    WHERE o.delivery_id = due.delivery_id AND c.channel_id = o.channel_id
                    RETURNING o.delivery_id, o.purpose, o.fact_key, o.user_id, o.channel_id, o.payload, o.attempts,
                              o.visible_at, c.kind, c.target, c.secret_enc, c.template, c.verified_at, c.disabled_at""",
                self.cfg.concurrency * 16, self.cfg.rate_limit_per_hour)
            if rows:
                await conn.executemany(
                    "INSERT INTO notify.delivery_attempts (delivery_id, attempt, status) VALUES ($1, $2, 'started')"
                    " ON CONFLICT (delivery_id, attempt) DO NOTHING",
                    [(r["delivery_id"], r["attempts"]) for r in rows])
        return rows

    async def _deliver(self, row: asyncpg.Record) -> None:
        payload = json.loads(row["payload"])
        template = json.loads(row["template"]) if row["template"] else None
        started = time.monotonic()
        http_status: int | None = None
        try:
            if row["disabled_at"] is not None:
                raise DeliveryFailed("channel disabled")
            if row["purpose"] == "verification":
                payload["code"] = await self._new_code(row["channel_id"])
            elif row["verified_at"] is None:
                raise DeliveryFailed("channel not verified")
            title, text = templates.render(payload, row["purpose"], template)
            if row["kind"] == "webhook":
                http_status = await self._webhook(row, payload, title)
            elif row["kind"] == "email":
                await self._email(row, title, text)
            await self._succeeded(row, payload, title, text, started, http_status)
        except (DeliveryFailed, TargetError, aiohttp.ClientError, TimeoutError, OSError, smtplib.SMTPException) as exc:
            http_status = getattr(exc, "http_status", http_status)
            await self._failed(row, exc, started, http_status)

    async def _new_code(self, channel_id: int) -> str:
        code = f"{secrets.randbelow(10**8):08d}"
        assert self.pool is not None
        await self.pool.execute(
            "UPDATE notify.channels SET verify_digest = $2, verify_expires_at = now() + make_interval(secs => $3)"
            " WHERE channel_id = $1", channel_id, digest(code), VERIFY_TTL_S)
        return code

    async def _webhook(self, row: asyncpg.Record, payload: dict, title: str) -> int:
        assert self.http is not None
        delivery_id = str(row["delivery_id"])
        body = templates.webhook_body(delivery_id, row["purpose"], payload, title)
        secret = self.box.open(row["secret_enc"], row["channel_id"])
        timestamp = int(time.time())
        headers = {"Content-Type": "application/json", "User-Agent": "bithedge-notify",
                   "X-BitHedge-Delivery": delivery_id, "X-BitHedge-Timestamp": str(timestamp),
                   "X-BitHedge-Signature": sign_webhook(secret, timestamp, body)}
        url = row["target"]
        for _ in range(MAX_REDIRECTS + 1):
            check_url(url, self.cfg.allow_loopback)
            async with self.http.post(url, data=body, headers=headers, allow_redirects=False) as resp:
                await resp.content.read(MAX_RESPONSE_BYTES)  # bounded: the rest is discarded with the connection
                if resp.status in (301, 302, 303, 307, 308) and "Location" in resp.headers:
                    url = str(resp.url.join(aiohttp.client.URL(resp.headers["Location"])))
                    continue
                if 200 <= resp.status < 300:
                    return resp.status
                raise DeliveryFailed(f"webhook answered {resp.status}", resp.status)
        raise DeliveryFailed("too many redirects")

    async def _email(self, row: asyncpg.Record, title: str, text: str) -> None:
        if not self.cfg.smtp_host:
            raise DeliveryFailed("email is not configured (BITHEDGE_NOTIFY_SMTP_HOST)")
        message = EmailMessage()
        message["From"] = self.cfg.smtp_from
        message["To"] = row["target"]
        message["Subject"] = title
        message["Message-ID"] = f"<{row['delivery_id']}@bithedge>"
        message["X-BitHedge-Delivery"] = str(row["delivery_id"])
        message.set_content(text)
        message.add_alternative(templates.html_part(text), subtype="html")
        await asyncio.to_thread(self._smtp_send, message)

    def _smtp_send(self, message: EmailMessage) -> None:
        cfg = self.cfg
        try:
            with smtplib.SMTP(cfg.smtp_host, cfg.smtp_port, timeout=cfg.webhook_timeout_s) as smtp:
                if cfg.smtp_starttls:
                    smtp.starttls(context=ssl.create_default_context(cafile=cfg.smtp_ca_file))
                if cfg.smtp_user:
                    smtp.login(cfg.smtp_user, cfg.smtp_password or "")
                smtp.send_message(message)
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryFailed(f"SMTP authentication failed for user {cfg.smtp_user!r}: {exc.smtp_code} "
                                 f"{_text(exc.smtp_error)}") from None
        except smtplib.SMTPNotSupportedError as exc:
            raise DeliveryFailed(f"SMTP server refused: {exc}") from None

    async def _succeeded(self, row: asyncpg.Record, payload: dict, title: str, text: str, started: float,
                         http_status: int | None) -> None:
        """Record a success; returns once it is committed. Successes that finish while a commit is running wait
        and commit together in the next (a group commit: one statement for many deliveries, not one each)."""
        done = asyncio.get_running_loop().create_future()
        self._pending.append((_Sent(row, (time.monotonic() - started) * 1000, http_status, title, text,
                                    json.dumps(payload)), done))
        if self._committer is None or self._committer.done():
            self._committer = asyncio.create_task(self._commit_successes())
        await done

    async def _commit_successes(self) -> None:
        assert self.pool is not None
        while self._pending:
            batch, self._pending = self._pending, []
            items = [item for item, _ in batch]
            try:
                # one statement, so atomic: each row becomes sent ('cancelled': a reorg removed the fact while the
                # request was in flight; it went out, so it is sent and gets its correction), its attempt's
                # outcome, the in-app rows and their NOTIFY (sent at commit)
                sent = set(await self.pool.fetchval(
                    _SUCCEEDED, [i.row["delivery_id"] for i in items], [i.row["attempts"] for i in items],
                    [i.http_status for i in items], [i.latency_ms for i in items], [i.title for i in items],
                    [i.text for i in items], [i.payload for i in items], [i.row["kind"] == "in_app" for i in items]))
            except Exception as exc:  # noqa: BLE001 - each waiting delivery fails as its own commit would have
                for _, done in batch:
                    done.set_exception(exc)
                continue
            now = datetime.now(UTC)
            for item, done in batch:
                row = item.row
                if row["delivery_id"] in sent:
                    self.metrics.sent.labels(row["kind"]).inc()
                    if row["visible_at"] is not None and row["purpose"] == "notify":
                        self.metrics.latency.observe(max(0.0, (now - row["visible_at"]).total_seconds()))
                done.set_result(None)

    async def _failed(self, row: asyncpg.Record, exc: Exception, started: float, http_status: int | None) -> None:
        assert self.pool is not None
        # a webhook URL can itself be a credential (many services put a token in the path): never log it
        error = str(exc).replace(row["target"], "<target>") if row["target"] else str(exc)
        if self.cfg.smtp_password:
            error = error.replace(self.cfg.smtp_password, "<password>")
        error = error[:500] or type(exc).__name__
        dead = row["attempts"] >= self.cfg.max_attempts
        delay = random.uniform(0, min(self.cfg.retry_max_s, self.cfg.retry_base_s * 2 ** (row["attempts"] - 1)))
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "UPDATE notify.outbox SET status = CASE WHEN $2 THEN 'dead' ELSE status END, last_error = $3,"
                " next_attempt_at = now() + make_interval(secs => $4) WHERE delivery_id = $1 AND status = 'queued'",
                row["delivery_id"], dead, error, delay)
            await conn.execute(
                "UPDATE notify.delivery_attempts SET status = 'failed', http_status = $3, latency_ms = $4, error = $5"
                " WHERE delivery_id = $1 AND attempt = $2", row["delivery_id"], row["attempts"], http_status,
                (time.monotonic() - started) * 1000, error)
        self.metrics.failed.labels(row["kind"]).inc()
        if dead:
            self.metrics.dead.inc()
        self.log.warning("delivery_failed", delivery_id=str(row["delivery_id"]), attempt=row["attempts"],
                         dead=dead, error=error)

    # ---- HTTP ------------------------------------------------------------------------------------------
    async def _health(self, _request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def _ready(self, _request: web.Request) -> web.Response:
        return web.json_response({"ready": self.ready}, status=200 if self.ready else 503)

    async def _metrics(self, _request: web.Request) -> web.Response:
        return web.Response(body=generate_latest(self.metrics.registry), headers={"Content-Type": CONTENT_TYPE_LATEST})


_SUCCEEDED = f"""
WITH b AS (
  SELECT * FROM unnest($1::uuid[], $2::int[], $3::int[], $4::float8[], $5::text[], $6::text[], $7::text[], $8::bool[])
    AS b(delivery_id, attempt, http_status, latency_ms, title, body, payload, in_app)
), o AS (
  UPDATE notify.outbox x SET status = 'sent', sent_at = now(), last_error = NULL FROM b
  WHERE x.delivery_id = b.delivery_id AND x.status IN ('queued', 'cancelled')
  RETURNING x.delivery_id, x.purpose, x.subscription_id, x.fact_key, x.user_id, x.channel_id, x.payload,
            b.title, b.body, b.payload AS rendered, b.in_app
), attempt AS (
  UPDATE notify.delivery_attempts a
  SET status = CASE WHEN EXISTS (SELECT 1 FROM o WHERE o.delivery_id = b.delivery_id) THEN 'sent' ELSE 'failed' END,
      http_status = b.http_status, latency_ms = b.latency_ms
  FROM b WHERE a.delivery_id = b.delivery_id AND a.attempt = b.attempt RETURNING 1
), correction AS ({facts.corrections_sql("o")} RETURNING 1
), in_app AS (
  INSERT INTO notify.in_app (delivery_id, user_id, title, body, payload)
  -- a per-user lock taken before the id is drawn: a user's ids are in commit order, so the stream's resume
  -- cursor (notify.relay) can say "after this id" without missing one that committed late
  SELECT delivery_id, user_id, title, body, rendered::jsonb
  FROM o, LATERAL (SELECT pg_advisory_xact_lock(1316, (o.user_id % 2147483647)::int)) AS per_user WHERE o.in_app
  ON CONFLICT (delivery_id) DO NOTHING RETURNING notification_id, user_id
)
SELECT array(SELECT delivery_id FROM o), (SELECT count(*) FROM in_app, pg_notify('{IN_APP_CHANNEL}', json_build_object(
  'user_id', user_id, 'notification_id', notification_id)::text))
"""

_DIGEST = """
WITH groups AS (
  SELECT user_id, channel_id, jsonb_agg(payload ORDER BY created_at) AS items, array_agg(delivery_id) AS members
  FROM notify.outbox WHERE status = 'held' GROUP BY user_id, channel_id
), inserted AS (
  INSERT INTO notify.outbox (delivery_id, dedupe_key, purpose, user_id, channel_id, payload)
  SELECT md5('digest:' || user_id || ':' || channel_id || ':' || $1)::uuid,
         'digest:' || user_id || ':' || channel_id || ':' || $1, 'digest', user_id, channel_id,
         jsonb_build_object('items', items)
  FROM groups
  ON CONFLICT (dedupe_key) DO NOTHING
  RETURNING delivery_id, user_id, channel_id
)
UPDATE notify.outbox o SET status = 'digested', digest_id = i.delivery_id
FROM inserted i, groups g
WHERE g.user_id = i.user_id AND g.channel_id = i.channel_id AND o.delivery_id = ANY(g.members)
"""


async def bundle_digests(conn: asyncpg.Connection, day: str) -> None:
    """Each (user, channel) with held deliveries gets one digest delivery per ``day``, in one transaction."""
    async with conn.transaction():
        await conn.execute(_DIGEST, day)


def _text(reply: bytes | str) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)


def config_from_settings(settings, url: str) -> WorkerConfig:
    from notify.secrets import load_key

    key = load_key(settings.notify_secret_key.get_secret_value() if settings.notify_secret_key else None,
                   Path(settings.data_dir))
    return WorkerConfig(
        url=url, secret_key=key, host=settings.host, port=settings.notify_port,
        confirmations=settings.notify_confirmations, max_attempts=settings.notify_max_attempts,
        retry_base_s=settings.notify_retry_base_s, retry_max_s=settings.notify_retry_max_s,
        rate_limit_per_hour=settings.notify_rate_limit_per_hour, digest_hour_utc=settings.notify_digest_hour_utc,
        allow_loopback=settings.notify_allow_loopback, webhook_timeout_s=settings.notify_webhook_timeout_s,
        concurrency=settings.notify_concurrency, poll_s=settings.notify_poll_s, smtp_host=settings.notify_smtp_host,
        smtp_port=settings.notify_smtp_port, smtp_starttls=settings.notify_smtp_starttls,
        smtp_user=settings.notify_smtp_user,
        smtp_password=settings.notify_smtp_password.get_secret_value() if settings.notify_smtp_password else None,
        smtp_from=settings.notify_smtp_from, smtp_ca_file=settings.notify_smtp_ca_file)


async def serve(cfg: WorkerConfig) -> None:
    worker = Worker(cfg)
    await worker.start()
    loop = asyncio.get_running_loop()
    done = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, done.set)
    await done.wait()
    await worker.stop()
