"""GET answers of analytics reads, kept in the process until the analytics change or their ``max-age`` ends.

The analytics change only when the transforms finish a build (``NOTIFY bithedge_analytics``, which the stream
hub turns into ``invalidate()``), and a route's ``Cache-Control: max-age`` already lets clients reuse an
answer that long; so an answer is served again from here for at most that long and never across a build. Only
routes declared with ``cache=`` are kept, and those answer the same to every caller (auth and rate limits run
before the cache).

When an answer's ``max-age`` is over, the first request recomputes it and the requests meanwhile get the
previous answer (for at most ``STALE_S`` more), instead of all waiting on a slow view (``analytics.pools``
took seconds at 100k policies): it is still the answer of the current build, since a build clears the cache.
"""

from __future__ import annotations

import asyncio
import functools
import time

MAX_ENTRIES = 4096
#: how long past its max-age an answer may stand in while one request recomputes it
STALE_S = 30.0


@functools.cache  # a route's constant, asked on every answer kept
def max_age(cache_control: str | None) -> float:
    for part in (cache_control or "").split(","):
        name, _, value = part.strip().partition("=")
        if name == "max-age" and value.isdigit():
            return float(value)
    return 0.0


class ResponseCache:
    def __init__(self) -> None:
        self._entries: dict[str, tuple[float, bytes, dict[str, str]]] = {}
        self._filling: dict[str, asyncio.Lock] = {}

    def filling(self, key: str) -> asyncio.Lock:
        """Held while one request computes ``key``: the others wait for its answer instead of repeating the
        query (a slow view would otherwise run once per waiting client)."""
        lock = self._filling.get(key)
        if lock is None:
            lock = self._filling[key] = asyncio.Lock()
        return lock

    def filled(self, key: str) -> None:
        lock = self._filling.get(key)
        if lock is not None and not lock.locked():
            del self._filling[key]

    def get(self, key: str) -> tuple[bytes, dict[str, str]] | None:
        """The answer while its max-age lasts."""
        hit = self._entries.get(key)
        if hit is None or hit[0] < time.monotonic():
            return None
        return hit[1], hit[2]

    def stale(self, key: str) -> tuple[bytes, dict[str, str]] | None:
        """The answer up to ``STALE_S`` past its max-age (while another request recomputes it)."""
        hit = self._entries.get(key)
        if hit is None:
            return None
        if hit[0] + STALE_S < time.monotonic():
            del self._entries[key]
            return None
        return hit[1], hit[2]

    def put(self, key: str, seconds: float, body: bytes, headers: dict[str, str]) -> None:
        if seconds <= 0:
            return
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()  # a crude bound: a full cache starts over
        self._entries[key] = (time.monotonic() + seconds, body, headers)

    def invalidate(self) -> None:
        self._entries.clear()
