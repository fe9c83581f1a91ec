"""One price round: ask every configured source concurrently (each with its own timeout), convert
USDT quotes with a USDT/USD round, and judge the result. Nothing a source sends can raise out of
here: every failure becomes an excluded quote with its reason."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field, replace
from decimal import Decimal

import aiohttp
from pydantic import SecretStr

from bithedge.protocol.units import BP, ONE8
from keeper.oracle.aggregate import judge
from keeper.oracle.config import OracleConfig
from keeper.oracle.model import BadResponse, Round, SourceQuote, parse_json, short, to_units
from keeper.oracle.venues import VENUES, Pair, Reading, Venue

USDT = "USDT"


@dataclass(frozen=True)
class Source:
    venue: Venue
    base_url: str
    timeout_s: float
    api_key: SecretStr | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        return self.venue.name

    def headers(self) -> dict[str, str]:
        return self.venue.auth_headers(self.api_key.get_secret_value()) if self.api_key else {}

    def redact(self, text: str) -> str:
        """``text`` with the API key masked: an error page or an exception may echo the request's headers."""
        key = self.api_key.get_secret_value() if self.api_key else ""
        return text.replace(key, "***") if key else text


def build_sources(config: OracleConfig) -> list[Source]:
    return [Source(VENUES[s.venue], s.base_url, s.timeout_s, s.api_key) for s in config.sources]


@dataclass(frozen=True)
class _Fetched:
    source: str
    pair: Pair
    reading: Reading | None
    latency_ms: float
    reason: str | None

    def quote(self, price_usd: int | None = None, reason: str | None = None) -> SourceQuote:
        reason = reason or self.reason
        r = self.reading
        return SourceQuote(self.source, self.pair.asset, self.pair.symbol, None if reason else price_usd,
                           r.raw if r else "", r.observed_at if r else None, self.latency_ms,
                           "excluded" if reason else "ok", reason, self.pair.quote_ccy)


async def collect_round(session: aiohttp.ClientSession, sources: list[Source], asset: str, config: OracleConfig,
                        now: float, usdt: Round | None = None) -> Round:
    """The round for ``asset`` at ``now`` (epoch seconds). USDT-quoted sources are converted with
    ``usdt`` (a USDT/USD round) or, when it is not given and one is needed, with a round collected
    alongside; the returned round carries it in ``Round.usdt``."""
    asking = [(s, p) for s in sources if (p := s.venue.pair(asset))]
    needs_usdt = asset != USDT and usdt is None and any(p.quote_ccy == USDT for _, p in asking)
    rate_asking = [(s, p) for s in sources if (p := s.venue.pair(USDT))] if needs_usdt else []
    fetched = await asyncio.gather(*(_fetch(session, s, p, config) for s, p in asking + rate_asking))
    if needs_usdt:
        usdt = judge(USDT, [f.quote(_units(f.reading)) for f in fetched[len(asking):]], len(rate_asking),
                     config, now)
    quotes = [_convert(f, usdt, config) for f in fetched[: len(asking)]]
    return replace(judge(asset, quotes, len(asking), config, now), usdt=usdt if asset != USDT else None)


def _units(reading: Reading | None) -> int | None:
    return None if reading is None else to_units(reading.price)


def _convert(f: _Fetched, usdt: Round | None, config: OracleConfig) -> SourceQuote:
    if f.reading is None or f.pair.quote_ccy != USDT:
        return f.quote(_units(f.reading))
    if usdt is None or usdt.median is None:
        return f.quote(reason=f"quoted in USDT and there is no USDT/USD price ({usdt.reason if usdt else 'none'})")
    if abs(usdt.median - ONE8) * BP > ONE8 * config.usdt_depeg_bp:
        return f.quote(reason=f"quoted in USDT and USDT/USD is {Decimal(usdt.median) / ONE8}, beyond the "
                              f"depeg guard of {config.usdt_depeg_bp} bp")
    try:
        return f.quote(to_units(f.reading.price * usdt.median / ONE8))
    except BadResponse as exc:
        return f.quote(reason=str(exc))


async def _fetch(session: aiohttp.ClientSession, source: Source, pair: Pair, config: OracleConfig) -> _Fetched:
    started = time.monotonic()

    def done(reading: Reading | None, reason: str | None) -> _Fetched:
        if reading is not None and source.api_key:
            reading = replace(reading, raw=source.redact(reading.raw))
        return _Fetched(source.name, pair, reading, (time.monotonic() - started) * 1000,
                        None if reason is None else source.redact(reason))

    path, params = source.venue.request(pair)
    try:
        async with asyncio.timeout(source.timeout_s):
            async with session.get(source.base_url + path, params=params, headers=source.headers(),
                                   allow_redirects=False) as resp:
                body = await _read_capped(resp, config.max_body_bytes)
                status, retry_after = resp.status, resp.headers.get("Retry-After")
        if body is None:
            return done(None, f"reply longer than {config.max_body_bytes} bytes")
        text = body.decode("utf-8", errors="replace")
        if status != 200:
            return done(None, _http_failure(source.venue, status, text, retry_after))
        reading = source.venue.parse(text, pair)
        to_units(reading.price)  # a price too small to express is refused here, with its reason
        return done(reading, None)
    except BadResponse as exc:
        return done(None, str(exc))
    except TimeoutError:
        return done(None, f"no reply within {source.timeout_s:g} s")
    except aiohttp.ClientError as exc:
        return done(None, f"request failed: {short(type(exc).__name__ + ': ' + str(exc))}")
    except Exception as exc:  # noqa: BLE001 - a source must never take the round down with it
        return done(None, f"unexpected {type(exc).__name__}: {short(str(exc))}")


async def _read_capped(resp: aiohttp.ClientResponse, limit: int) -> bytes | None:
    """The body, or None as soon as it exceeds ``limit`` bytes."""
    chunks, size = [], 0
    async for chunk in resp.content.iter_chunked(1 << 16):
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _http_failure(venue: Venue, status: int, text: str, retry_after: str | None) -> str:
    kind = f"rate-limited (HTTP {status})" if status in (418, 429) else f"HTTP {status}"
    if text.lstrip()[:1] == "<":
        detail = "an HTML page"
    else:
        try:
            detail = venue.error_text(parse_json(text)) or short(text)
        except BadResponse:
            detail = short(text)
    wait = f", retry after {short(retry_after, 20)} s" if retry_after else ""
    return f"{kind}: {detail}{wait}" if detail else f"{kind}{wait}"
