"""Who is calling and how often: API keys (``Authorization: Bearer`` or ``x-api-key``), scopes, per-caller rate
limits (token buckets, 429 with ``Retry-After``), ``last_used_at``.

Each request looks its key up again (one indexed row), so a revocation or expiry takes effect on the next
request; ``last_used_at`` is written at most once per ``LAST_USED_EVERY_S`` per key to keep reads read-only.
"""

from __future__ import annotations

import asyncio
import hmac
import math
import time
from dataclasses import dataclass

import asyncpg
from aiohttp import web

from api import keys
from api.problems import Problem
from api.routing import Scope

LAST_USED_EVERY_S = 60.0


@dataclass(frozen=True)
class Principal:
    key_id: int | None
    prefix: str | None
    scopes: frozenset[str]
    rate_per_s: float

    @property
    def anonymous(self) -> bool:
        return self.key_id is None

    def allows(self, scope: Scope) -> bool:
        return scope in self.scopes or "admin" in self.scopes


class TokenBuckets:
    """One bucket per caller: ``rate`` tokens a second, up to ``burst``. In-process (one API process)."""

    def __init__(self, burst_s: float) -> None:
        self.burst_s = burst_s
        self._buckets: dict[str, tuple[float, float]] = {}

    def take(self, who: str, rate: float) -> float:
        """0 when allowed, else the seconds until a token is there."""
        now = time.monotonic()
        burst = max(1.0, rate * self.burst_s)
        tokens, at = self._buckets.get(who, (burst, now))
        tokens = min(burst, tokens + (now - at) * rate)
        if tokens >= 1.0:
            self._buckets[who] = (tokens - 1.0, now)
            return 0.0
        self._buckets[who] = (tokens, now)
        if len(self._buckets) > 100_000:  # forget idle callers (their buckets are full again anyway)
            self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < 60}
        return (1.0 - tokens) / rate


def presented_key(request: web.Request) -> str | None:
    auth = request.headers.get("Authorization")
    if auth:
        scheme, _, value = auth.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise Problem(401, "Unauthorized", "use `Authorization: Bearer <key>` or `x-api-key: <key>`",
                          headers={"WWW-Authenticate": "Bearer"})
        return value.strip()
    return request.headers.get("x-api-key")


class Authenticator:
    def __init__(self, *, rate_per_s: float, burst_s: float, anonymous_rate_per_s: float | None) -> None:
        self.rate_per_s = rate_per_s
        self.anonymous_rate_per_s = anonymous_rate_per_s
        self.buckets = TokenBuckets(burst_s)
        self._last_used: dict[int, float] = {}
        self._touches: set[asyncio.Task] = set()

    @property
    def anonymous_allowed(self) -> bool:
        return self.anonymous_rate_per_s is not None

    async def principal(self, pool: asyncpg.Pool, key: str | None) -> Principal | None:
        """The key's principal, ``None`` for no key; 401 for a key that is unknown, revoked or expired."""
        if key is None:
            return None
        parts = keys.split(key)
        row = await self._row(pool, parts[0]) if parts is not None else None
        if row is None or not hmac.compare_digest(bytes(row["digest"]), keys.digest(key)):
            raise Problem(401, "Unauthorized", "unknown API key", headers={"WWW-Authenticate": "Bearer"})
        return self._active(pool, row)

    async def principal_by_prefix(self, pool: asyncpg.Pool, prefix: str) -> Principal:
        """The principal of a key already proven another way (a signed stream token), checked again now."""
        row = await self._row(pool, prefix)
        if row is None:
            raise Problem(401, "Unauthorized", "unknown API key", headers={"WWW-Authenticate": "Bearer"})
        return self._active(pool, row)

    @staticmethod
    async def _row(pool: asyncpg.Pool, prefix: str) -> asyncpg.Record | None:
        return await pool.fetchrow(
            "SELECT id, prefix, digest, scopes, rate_per_s, revoked_at IS NOT NULL AS revoked, "
            "expires_at IS NOT NULL AND expires_at <= now() AS expired FROM api.keys WHERE prefix = $1", prefix)

    def _active(self, pool: asyncpg.Pool, row: asyncpg.Record) -> Principal:
        if row["revoked"] or row["expired"]:
            raise Problem(401, "Unauthorized", "this API key is " + ("revoked" if row["revoked"] else "expired"),
                          headers={"WWW-Authenticate": "Bearer"})
        self._touch(pool, row["id"])
        return Principal(row["id"], row["prefix"], frozenset(row["scopes"]), row["rate_per_s"] or self.rate_per_s)

    def anonymous(self) -> Principal:
        return Principal(None, None, frozenset({"read"}) if self.anonymous_allowed else frozenset(),
                         self.anonymous_rate_per_s or 0.0)

    def authorize(self, principal: Principal | None, scope: Scope, remote: str) -> Principal:
        """The caller may use a route that needs ``scope`` and has a token left, else 401/403/429."""
        if principal is None:
            if not (self.anonymous_allowed and scope == "read"):
                raise Problem(401, "Unauthorized", "this endpoint needs an API key with the "
                              f"`{scope}` scope", headers={"WWW-Authenticate": "Bearer"})
            principal = self.anonymous()
        elif not principal.allows(scope):
            raise Problem(403, "Forbidden", f"this API key lacks the `{scope}` scope")
        who = f"key:{principal.key_id}" if principal.key_id is not None else f"ip:{remote}"
        wait = self.buckets.take(who, principal.rate_per_s)
        if wait > 0:
            raise Problem(429, "Too Many Requests", f"rate limit of {principal.rate_per_s:g} requests/s",
                          type="urn:bithedge:rate-limited", headers={"Retry-After": str(max(1, math.ceil(wait)))})
        return principal

    def _touch(self, pool: asyncpg.Pool, key_id: int) -> None:
        now = time.monotonic()
        if now - self._last_used.get(key_id, -math.inf) < LAST_USED_EVERY_S:
            return
        self._last_used[key_id] = now
        task = asyncio.create_task(pool.execute("UPDATE api.keys SET last_used_at = now() WHERE id = $1", key_id))
        self._touches.add(task)
        task.add_done_callback(self._touches.discard)

    async def drain(self) -> None:
        """Wait for pending ``last_used_at`` writes (before the pool closes)."""
        await asyncio.gather(*self._touches, return_exceptions=True)
