"""bithedge.protocol.risk and .earning against their definitions: the Greeks are the derivatives of the value
(central differences), the value is bounded by intrinsic and strike and tends to intrinsic at expiry, the
quantile is PostgreSQL's percentile_disc, the VaR scenario is the book's payout at that quantile, and a premium
prorated over any partition of its coverage sums to the premium. (The SQL side is held to these functions by the
vector file, tests/transforms/test_formula_vectors.py.)"""

from __future__ import annotations

import math
import random
from fractions import Fraction

import pytest

from bithedge.protocol.earning import earned_between
from bithedge.protocol.risk import YEAR_S, bs_put, historical_var, return_quantile, scenario_payout

USD = 100_000_000


@pytest.mark.parametrize("seed", range(20))
def test_greeks_are_the_derivatives_of_the_value(seed):
    r = random.Random(seed)
    spot = r.uniform(20_000, 150_000) * USD
    strike = spot * r.uniform(0.7, 1.3)
    vol, years = r.uniform(0.2, 2.0), r.uniform(1 / 365, 0.5)
    g = bs_put(spot, strike, vol, years)
    h, hv, ht = spot * 1e-4, 1e-5, years * 1e-4

    def value(s=spot, v=vol, t=years):
        return bs_put(s, strike, v, t).value

    delta = (value(s=spot + h) - value(s=spot - h)) / (2 * h)
    gamma = (value(s=spot + h) - 2 * g.value + value(s=spot - h)) / h**2
    vega = (value(v=vol + hv) - value(v=vol - hv)) / (2 * hv)
    theta = -(value(t=years + ht) - value(t=years - ht)) / (2 * ht)  # calendar time runs against T
    assert g.delta == pytest.approx(delta, rel=1e-5, abs=1e-9)
    assert g.gamma == pytest.approx(gamma, rel=1e-3, abs=1e-20)
    assert g.vega == pytest.approx(vega, rel=1e-5)
    assert g.theta == pytest.approx(theta, rel=1e-4)
    assert -1 <= g.delta <= 0 and g.gamma >= 0 and g.vega >= 0 and g.theta <= 0
    assert max(strike - spot, 0) <= g.value <= strike


def test_at_expiry_the_put_is_its_intrinsic_value():
    itm, otm = bs_put(50_000 * USD, 60_000 * USD, 0.5, 0), bs_put(70_000 * USD, 60_000 * USD, 0.5, 0)
    assert (itm.value, itm.delta, itm.gamma, itm.vega, itm.theta) == (10_000 * USD, -1, 0, 0, 0)
    assert (otm.value, otm.delta) == (0, 0)
    assert bs_put(50_000 * USD, 60_000 * USD, 0.5, 1 / YEAR_S).value == pytest.approx(10_000 * USD, rel=1e-9)
    assert bs_put(50_000 * USD, 60_000 * USD, 0.0, 1.0) == itm  # no volatility: intrinsic too


def test_return_quantile_is_percentile_disc():
    returns = [0.03, -0.02, 0.0, -0.05, 0.01]
    assert return_quantile(returns, 0.2) == -0.05  # ceil(0.2 · 5) = 1st
    assert return_quantile(returns, 0.21) == -0.02
    assert return_quantile(returns, 0.01) == -0.05 and return_quantile(returns, 1.0) == 0.03
    with pytest.raises(ValueError):
        return_quantile([], 0.5)


def test_var_is_the_books_payout_in_the_quantile_scenario():
    r = random.Random(7)
    returns = [r.gauss(0, 0.0003) for _ in range(500)]
    spot = 60_000 * USD
    book = [(spot * r.uniform(0.8, 1.1), r.randint(10_000, 10**8), r.uniform(0, 30 * 86_400)) for _ in range(30)]
    var99, var95 = historical_var(spot, book, returns, 0.99), historical_var(spot, book, returns, 0.95)
    payouts = sorted(sum(scenario_payout(spot, k, a, z, s) for k, a, s in book) for z in returns)
    assert var99 >= var95 > 0
    # every payout falls as the return rises: at most 1 % (5 %) of the scenarios pay more
    assert sum(p > var99 for p in payouts) <= 0.01 * len(payouts)
    assert sum(p > var95 for p in payouts) <= 0.05 * len(payouts)
    assert scenario_payout(spot, 54_000 * USD, 10**8, 0.0, 86_400) == 0
    assert scenario_payout(spot, 66_000 * USD, 10**8, 0.0, 86_400) == pytest.approx(6_000 * USD)
    assert scenario_payout(spot, 54_000 * USD, 10**7, -0.001, 86_400) == pytest.approx(
        (54_000 * USD - spot * math.exp(-0.001 * math.sqrt(86_400))) / 10)


def test_premium_prorated_over_a_partition_sums_to_the_premium():
    r = random.Random(3)
    for _ in range(50):
        created = r.randint(0, 1_000)
        expiry = created + r.randint(1, 500)
        cuts = sorted(r.randint(created - 50, expiry + 50) for _ in range(r.randint(1, 6)))
        edges = [created - 100, *cuts, expiry + 100]
        amount = r.randint(1, 10**12)
        parts = [earned_between(amount, created, expiry, lo, hi) for lo, hi in zip(edges, edges[1:], strict=False)]
        assert sum(parts) == amount and all(p >= 0 for p in parts)
    assert earned_between(9, 0, 3, 1, 2) == Fraction(3)
    with pytest.raises(ValueError):
        earned_between(1, 5, 5, 0, 10)
