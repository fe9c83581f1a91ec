"""The venues' own APIs in the simulator: deterministic per seed, with latency, outages of every kind,
frozen quotes and outliers over a long run; the legacy quotes and the market do not change for it;
loopback only unless the setting says otherwise."""

from __future__ import annotations

from collections import Counter

import pytest

from bithedge.simulator.feed import serve
from bithedge.simulator.market import OUTAGES, Feed, Market


def run(seed: int, ticks: int, **kw) -> tuple[Feed, Counter]:
    m = Market(seed=seed)
    f = Feed(m, **kw)
    seen: Counter = Counter()
    for t in range(ticks):
        m.step()
        f.update(10.0 * t)
        for name, st in f.state.items():
            seen[(name, st.outage)] += 1
            seen[(name, "frozen")] += st.frozen_left > 0
    return f, seen


def test_the_venue_apis_are_deterministic_per_seed():
    a, _ = run(5, 300)
    b, _ = run(5, 300)
    c, _ = run(6, 300)
    assert a.state == b.state and a.state != c.state


def test_the_api_view_never_changes_the_quotes_or_the_market():
    with_apis, _ = run(9, 200)
    without, _ = run(9, 200, aggregators=())
    assert with_apis.quotes == without.quotes and with_apis.market.btc == without.market.btc


def test_a_long_run_has_outages_of_every_kind_frozen_quotes_and_usdt_quotes():
    f, seen = run(2, 3000)
    for kind in OUTAGES:
        assert sum(n for (_, k), n in seen.items() if k == kind) > 0, kind
    assert all(seen[(name, "frozen")] > 0 for name in f.state)
    assert all(seen[(name, None)] > 0.8 * 3000 for name in f.state)  # mostly up
    usdt = f.market.usdt
    btc_usdt, btc_usd = f.state["binance"].quotes["BTC"], f.quotes["binance"]["BTC-USD"]
    if f.state["binance"].frozen_left == 0:
        assert btc_usdt.price == pytest.approx(btc_usd["price"] / usdt)
    assert 0.99 < usdt < 1.01 and {st.quotes["USDT"].price > 0 for st in f.state.values()} == {True}
    lat = {name: st.latency_ms for name, st in f.state.items()}
    assert lat["coingecko"] != lat["pyth"] and all(v > 0 for v in lat.values())


def test_aggregators_follow_the_exchange_median():
    f, _ = run(4, 50)
    for name in ("pyth", "coingecko"):
        assert abs(f.state[name].quotes["BTC"].price / f.median("BTC") - 1) < 0.01


async def test_the_feed_listens_on_loopback_only_unless_told_otherwise():
    f, _ = run(1, 2)
    with pytest.raises(ValueError, match="BITHEDGE_PRICE_FEED_LOOPBACK_ONLY=false"):
        await serve(f, "0.0.0.0", 1, loopback_only=True)
    with pytest.raises(ValueError, match="only listens on loopback"):
        await serve(f, "10.1.2.3", 1)  # the setting's default
