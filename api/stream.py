"""``GET /v1/stream``: Server-Sent Events of what the analytics just learnt, driven by the transforms daemon's
after-build ``NOTIFY bithedge_analytics`` (``bithedge.channels.ANALYTICS``).

Events:

- ``policy`` (id ``<stacks height>-<n>``): a policy created, settled or voided (a ``PoolEvent`` row);
- ``price`` (id ``<stacks height>-<n>``): an oracle price (a ``PriceUpdate`` row);
- ``block`` (no id): the heights the analytics now include, once per build;
- ``freshness`` (no id): the ``/v1/freshness`` document, once per build;
- ``notification`` (on a signed-in user's stream only, their own): an in-app notification (``notify.relay``);
- ``reset`` (no id): events were missed (resume too far back, a reorg, or a slow reader catching up): refetch
  what you show over the REST endpoints.

Ids are derived from the analytics themselves (the n-th event of that Stacks height in a fixed order), so a
reconnect with ``Last-Event-ID`` replays exactly what came after it, from any API process. A browser's
EventSource cannot send headers: it first gets a short-lived token (``POST /v1/stream/token`` with its key)
and connects with ``?token=``. On a user's stream ids carry the in-app cursor too, ``<height>-<n>.<id>``
(``notify.relay``).

Each client has a bounded queue; a client whose queue fills (it stopped reading, so its socket is full) is
disconnected, and the others never wait for it.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
from aiohttp import web
from pydantic import BaseModel, Field

from api.auth import Principal, presented_key
from api.oracle import PriceUpdate
from api.platform import FRESHNESS
from api.pools import PoolEvent
from api.problems import Problem
from api.routing import Ctx, QueryModel, RouteTable
from api.state import STATE, ApiState
from api.views import select_list
from bithedge import logs
from bithedge.channels import ANALYTICS as ANALYTICS_CHANNEL
from bithedge.pg_listen import listen_forever
from notify import relay

routes = RouteTable("stream", "Live events (Server-Sent Events)")
log = logs.get("api.stream")

#: most events one resume replays; further back, the client gets ``reset`` and refetches
REPLAY_MAX = 1000
PING_S = 15.0
HUB = "stream"


@dataclass(frozen=True)
class Event:
    kind: str
    data: str
    #: ``(stacks height, n)`` for replayable events
    key: tuple[int, int] | None = None
    #: an in-app notification's id (``notify.relay``): replayable on its user's stream
    notification_id: int | None = None

    def frame(self, last: tuple[int, int] | None = None, notified: int | None = None) -> bytes:
        """``notified``: a user's stream, whose ids also carry its in-app cursor; a notification's id names the
        analytics cursor ``last`` beside its own."""
        key = self.key or (last if self.notification_id is not None else None)
        head = f"id: {key[0]}-{key[1]}{'' if notified is None else f'.{notified}'}\n" if key else ""
        return f"{head}event: {self.kind}\ndata: {self.data}\n\n".encode()


def _parse_id(text: str | None) -> tuple[int, int] | None:
    if not text:
        return None
    height, sep, n = text.partition("-")
    if not (sep and height.isdigit() and n.isdigit() and len(text) < 40):
        raise Problem(400, "Invalid Input", "Last-Event-ID must be an id this stream sent (`<height>-<n>`)",
                      type="urn:bithedge:invalid-input")
    return int(height), int(n)


async def events_after(db: asyncpg.Pool, after: tuple[int, int], upto: int, limit: int) -> list[Event] | None:
    """The replayable events after id ``after`` up to Stacks height ``upto``, numbered per height in a fixed
    order (policies, then prices, each by block and event index); ``None`` when there are more than ``limit``."""
    start = after[0]
    policy_rows = await db.fetch(
        f"SELECT {select_list(PoolEvent)} FROM analytics.pool_history WHERE policy_id IS NOT NULL "
        "AND stacks_height >= $1 AND stacks_height <= $2 ORDER BY stacks_height, stacks_block_height, event_index "
        "LIMIT $3", start, upto, limit + 1)
    price_rows = await db.fetch(
        f"SELECT {select_list(PriceUpdate)} FROM analytics.oracle_prices WHERE stacks_height >= $1 "
        "AND stacks_height <= $2 ORDER BY stacks_height, stacks_block_height, event_index LIMIT $3",
        start, upto, limit + 1)
    if len(policy_rows) > limit or len(price_rows) > limit:
        return None
    tagged = sorted([(r["stacks_height"], 0, r["stacks_block_height"], r["event_index"], "policy",
                      PoolEvent(**dict(r))) for r in policy_rows]
                    + [(r["stacks_height"], 1, r["stacks_block_height"], r["event_index"], "price",
                        PriceUpdate(**dict(r))) for r in price_rows], key=lambda t: t[:4])
    out: list[Event] = []
    height, n = None, 0
    for h, *_, kind, model in tagged:
        n = n + 1 if h == height else 1
        height = h
        if (h, n) > after:
            out.append(Event(kind, model.model_dump_json(), (h, n)))
    return out if len(out) <= limit else None


class Client:
    def __init__(self, size: int, user_id: int | None = None) -> None:
        self.queue: asyncio.Queue[Event] = asyncio.Queue(size)
        self.dropped = asyncio.Event()
        #: a signed-in user's stream (``notify.relay``): whose notifications, and the last one sent
        self.user_id = user_id
        self.notified = 0


class Hub:
    """Listens for the transforms' NOTIFY, turns each build into events once, fans them out to every client."""

    def __init__(self, state: ApiState) -> None:
        self.state = state
        self.clients: set[Client] = set()
        self.height = 0  # the Stacks height published up to
        self.secret = (state.settings.api_stream_secret.get_secret_value().encode()
                       if state.settings.api_stream_secret else state.stream_secret)
        self.listening = asyncio.Event()
        self._listener: asyncio.Task | None = None
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        self.height = await self._built_height() or 0
        self._listener = asyncio.create_task(self._listen())

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.gather(self._listener, return_exceptions=True)
        for c in list(self.clients):
            c.dropped.set()

    async def _built_height(self) -> int | None:
        if not await self.state.pool.fetchval("SELECT to_regclass('analytics.freshness') IS NOT NULL"):
            return None
        return await self.state.pool.fetchval("SELECT marts_stacks_height FROM analytics.freshness")

    async def _listen(self) -> None:
        """LISTEN on its own connection; after each (re)connect, catch up on a build missed meanwhile."""
        async def catch_up() -> None:
            if (height := await self._built_height()) is not None and height != self.height:
                await self.on_build(height, None)

        await listen_forever(self.state.db_url, ANALYTICS_CHANNEL, self._notified, self.listening, catch_up)

    def _notified(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        try:
            info = json.loads(payload)
            height = int(info["stacks_height"])
        except (ValueError, KeyError, TypeError):
            log.warning("bad_notify_payload", payload=payload[:200])
            return
        task = asyncio.get_running_loop().create_task(self.on_build(height, info.get("burn_height")))
        task.add_done_callback(lambda t: t.cancelled() or not t.exception() or
                               log.error("stream_build_failed", error=str(t.exception())))

    async def on_build(self, height: int, burn_height: int | None) -> None:
        """One transforms build: the new policy and price events, then the block and freshness snapshots."""
        async with self._lock:
            self.state.cache.invalidate()
            if height < self.height:
                self.publish([Event("reset", json.dumps({"reason": "reorg", "stacks_height": height}))])
            elif height > self.height:
                events = await events_after(self.state.pool, (self.height + 1, 0), height, REPLAY_MAX)
                self.publish(events if events is not None else
                             [Event("reset", json.dumps({"reason": "too-many-events", "stacks_height": height}))])
            self.height = height
            snapshot = await FRESHNESS.all(self.state.pool, order="built_at")
            self.publish([Event("block", json.dumps({"stacks_height": height, "burn_height": burn_height}))]
                         + [Event("freshness", s.model_dump_json()) for s in snapshot])

    def publish(self, events: list[Event]) -> None:
        for client in list(self.clients):
            for e in events:
                try:
                    client.queue.put_nowait(e)
                except asyncio.QueueFull:
                    self._drop(client)
                    break

    def _drop(self, client: Client) -> None:
        """A client that does not keep up is disconnected; it may reconnect with its Last-Event-ID."""
        self.clients.discard(client)
        client.dropped.set()
        self.state.metrics.stream_dropped.inc()

    # ---- tokens for EventSource ------------------------------------------------------------------
    def token(self, principal: Principal, ttl_s: int) -> tuple[str, int]:
        expires = int(time.time()) + ttl_s
        payload = f"{principal.prefix or '-'}.{expires}"
        return f"{payload}.{self._sign(payload)}", expires

    def _sign(self, payload: str) -> str:
        mac = hmac.new(self.secret, payload.encode(), hashlib.sha256).digest()[:18]
        return base64.urlsafe_b64encode(mac).decode()

    def check_token(self, token: str) -> tuple[str | None, bool]:
        """``(key prefix or None for anonymous, valid)``: signed by this hub and not expired."""
        payload, _, sig = token.rpartition(".")
        prefix, _, expires = payload.partition(".")
        valid = (bool(sig) and hmac.compare_digest(self._sign(payload), sig) and expires.isdigit()
                 and int(expires) > time.time())
        return (None if prefix == "-" else prefix), valid


def hub_of(request: web.Request) -> Hub:
    return request.app[STATE].extras[HUB]


@routes.lifespan
async def run_hub(app: web.Application) -> AsyncIterator[None]:
    hub = Hub(app[STATE])
    app[STATE].extras[HUB] = hub
    await hub.start()
    yield
    await hub.stop()


class StreamToken(BaseModel):
    token: str = Field(description="Pass as `?token=` to `/v1/stream` (EventSource cannot send headers).")
    expires_at: datetime


class StreamQuery(QueryModel):
    token: str | None = Field(default=None, max_length=200, pattern=r"^[A-Za-z0-9_.=-]+$",
                              description="A token from `POST /v1/stream/token` (instead of a key header).")
    last_event_id: str | None = Field(default=None, max_length=60, pattern=r"^[0-9]+-[0-9]+(\.[0-9]+)?$",
                                      description="Resume after this event id (the `Last-Event-ID` header wins).")


@routes.post("/v1/stream/token", scope="read", status=201)
async def stream_token(ctx: Ctx) -> StreamToken:
    """A short-lived token for `/v1/stream?token=` (for browsers' EventSource)."""
    token, expires = hub_of(ctx.request).token(ctx.principal, ctx.state.settings.api_stream_token_ttl_s)
    return StreamToken(token=token, expires_at=datetime.fromtimestamp(expires, UTC))


async def _stream_principal(ctx: Ctx, token: str | None) -> Principal:
    auth, pool = ctx.state.auth, ctx.state.pool
    if token is None:
        found = await auth.principal(pool, presented_key(ctx.request))
    else:
        prefix, valid = hub_of(ctx.request).check_token(token)
        if not valid:
            raise Problem(401, "Unauthorized", "stream token invalid or expired; get a new one",
                          headers={"WWW-Authenticate": "Bearer"})
        found = None if prefix is None else await auth.principal_by_prefix(pool, prefix)
    return auth.authorize(found, "read", ctx.request.remote or "")


EVENT_SCHEMA = {
    "type": "object", "required": ["event", "data"],
    "description": "One event. `data` is JSON: a `PoolEvent` (policy), a `PriceUpdate` (price), "
                   "`{stacks_height, burn_height}` (block), a `Freshness` (freshness) or `{reason}` (reset).",
    "properties": {
        "event": {"enum": ["policy", "price", "block", "freshness", "notification", "reset"]},
        "data": {"type": "string", "contentMediaType": "application/json"},
        "id": {"type": "string", "pattern": r"^[0-9]+-[0-9]+(\.[0-9]+)?$",
               "description": "Replayable events only: send it back as `Last-Event-ID` to resume after it."},
    },
}


@routes.get("/v1/stream", scope=None, errors=(401, 403, 429), raw_schema=EVENT_SCHEMA,
            raw=("text/event-stream", "Server-Sent Events: `policy`, `price`, `block`, `freshness`, `reset`"))
async def stream(ctx: Ctx, *, query: StreamQuery) -> web.StreamResponse:
    """Live events; resume with `Last-Event-ID`. A signed-in user's stream (session token or user key) also
    carries their in-app notifications."""
    user_id = await relay.stream_user(ctx, query.token)
    if user_id is None:
        await _stream_principal(ctx, query.token)
    analytics_id, notified = relay.split_cursor(ctx.request.headers.get("Last-Event-ID") or query.last_event_id)
    after = _parse_id(analytics_id)
    hub = hub_of(ctx.request)
    client = Client(ctx.state.settings.api_stream_queue, user_id)
    in_app = relay.relay_of(ctx.state) if user_id is not None else None
    hub.clients.add(client)  # before the replay, so nothing published meanwhile is missed
    if in_app is not None:
        in_app.add(client)
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache",
                                           "X-Accel-Buffering": "no"})
    metrics = ctx.state.metrics
    metrics.stream_clients.inc()
    try:
        await response.prepare(ctx.request)
        await response.write(b": connected\n\n")
        last = after or (hub.height + 1, 0)
        replayed_in_app = await in_app.start_cursor(client, notified, REPLAY_MAX) if in_app else []
        cursor = client.notified if in_app else None
        if after is not None:
            replay = await events_after(ctx.db, after, hub.height, REPLAY_MAX)
            for e in replay if replay is not None else [Event("reset", json.dumps({"reason": "too-far-back"}))]:
                await response.write(e.frame(notified=cursor))
                last = e.key or last
        for e in replayed_in_app:
            client.notified = e.notification_id or client.notified
            await response.write(e.frame(last, client.notified))
        await _pump(client, response, last)
    except ConnectionResetError:
        pass
    finally:
        hub.clients.discard(client)
        if in_app is not None:
            in_app.discard(client)
        metrics.stream_clients.dec()
        if client.dropped.is_set() and ctx.request.transport is not None:
            ctx.request.transport.abort()  # its unread bytes are dropped with it
    return response


