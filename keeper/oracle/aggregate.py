"""Judging one round of quotes for an asset: drop stale and future-dated quotes, take the median,
drop quotes beyond the band around it, then require a quorum; otherwise no price and the reason."""

from __future__ import annotations

from bithedge.protocol.units import BP
from keeper.oracle.config import OracleConfig
from keeper.oracle.model import Round, SourceQuote


def median(prices: list[int]) -> int:
    """The median of integer prices (the lower-rounded mean of the middle two for an even count)."""
    xs = sorted(prices)
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) // 2


def deviation_bp(price: int, reference: int) -> int:
    """|price - reference| in basis points of the reference, rounded down."""
    return abs(price - reference) * BP // reference


def judge(asset: str, quotes: list[SourceQuote], configured: int, config: OracleConfig, now: float) -> Round:
    """`configured`: how many sources are configured for this asset (the majority is of those)."""
    fresh = [_freshness(q, config, now) for q in quotes]
    usable = [q.price_usd for q in fresh if q.status == "ok" and q.price_usd is not None]
    centre = median(usable) if usable else None
    judged = fresh if centre is None else [_band(q, centre, config.band_bp) for q in fresh]
    inliers = [q.price_usd for q in judged if q.status == "ok" and q.price_usd is not None]
    need = max(config.min_sources, configured // 2 + 1)
    if len(inliers) < need:
        reason = (f"no quorum for {asset}: {len(inliers)} usable of {configured} configured sources "
                  f"(need {need}: at least {config.min_sources} and a majority)")
        return Round(asset, None, judged, False, reason, now)
    return Round(asset, median(inliers), judged, True, None, now)


def _freshness(q: SourceQuote, config: OracleConfig, now: float) -> SourceQuote:
    if q.status != "ok" or q.observed_at is None:
        return q
    age = now - q.observed_at
    if age > config.stale_s:
        return q.exclude(f"stale: quoted {age:.0f} s ago (limit {config.stale_s:g} s)")
    if -age > config.future_skew_s:
        return q.exclude(f"timestamp {-age:.0f} s in the future (allowed skew {config.future_skew_s:g} s)")
    return q


def _band(q: SourceQuote, centre: int, band_bp: int) -> SourceQuote:
    if q.status != "ok" or q.price_usd is None:
        return q
    dev = deviation_bp(q.price_usd, centre)
    if abs(q.price_usd - centre) * BP > centre * band_bp:
        return q.exclude(f"outlier: {dev} bp from the median {centre} (band {band_bp} bp)")
    return q
