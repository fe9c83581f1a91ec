"""Aggregation: stale and future quotes dropped, the median, outliers beyond the band dropped, the quorum;
on the real 2024-03-13 cross-venue snapshot and as properties over generated rounds."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from keeper.oracle.aggregate import judge, median
from keeper.oracle.config import OracleConfig, SourceConfig
from keeper.oracle.model import SourceQuote

NOW = 1_710_328_270.0
CONFIG = OracleConfig((SourceConfig("kraken", "http://127.0.0.1:1"),))


def q(source: str, price: int | None, observed_at: float | None = NOW, status: str = "ok") -> SourceQuote:
    return SourceQuote(source, "BTC", "pair", price, str(price), observed_at, 10.0, status,  # type: ignore[arg-type]
                       None if status == "ok" else "failed")


def test_the_recorded_snapshot_has_its_median_and_quorum():
    # last prices of the ccxt tickers recorded together on 2024-03-13 (USDT taken at par here)
    snap = [q("binance", 7336984000000, None), q("coinbase", 7336780000000, 1710328241.27),
            q("kraken", 7338060000000, None), q("bitstamp", 7328500000000, 1710328241),
            q("okx", 7338480000000, 1710328243.709)]
    r = judge("BTC", snap, 5, CONFIG, NOW)
    assert r.quorum and r.median == 7336984000000 and r.reason is None
    assert [x.status for x in r.quotes] == ["ok"] * 5  # Bitstamp is 0.12 % off: inside the 2 % band


def test_stale_future_failed_and_outlier_quotes_are_excluded_with_reasons():
    quotes = [q("a", 100_000), q("b", 100_100), q("c", 99_900), q("d", 100_050),
              q("stale", 100_000, NOW - 61), q("future", 100_000, NOW + 6), q("down", None, None, "excluded"),
              q("outlier", 103_000)]
    r = judge("BTC", quotes, 8, CONFIG, NOW)
    reasons = {x.source: x.reason for x in r.quotes}
    assert reasons["stale"].startswith("stale: quoted 61 s ago") and reasons["future"].startswith("timestamp 6 s in the future")
    assert reasons["outlier"].startswith("outlier: 294 bp from the median 100050")
    assert reasons["down"] == "failed" and reasons["a"] is None
    assert all(x.price_usd is None for x in r.quotes if x.status == "excluded")
    # 4 usable of 8 configured: at least 3, but not a majority
    assert not r.quorum and r.median is None and "4 usable of 8 configured" in r.reason
    r = judge("BTC", quotes, 7, CONFIG, NOW)
    assert r.quorum and r.median == 100_025


def test_too_few_sources_is_no_price():
    r = judge("STX", [q("a", 150_000_000), q("b", 150_100_000)], 2, CONFIG, NOW)
    assert not r.quorum and r.median is None and "need 3" in r.reason


prices = st.integers(min_value=1_000 * 10**8, max_value=200_000 * 10**8)


@settings(max_examples=300, deadline=None)
@given(centre=prices, offsets=st.lists(st.integers(-50, 50), min_size=3, max_size=9),
       outliers=st.lists(st.integers(300, 5000).flatmap(lambda bp: st.sampled_from([bp, -bp])), max_size=4))
def test_outliers_never_move_the_median_and_the_median_lies_in_the_band(centre, offsets, outliers):
    """Inliers within ±0.5 % of a centre; fewer outliers than inliers, each ≥ 3 % away: the outliers are
    excluded, the median equals the inliers' median, and it lies within the band of every used quote."""
    outliers = outliers[: len(offsets) - 1]
    inliers = [centre + centre * o // 10_000 for o in offsets]
    bad = [centre + centre * o // 10_000 for o in outliers]
    quotes = [q(f"in{i}", p) for i, p in enumerate(inliers)] + [q(f"out{i}", p) for i, p in enumerate(bad)]
    r = judge("BTC", quotes, len(offsets), CONFIG, NOW)
    assert r.quorum and r.median == median(inliers)
    assert {x.source for x in r.quotes if x.status == "excluded"} == {f"out{i}" for i in range(len(bad))}
    for used in r.used:
        assert abs(used.price_usd - r.median) * 10_000 <= r.median * CONFIG.band_bp


@settings(max_examples=200, deadline=None)
@given(ps=st.lists(prices, min_size=1, max_size=12), configured=st.integers(1, 14))
def test_quorum_is_at_least_min_sources_and_a_majority(ps, configured):
    configured = max(configured, len(ps))
    r = judge("BTC", [q(str(i), p) for i, p in enumerate(ps)], configured, CONFIG, NOW)
    used = len(r.used)
    assert r.quorum == (used >= 3 and used * 2 > configured)
    assert (r.median is None) == (not r.quorum)
    if r.quorum:
        assert min(x.price_usd for x in r.used) <= r.median <= max(x.price_usd for x in r.used)
