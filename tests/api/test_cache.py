"""``api.cache.ResponseCache``: an answer past its max-age stands in (up to STALE_S) only while another request
recomputes it, and never across a build (``invalidate``)."""

from __future__ import annotations

import time

from api.cache import STALE_S, ResponseCache


def _aged(cache: ResponseCache, key: str, seconds_past_max_age: float) -> None:
    _, body, headers = cache._entries[key]
    cache._entries[key] = (time.monotonic() - seconds_past_max_age, body, headers)


def test_an_expired_answer_is_only_stale() -> None:
    cache = ResponseCache()
    cache.put("/v1/pools", 2, b"[1]", {"ETag": "a"})
    assert cache.get("/v1/pools") == (b"[1]", {"ETag": "a"})
    _aged(cache, "/v1/pools", 1)
    assert cache.get("/v1/pools") is None
    assert cache.stale("/v1/pools") == (b"[1]", {"ETag": "a"})
    cache.put("/v1/pools", 2, b"[2]", {"ETag": "b"})  # the recomputed answer replaces it
    assert cache.get("/v1/pools") == (b"[2]", {"ETag": "b"})


def test_too_old_or_another_build_is_nothing() -> None:
    cache = ResponseCache()
    cache.put("/v1/pools", 2, b"[1]", {})
    _aged(cache, "/v1/pools", STALE_S + 1)
    assert cache.stale("/v1/pools") is None and cache.get("/v1/pools") is None
    cache.put("/v1/pools", 2, b"[1]", {})
    _aged(cache, "/v1/pools", 1)
    cache.invalidate()
    assert cache.stale("/v1/pools") is None
