"""The application's shared state: settings, the asyncpg pool, auth, metrics. One ``ApiState`` per app,
reached from a handler as ``ctx.state`` (and the pool as ``ctx.db``)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from aiohttp import web

from api.auth import KEYS_CHANNEL, Authenticator, KeyCache
from api.cache import ResponseCache
from api.metrics import Metrics
from api.views import plain_text
from bithedge.settings import Settings


@dataclass
class ApiState:
    settings: Settings
    db_url: str
    auth: Authenticator
    metrics: Metrics = field(default_factory=Metrics)
    cache: ResponseCache = field(default_factory=ResponseCache)
    pool: asyncpg.Pool | None = None
    #: the analytics reads' pool: numerics arrive as their exact decimal strings (``open_pool``)
    reads: asyncpg.Pool | None = None
    #: signs stream tokens when ``BITHEDGE_API_STREAM_SECRET`` is unset; made before ``--workers`` fork, so a
    #: token from one worker verifies in every other
    stream_secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    #: per-module state a lifespan sets up (e.g. ``"stream"``: the stream hub), keyed by the module's name
    extras: dict[str, Any] = field(default_factory=dict)


STATE: web.AppKey[ApiState] = web.AppKey("bithedge_api_state", ApiState)


class ApiConnection(asyncpg.Connection):
    """A pool connection that tells the key cache what it heard on ``KEYS_CHANNEL`` and when it answered.

    asyncpg forgets a connection's listeners on every release (``Connection._reset``), and adding one back is a
    ``LISTEN`` round trip; so the channel is LISTENed once at connect and its notifications are taken where
    asyncpg hands them over, in order with the query answers they precede (asyncpg 0.32, pinned)."""

    __slots__ = ("_key_cache", "_ticket")

    def _process_notification(self, pid: int, channel: str, payload: str) -> None:
        if channel == KEYS_CHANNEL:
            self._key_cache.invalidate()
        super()._process_notification(pid, channel, payload)

    def mark_acquired(self, ticket: int) -> None:
        self._ticket = ticket


async def open_pool(settings: Settings, db_url: str, key_cache: KeyCache | None = None, *,
                    numerics_as_text: bool = False) -> asyncpg.Pool:
    """The API's connections: read-only analytics plus its own ``api`` schema (the ``bithedge_api`` role).
    A statement timeout bounds what one request can cost the database. With ``key_cache`` every connection
    keeps it current (``ApiConnection``, ``api.auth.KeyCache``). With ``numerics_as_text`` a numeric arrives
    as its exact decimal string, already as the API writes it (``api.views.plain_text``): the reads serve
    amounts as strings, and building a ``Decimal`` per value only to print it again was a third of their CPU.
    Text format cannot be decoded inside a composite (asyncpg), so such a pool's queries return flat columns
    or arrays of them (``api.policies.POLICY_DETAIL_SQL``)."""
    cache = key_cache or KeyCache()

    async def init(conn: ApiConnection) -> None:
        conn._key_cache, conn._ticket = cache, 0
        if numerics_as_text:
            await text_numerics(conn)
        await conn.execute(f"LISTEN {KEYS_CHANNEL}")
        cache.invalidate()  # it heard nothing committed before its LISTEN

    async def setup(proxy: Any) -> None:
        proxy.mark_acquired(cache.acquired())

    async def reset(conn: ApiConnection) -> None:
        await _release(conn)
        cache.answered(conn._ticket)

    # every connection opened at start: opening one (a backend, auth, asyncpg's type introspection) under
    # load costs tens of ms to the requests queued behind it; no JIT: lookups of a few rows never gain from
    # it and asyncpg's introspection of the views' row types is slowed by it
    return await asyncpg.create_pool(
        db_url, min_size=settings.api_db_pool_size, max_size=settings.api_db_pool_size, reset=reset, init=init,
        setup=setup, connection_class=ApiConnection,
        server_settings={"application_name": "bithedge-api", "jit": "off",
                         "statement_timeout": str(settings.api_statement_timeout_ms)})


async def text_numerics(conn: asyncpg.Connection) -> None:
    """``conn`` decodes numerics to their exact decimal strings as the API writes them (``plain_text``)."""
    await conn.set_type_codec("numeric", schema="pg_catalog", encoder=str, decoder=plain_text, format="text")


async def _release(conn: asyncpg.Connection) -> None:
    """What a connection needs before the next request takes it. asyncpg's default reset sends
    ``pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`` on every release: a second round trip per
    query, half the database time of a lookup. Pool connections here never take advisory locks, open cursors
    outside a transaction, LISTEN (the stream has its own connection) or SET session state, so only a
    transaction left open (a handler cancelled inside one) needs undoing."""
    if conn.is_in_transaction():
        await conn.execute("ROLLBACK")
