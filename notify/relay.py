"""In-app notifications on the API's ``/v1/stream``: a signed-in user's stream also carries ``notification``
events, their own only.

The worker writes each in-app row in the transaction that records its delivery and announces it with
``NOTIFY bithedge_notify_in_app`` ``{user_id, notification_id}``. :class:`InAppRelay` LISTENs on its own
connection, reads the row and queues it for that user's connected streams (and nobody else's). A lost LISTEN
connection is re-opened and every connected user's stream catches up from the database, so nothing committed
meanwhile is missed.

Who: a stream is a user's when it presents a session token or user API key (``Authorization: Bearer``), or a
``?token=`` from ``POST /v1/me/stream/token`` (signed by the stream hub, naming the session, checked again at
connect time so a revoked session cannot open a stream).

Resume: on a user's stream every event id carries the in-app cursor as a suffix, ``<height>-<n>.<notification
id>``; a reconnect with that ``Last-Event-ID`` replays the analytics events after ``<height>-<n>`` and the user's
notifications after the cursor, then goes live without gaps or repeats. Ids are in commit order per user (the
worker's insert takes a per-user transaction lock), so "after the cursor" misses nothing.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import asyncpg

from api.auth import presented_key
from api.problems import Problem
from bithedge import channels, logs
from bithedge.pg_listen import listen_forever
from notify import accounts
from notify.secrets import TOKEN_PREFIXES, TokenError, split_token

if TYPE_CHECKING:
    from api.routing import Ctx
    from api.state import ApiState
    from api.stream import Client, Event

IN_APP_CHANNEL = channels.NOTIFY_IN_APP
RELAY = "notify_relay"
#: stream-token prefixes of users' sessions (API key prefixes are hex, so they never start with it)
_USER_TOKEN = "u"

log = logs.get("notify.relay")

_ROW = ("SELECT notification_id, delivery_id::text, title, body, payload, created_at, read_at, archived_at"
        " FROM notify.in_app WHERE user_id = $1")


def split_cursor(text: str | None) -> tuple[str | None, int | None]:
    """``"<h>-<n>.<nid>"`` → ``("<h>-<n>", nid)``; an id without the suffix is the analytics cursor alone."""
    if not text:
        return text, None
    head, sep, tail = text.partition(".")
    if not sep:
        return text, None
    if not tail.isdigit() or len(tail) > 19:
        raise Problem(400, "Invalid Input", "Last-Event-ID must be an id this stream sent (`<height>-<n>[.<id>]`)",
                      type="urn:bithedge:invalid-input")
    return head, int(tail)


def notification_event(row: asyncpg.Record) -> Event:
    from api.stream import Event
    from notify.routes import Notification

    note = Notification(**{**dict(row), "payload": json.loads(row["payload"])})
    return Event("notification", note.model_dump_json(), notification_id=row["notification_id"])


class InAppRelay:
    def __init__(self, state: ApiState) -> None:
        self.state = state
        self.users: dict[int, set[Client]] = {}
        #: per client, the highest notification id queued for it (what a catch-up starts after)
        self.queued: dict[Client, int] = {}
        self.listening = asyncio.Event()
        self._task: asyncio.Task | None = None

    # ---- clients -------------------------------------------------------------------------------------------------
    def add(self, client: Client) -> None:
        """Start queueing the user's notifications for ``client`` (before its cursor is known: the pump skips
        those at or below it, so none that commits while the stream opens is lost)."""
        assert client.user_id is not None
        self.users.setdefault(client.user_id, set()).add(client)
        self.queued[client] = 0

    def discard(self, client: Client) -> None:
        if client.user_id is None:
            return
        self.queued.pop(client, None)
        clients = self.users.get(client.user_id)
        if clients is not None:
            clients.discard(client)
            if not clients:
                del self.users[client.user_id]

    async def start_cursor(self, client: Client, resume: int | None, limit: int) -> list[Event]:
        """The events to replay to a newly connected stream: with a resume cursor, the user's notifications after
        it (oldest first; a ``reset`` instead when more than ``limit``); without, none (the stream starts now)."""
        from api.stream import Event

        db = self.state.pool
        assert db is not None and client.user_id is not None
        if resume is None:
            client.notified = await db.fetchval(
                "SELECT coalesce(max(notification_id), 0) FROM notify.in_app WHERE user_id = $1", client.user_id)
            self.queued[client] = max(self.queued.get(client, 0), client.notified)
            return []
        rows = await db.fetch(_ROW + " AND notification_id > $2 ORDER BY notification_id LIMIT $3",
                              client.user_id, resume, limit + 1)
        if len(rows) > limit:
            client.notified = await db.fetchval(
                "SELECT coalesce(max(notification_id), 0) FROM notify.in_app WHERE user_id = $1", client.user_id)
            return [Event("reset", json.dumps({"reason": "too-many-notifications"}))]
        client.notified = resume
        return [notification_event(r) for r in rows]

    # ---- listening -----------------------------------------------------------------------------------------------
    async def start(self) -> None:
        self._task = asyncio.create_task(self._listen())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _listen(self) -> None:
        async def catch_up() -> None:  # every open stream, from its last relayed id
            for client in [c for clients in self.users.values() for c in clients]:
                await self._catch_up(client)

        await listen_forever(self.state.db_url, IN_APP_CHANNEL, self._notified, self.listening, catch_up)

    def _notified(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        try:
            info = json.loads(payload)
            user_id, notification_id = int(info["user_id"]), int(info["notification_id"])
        except (ValueError, KeyError, TypeError):
            log.warning("bad_in_app_payload", payload=payload[:200])
            return
        clients = self.users.get(user_id)
        if not clients or all(self.queued.get(c, 0) >= notification_id for c in clients):
            return
        task = asyncio.get_running_loop().create_task(self._relay(user_id, notification_id))
        task.add_done_callback(lambda t: t.cancelled() or not t.exception() or
                               log.error("in_app_relay_failed", error=str(t.exception())))

    async def _relay(self, user_id: int, notification_id: int) -> None:
        assert self.state.pool is not None
        row = await self.state.pool.fetchrow(_ROW + " AND notification_id = $2", user_id, notification_id)
        if row is None:
            return
        event = notification_event(row)
        for client in list(self.users.get(user_id, ())):
            if self.queued.get(client, 0) < notification_id:
                self._put(client, [event])

    async def _catch_up(self, client: Client) -> None:
        """After the LISTEN connection was lost: what committed meanwhile, from the database."""
        assert self.state.pool is not None
        rows = await self.state.pool.fetch(_ROW + " AND notification_id > $2 ORDER BY notification_id",
                                           client.user_id, self.queued.get(client, 0))
        self._put(client, [notification_event(r) for r in rows])

    def _put(self, client: Client, events: list[Event]) -> None:
        for e in events:
            try:
                client.queue.put_nowait(e)
            except asyncio.QueueFull:
                self.state.extras["stream"]._drop(client)  # noqa: SLF001 - the hub owns dropping a slow client
                return
            self.queued[client] = max(self.queued.get(client, 0), e.notification_id or 0)


# ---- who is streaming ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _SessionPrefix:
    """What :meth:`api.stream.Hub.token` signs for a user's session."""

    prefix: str


