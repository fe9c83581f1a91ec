"""What a price round is made of: one quote per source (usable or excluded, and why) and the round's
verdict. Prices are integers, USD x 1e8 (`bithedge.protocol.units.ONE8`), reached from the venue's
text through `Decimal` only: no float ever touches a price."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any, Literal

from bithedge.protocol.units import ONE8

Status = Literal["ok", "excluded"]


class BadResponse(ValueError):
    """A source's reply cannot be used this round; the message is the reason recorded in the audit."""


@dataclass(frozen=True)
class SourceQuote:
    source: str  # venue name, e.g. "kraken"
    asset: str  # "BTC", "STX" or "USDT"
    pair: str  # the venue's own pair name, e.g. "XBTUSD", "STXUSDT", a Pyth feed id
    price_usd: int | None  # USD x 1e8 (converted from USDT when the venue quotes USDT); None when excluded
    raw: str  # the price as the venue wrote it ("" when none could be read)
    observed_at: float | None  # epoch seconds of the venue's own timestamp; None when it sends none
    latency_ms: float
    status: Status
    reason: str | None  # why it was excluded; None when ok
    quote_ccy: str = "USD"  # what the venue priced the asset in ("USD" or "USDT")

    def exclude(self, reason: str) -> SourceQuote:
        return replace(self, status="excluded", reason=reason, price_usd=None)


@dataclass(frozen=True)
class Round:
    asset: str
    median: int | None  # USD x 1e8; None when no quorum
    quotes: list[SourceQuote]
    quorum: bool
    reason: str | None  # why there is no price (the alert text); None when quorum holds
    at: float  # epoch seconds the round was judged at
    usdt: Round | None = field(default=None)  # the USDT/USD round the USDT quotes were converted with

    @property
    def used(self) -> list[SourceQuote]:
        return [q for q in self.quotes if q.status == "ok"]


def _no_constants(name: str) -> Any:
    raise BadResponse(f"non-numeric JSON constant {name}")


def parse_json(body: str) -> Any:
    """JSON with every non-integer number as a Decimal; NaN/Infinity literals are refused."""
    try:
        return json.loads(body, parse_float=Decimal, parse_constant=_no_constants)
    except BadResponse:
        raise
    except (ValueError, RecursionError) as exc:
        if body.lstrip()[:1] == "<":
            raise BadResponse(f"an HTML page, not JSON ({short(body)!r})") from None
        raise BadResponse(f"body is not JSON ({short(str(exc))})") from None


def decimal_price(value: Any, what: str = "price") -> Decimal:
    """A positive, finite price from a JSON string or number."""
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise BadResponse(f"{what} is {type(value).__name__}, not a number")
    try:
        d = Decimal(value.strip()) if isinstance(value, str) else Decimal(value)
    except InvalidOperation:
        raise BadResponse(f"{what} {short(str(value))!r} is not a number") from None
    if not d.is_finite():
        raise BadResponse(f"{what} is {d}")
    if d <= 0:
        raise BadResponse(f"{what} {d} is not positive")
    return d


def to_units(usd: Decimal) -> int:
    """USD -> USD x 1e8, rounded half-even; a price that rounds to 0 is refused."""
    units = int((usd * ONE8).to_integral_value(rounding=ROUND_HALF_EVEN))
    if units <= 0:
        raise BadResponse(f"price {usd} rounds to 0 at 1e-8 USD")
    return units


def short(text: str, limit: int = 120) -> str:
    """A reason-sized, single-line excerpt of untrusted text."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"

