"""Risk of the pools' short-put book: Black–Scholes value and Greeks of a policy, and the historical-simulation
scenario that sizes the book's value at risk. No contract computes these; `analytics.pool_risk` does, with the
macros of `transforms/project/macros/risk.sql` (the SQL side of these functions, checked against them through
the vector file).

Model: a policy is a European put on ``amount`` sats of BTC struck at ``strike``. Its payout in USD,
``(K − S_E)⁺ · A / 1e8``, does not depend on the collateral token (the registry converts it at the collateral
price), so the Greeks are in USD and BTC whatever the pool's token; the collateral cap (which binds only below
the stress price) is not modelled. Rates are 0 (nothing in the protocol pays interest). Volatility is a
fraction per year (``analytics.oracle_stats``, annualized by block time), time to expiry in years of block time.

Units: prices USD x 1e8 per BTC (floats allowed), values USD x 1e8 per BTC of notional; ``delta`` is ∂V/∂S
(−1..0), ``gamma`` per USD x 1e8, ``vega`` USD x 1e8 per 1.0 of volatility, ``theta`` USD x 1e8 per year
(∂V/∂t, negative for a long put)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bithedge.protocol.units import ONE8

#: seconds in a Julian year: the annualization of `analytics.oracle_stats`
YEAR_S = 31_557_600


def norm_cdf(x: float) -> float:
    """Φ(x) = (1 + erf(x / √2)) / 2 (the SQL side uses PostgreSQL's erf, as libm computes both)."""
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


#: φ is taken as 0 from 0.5·x² = 600 (φ ≈ 1e-261) on, as the SQL side must (transforms macros/risk.sql: Postgres
#: raises where a float underflows to 0, and a deep out-of-the-money put's gamma divides φ(d1) further)
PDF_CUTOFF = 600.0


def norm_pdf(x: float) -> float:
    half_sq = 0.5 * (x * x)
    return math.exp(-half_sq) / math.sqrt(2.0 * math.pi) if half_sq < PDF_CUTOFF else 0.0


@dataclass(frozen=True)
class PutGreeks:
    """A long put's value and sensitivities per BTC of notional (units in the module docstring)."""

    value: float
    delta: float
    gamma: float
    vega: float
    theta: float


def bs_put(spot: float, strike: float, vol: float, years: float) -> PutGreeks:
    """Black–Scholes with r = 0. At or past expiry (``years`` ≤ 0) or without volatility the put is worth its
    intrinsic value, delta is −1 below the strike and 0 at or above it, the other Greeks 0."""
    if years <= 0 or vol <= 0:
        return PutGreeks(max(strike - spot, 0.0), -1.0 if spot < strike else 0.0, 0.0, 0.0, 0.0)
    sd = vol * math.sqrt(years)
    d1 = (math.log(spot / strike) + 0.5 * (sd * sd)) / sd
    d2 = d1 - sd
    pdf = norm_pdf(d1)
    return PutGreeks(
        value=strike * norm_cdf(-d2) - spot * norm_cdf(-d1),
        delta=norm_cdf(d1) - 1.0,
        gamma=pdf / (spot * sd),
        vega=spot * pdf * math.sqrt(years),
        theta=-spot * pdf * vol / (2.0 * math.sqrt(years)),
    )


def return_quantile(returns: Sequence[float], p: float) -> float:
    """The discrete p-quantile (PostgreSQL's ``percentile_disc``): the smallest return whose cumulative share
    of the sample is at least p."""
    ordered = sorted(returns)
    if not ordered:
        raise ValueError("no returns")
    return ordered[max(0, math.ceil(p * len(ordered)) - 1)]


def scenario_payout(spot: float, strike: float, amount: int, z: float, seconds: float) -> float:
    """What a policy pays at expiry (USD x 1e8, uncapped) if BTC moves from ``spot`` by the log return
    ``z · √seconds``: ``z`` is a historical log return per √second of block time, ``seconds`` the time to expiry."""
    moved = spot * math.exp(z * math.sqrt(max(seconds, 0.0)))
    return max(strike - moved, 0.0) * amount / ONE8


def historical_var(spot: float, book: Iterable[tuple[float, int, float]], returns: Sequence[float],
                   confidence: float) -> float:
    """Value at risk to expiry by historical simulation (USD x 1e8): the book's payout at expiry in the scenario
    of the (1 − confidence) quantile of the historical BTC returns per √second (``returns``), each policy
    (strike, amount sats, seconds to expiry) moved by that return over its own time to expiry (√time scaling).
    Every payout falls as the return rises, so about a (1 − confidence) share of the historical scenarios pay
    more than this one."""
    z = return_quantile(returns, 1.0 - confidence)
    return sum(scenario_payout(spot, k, a, z, s) for k, a, s in book)
