"""Option pricing used off chain (the contracts hold no pricing model, only the premium bounds of
`formulas.policy_terms`): the Black–Scholes value of the European put a policy is. One copy, used by the
quote service (`api/pricing.py`) and the simulator's locally signed quotes.

Floats, not Clarity integers: the result is a model price that callers turn into base units and then clamp
to the contract's integer bounds."""

from __future__ import annotations

import math

#: Seconds in a Julian year: the annualization `analytics.oracle_stats` uses for realized volatility.
YEAR_S = 31_557_600.0


def norm_cdf(x: float) -> float:
    """The standard normal distribution function."""
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def bs_put(spot: float, strike: float, vol: float, years: float, rate: float = 0.0) -> float:
    """Black–Scholes value of a European put, in the units of ``spot``/``strike`` (e.g. USD per BTC).

    ``vol`` is the annualized volatility (0.6 = 60 %), ``years`` the time to expiry, ``rate`` the continuously
    compounded risk-free rate (BitHedge prices with 0: premiums and payouts are paid in the collateral token,
    not in a USD money market). With no time or no volatility left the put is worth its intrinsic value."""
    if spot <= 0 or strike <= 0:
        raise ValueError("spot and strike must be positive")
    discount = math.exp(-rate * max(years, 0.0))
    if years <= 0 or vol <= 0:
        return max(0.0, strike * discount - spot)
    sd = vol * math.sqrt(years)
    d1 = (math.log(spot / strike) + (rate + 0.5 * vol * vol) * years) / sd
    d2 = d1 - sd
    return strike * discount * norm_cdf(-d2) - spot * norm_cdf(-d1)
