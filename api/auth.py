"""Who is calling and how often: API keys (``Authorization: Bearer`` or ``x-api-key``), scopes, per-caller rate
limits (token buckets, 429 with ``Retry-After``), ``last_used_at``.

Rate limits hold for the whole host: the buckets are shared by every ``--workers`` process. A key checked once is kept in the process (``KeyCache``) and a GET read by a kept key skips the lookup; the
request is answered only once the cache is known to hold every change to ``api.keys`` committed before the
request arrived, else the key is looked up again, so a revocation or expiry still takes effect on the next
request (migration 0013, ``KeyCache``). ``last_used_at`` is written at most once per ``LAST_USED_EVERY_S``
per key to keep reads read-only.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import math
import mmap
import multiprocessing
import struct
import time
from dataclasses import dataclass
from datetime import datetime

import asyncpg
from aiohttp import web

from api import keys
from api.problems import Problem
from api.routing import Scope

LAST_USED_EVERY_S = 60.0
#: what ``api.keys`` triggers notify on a change that can refuse or narrow a key (migration 0013)
KEYS_CHANNEL = "bithedge_api_keys"


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
    """One bucket per caller: ``rate`` tokens a second, up to ``burst``, shared by every worker of the process
    that made it (``bithedge api serve --workers``): the table is an anonymous shared mapping and its lock a
    semaphore, both made with the app before the fork, so a key's limit is its limit on the whole host.

    A fixed table (``SLOTS`` records of caller hash, tokens, time; ``time.monotonic`` is one clock for all
    processes), each caller in one of ``PROBE`` slots from its hash. With every one of those taken by other
    callers, the one least recently seen gives its slot up: that caller starts again from a full bucket, which
    can only be more lenient, and only past tens of thousands of callers seen at once."""

    SLOTS = 1 << 16
    PROBE = 8
    _RECORD = struct.Struct("=Qdd")

    def __init__(self, burst_s: float) -> None:
        self.burst_s = burst_s
        self._table = mmap.mmap(-1, self.SLOTS * self._RECORD.size)  # MAP_SHARED: forked workers see one table
        self._lock = multiprocessing.get_context("fork").Lock()

    def take(self, who: str, rate: float) -> float:
        """0 when allowed, else the seconds until a token is there."""
        h = int.from_bytes(hashlib.blake2b(who.encode(), digest_size=8).digest(), "little") | 1  # 0: a free slot
        burst = max(1.0, rate * self.burst_s)
        size, record = self._RECORD.size, self._RECORD
        with self._lock:
            now = time.monotonic()
            first, oldest_at, place = h % self.SLOTS, math.inf, 0
            for i in range(self.PROBE):
                offset = (first + i) % self.SLOTS * size
                owner, tokens, at = record.unpack_from(self._table, offset)
                if owner == h:
                    tokens = min(burst, tokens + (now - at) * rate)
                    place = offset
                    break
                if owner == 0:
                    tokens, place = burst, offset
                    break
                if at < oldest_at:
                    oldest_at, place = at, offset
            else:
                tokens = burst
            allowed = tokens >= 1.0
            record.pack_into(self._table, place, h, tokens - 1.0 if allowed else tokens, now)
        return 0.0 if allowed else (1.0 - tokens) / rate


def presented_key(request: web.Request) -> str | None:
    auth = request.headers.get("Authorization")
    if auth:
        scheme, _, value = auth.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise Problem(401, "Unauthorized", "use `Authorization: Bearer <key>` or `x-api-key: <key>`",
                          headers={"WWW-Authenticate": "Bearer"})
        return value.strip()
    return request.headers.get("x-api-key")


@dataclass(frozen=True)
class Held:
    """A principal served from the ``KeyCache`` to one request, and what proves it still holds afterwards."""

    principal: Principal
    #: the cache's generation when the key was looked up
    generation: int
    #: the request's place in the order of cached answers (``KeyCache.confirmed`` must reach it)
    ticket: int


class KeyCache:
    """Keys already checked against ``api.keys``, by digest, until that table changes.

    Every pool connection LISTENs on ``KEYS_CHANNEL`` (``api.state``). PostgreSQL sends a listening session the
    notifications of every transaction committed before its query ends, ahead of that query's answer, and
    asyncpg reads them in order, so when a query on a pool connection acquired after a request arrived has
    answered, every revocation committed before the request arrived has reached ``invalidate``. A request
    answered from the cache records a ticket on arrival; a connection's acquire records the last ticket
    given out, its release (after its queries answered) raises ``confirmed`` to it. The request stands when
    ``confirmed`` reached its ticket and no invalidation came since its key was looked up; otherwise (its
    answer came from the response cache, or the cache was cleared) the key is looked up again before the
    answer leaves. A new connection clears the cache: it did not hear what was committed before its LISTEN."""

    def __init__(self) -> None:
        self.generation = 0
        self.tickets = 0
        self.confirmed = 0
        self._keys: dict[bytes, tuple[Principal, float]] = {}

    def get(self, digest: bytes) -> Held | None:
        hit = self._keys.get(digest)
        if hit is None or hit[1] <= time.time():  # not kept, or expired since: look it up (a 401 then)
            return None
        self.tickets += 1
        return Held(hit[0], self.generation, self.tickets)

    def put(self, digest: bytes, principal: Principal, expires_at: datetime | None, generation: int) -> None:
        if generation == self.generation:  # no change to api.keys arrived while it was looked up
            self._keys[digest] = (principal, expires_at.timestamp() if expires_at else math.inf)

    def holds(self, held: Held) -> bool:
        return held.generation == self.generation and self.confirmed >= held.ticket

    def acquired(self) -> int:
        return self.tickets

    def answered(self, ticket: int) -> None:
        self.confirmed = max(self.confirmed, ticket)

    def invalidate(self) -> None:
        self.generation += 1
        self._keys.clear()


class Authenticator:
    def __init__(self, *, rate_per_s: float, burst_s: float, anonymous_rate_per_s: float | None) -> None:
        self.rate_per_s = rate_per_s
        self.anonymous_rate_per_s = anonymous_rate_per_s
        self.buckets = TokenBuckets(burst_s)
        self._last_used: dict[int, float] = {}
        self._touches: set[asyncio.Task] = set()
        self.cache = KeyCache()
        self._anonymous = Principal(None, None, frozenset({"read"}) if self.anonymous_allowed else frozenset(),
                                    self.anonymous_rate_per_s or 0.0)

    @property
    def anonymous_allowed(self) -> bool:
        return self.anonymous_rate_per_s is not None

    async def principal(self, pool: asyncpg.Pool, key: str | None) -> Principal | None:
        """The key's principal, ``None`` for no key; 401 for a key that is unknown, revoked or expired."""
        if key is None:
            return None
        parts = keys.split(key)
        generation = self.cache.generation
        row = await self._row(pool, parts[0]) if parts is not None else None
        digest = keys.digest(key)
        if row is None or not hmac.compare_digest(bytes(row["digest"]), digest):
            raise Problem(401, "Unauthorized", "unknown API key", headers={"WWW-Authenticate": "Bearer"})
        principal = self._active(pool, row)
        self.cache.put(digest, principal, row["expires_at"], generation)
        return principal

    def kept(self, pool: asyncpg.Pool, key: str | None) -> Held | None:
        """The key's principal from the cache (``None``: not kept; look it up); ``confirm`` it before answering."""
        if key is None or (held := self.cache.get(keys.digest(key))) is None:
            return None
        self._touch(pool, held.principal.key_id)
        return held

    async def confirm(self, pool: asyncpg.Pool, key: str, held: Held, scope: Scope) -> None:
        """Before a request served by a kept key answers: still valid, else looked up again (401/403 now)."""
        if self.cache.holds(held):
            return
        principal = await self.principal(pool, key)
        assert principal is not None
        if not principal.allows(scope):
            raise Problem(403, "Forbidden", f"this API key lacks the `{scope}` scope")

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
            "expires_at, expires_at IS NOT NULL AND expires_at <= now() AS expired FROM api.keys WHERE prefix = $1", prefix)

    def _active(self, pool: asyncpg.Pool, row: asyncpg.Record) -> Principal:
        if row["revoked"] or row["expired"]:
            raise Problem(401, "Unauthorized", "this API key is " + ("revoked" if row["revoked"] else "expired"),
                          headers={"WWW-Authenticate": "Bearer"})
        self._touch(pool, row["id"])
        return Principal(row["id"], row["prefix"], frozenset(row["scopes"]), row["rate_per_s"] or self.rate_per_s)

    def anonymous(self) -> Principal:
        return self._anonymous

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