def stream_token(hub, session_id: int, ttl_s: int) -> tuple[str, int]:
    return hub.token(_SessionPrefix(f"{_USER_TOKEN}{session_id}"), ttl_s)


async def stream_user(ctx: Ctx, token: str | None) -> int | None:
    """The user whose stream this is, or ``None`` for an API-key (or anonymous) stream. A session or user key
    that is presented and refused is a 401, except a ``bhk_`` key that is not a user's: it may be an API key."""
    from api.stream import hub_of

    relay = ctx.state.extras.get(RELAY)
    if relay is None:
        return None
    db = ctx.state.pool
    if token is not None:
        prefix, valid = hub_of(ctx.request).check_token(token)
        if not (valid and prefix and prefix.startswith(_USER_TOKEN) and prefix[1:].isdigit()):
            return None  # an API key's token (or an invalid one): the key layer answers
        user_id = await db.fetchval("SELECT user_id FROM notify.sessions WHERE session_id = $1"
                                    " AND revoked_at IS NULL AND expires_at > now()", int(prefix[1:]))
        if user_id is None:
            raise Problem(401, "Unauthorized", "this session was revoked or expired; sign in again",
                          headers={"WWW-Authenticate": "Bearer"})
        return user_id
    presented = presented_key(ctx.request)
    try:
        if presented is None:
            return None
        split_token(presented)
    except TokenError:
        return None
    async with db.acquire() as conn:
        try:
            return (await accounts.authenticate(conn, presented)).user_id
        except accounts.AuthError as exc:
            if presented.startswith(TOKEN_PREFIXES["session"] + "_"):
                raise Problem(401, "Unauthorized", str(exc), headers={"WWW-Authenticate": "Bearer"}) from None
            return None


async def run_relay(app) -> AsyncIterator[None]:
    from api.state import STATE

    relay = InAppRelay(app[STATE])
    app[STATE].extras[RELAY] = relay
    await relay.start()
    yield
    await relay.stop()


def relay_of(state: ApiState) -> InAppRelay | None:
    return state.extras.get(RELAY)
