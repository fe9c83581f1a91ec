from __future__ import annotations

import statistics

from bithedge.simulator.market import Feed, Market


def test_market_is_seedable_and_moves():
    a, b, c = Market(seed=7), Market(seed=7), Market(seed=8)
    pa = [a.step() for _ in range(500)]
    pb = [b.step() for _ in range(500)]
    pc = [c.step() for _ in range(500)]
    assert pa == pb and pa != pc
    btc = [p["BTC"] for p in pa]
    assert len(set(btc)) == 500 and min(btc) > 0
    rets = [btc[i + 1] / btc[i] - 1 for i in range(len(btc) - 1)]
    assert 0 < statistics.pstdev(rets) < 0.05


def test_regimes_switch():
    m = Market(seed=1, p_stress=0.2, p_calm=0.2)
    names = set()
    for _ in range(200):
        m.step()
        names.add(m.regime.name)
    assert names == {"calm", "stressed"}


def test_feed_venues_noise_lag_outliers():
    m = Market(seed=3)
    f = Feed(m)
    outliers = 0
    for t in range(2000):
        m.step()
        snap = f.update(float(t))
        med = f.median("BTC")
        for q in snap["venues"].values():
            if abs(q["BTC-USD"]["price"] / med - 1) > 0.03:
                outliers += 1
    assert len(snap["venues"]) == 5
    assert outliers > 0  # rare bad prints exist
    assert abs(f.median("BTC") / m.btc - 1) < 0.02  # but the median tracks the market
    assert len({q["BTC-USD"]["price"] for q in snap["venues"].values()}) == 5


def test_stx_crash_regime_falls_then_turns_stressed():
    m = Market(seed=4, p_crash=0.0, crash_at=10, crash_steps=20)
    for _ in range(11):
        m.step()
    assert m.regime.name == "stx-crash" and m.crashes == 1
    btc0, stx0 = m.btc, m.stx
    for _ in range(19):
        m.step()
        assert m.regime.name == "stx-crash"
    assert m.btc < 0.6 * btc0 and m.stx < 0.35 * stx0 and m.stx / stx0 < m.btc / btc0  # STX falls faster
    m.step()
    assert m.regime.name == "stressed"
    never = Market(seed=4, p_crash=0.0)
    assert all(never.step() and never.regime.name != "stx-crash" for _ in range(2000))