async def _pump(client: Client, response: web.StreamResponse, last: tuple[int, int]) -> None:
    """Write queued events (skipping replayed ones) until the client is dropped or goes away."""
    dropped = asyncio.ensure_future(client.dropped.wait())
    try:
        while not client.dropped.is_set():
            get = asyncio.ensure_future(client.queue.get())
            done, _ = await asyncio.wait({get, dropped}, timeout=PING_S, return_when=asyncio.FIRST_COMPLETED)
            if get not in done:
                get.cancel()
                if not done:
                    await _write(response, b": ping\n\n", client)
                continue
            event = get.result()
            if event.key is not None and event.key <= last:
                continue
            if event.notification_id is not None:
                if event.notification_id <= client.notified:
                    continue  # replayed already
                client.notified = event.notification_id
            await _write(response, event.frame(last, client.notified if client.user_id is not None else None),
                         client)
            # after a reset (a reorg) heights start again below what was sent
            last = event.key or ((0, 0) if event.kind == "reset" else last)
    finally:
        dropped.cancel()


async def _write(response: web.StreamResponse, data: bytes, client: Client) -> None:
    """One write; a write stuck because the client stopped reading ends when the hub drops the client."""
    write = asyncio.ensure_future(response.write(data))
    dropped = asyncio.ensure_future(client.dropped.wait())
    try:
        await asyncio.wait({write, dropped}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        dropped.cancel()
    if not write.done():
        write.cancel()
        raise ConnectionResetError("client dropped: it stopped reading")
    write.result()
