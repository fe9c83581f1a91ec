"""The quote service's pricing model, versioned: every quote stores ``MODEL_NAME``, ``MODEL_VERSION`` and the
inputs below, so `analytics.pricing_model_performance` can hold each version against what happened.
Changing a constant or a step here is a new ``MODEL_VERSION`` (api/README.md, "Pricing").

Model ``bs-realized-vol`` version 1, for a put of strike K on A sats, collateral token priced P:

1. fair value: Black–Scholes put (`bithedge.protocol.risk.bs_put`, zero rate: the pool-risk Greeks' formula) at the latest oracle BTC
   price S, on BTC's realized volatility from `analytics.oracle_stats` (the 1,008-block window, else the
   144-block one), clamped to [VOL_MIN, VOL_MAX], over (expiry − issued-at) burn blocks of 600 s; converted
   to base units of the token at P like every contract amount (`usd-diff-to-units`);
2. × the buyer tier's `premium-adjustment-bp` (the adjustment the contract applies to its floor);
3. × (1 + utilization loading), loading = UTIL_LOADING_BP_AT_CAP · (u / u_max)², u = the pool's utilization
   of its backing after this policy's collateral, u_max = the provider tier's `max-utilization-bp`;
4. grossed up by the premium's protocol fee and fund shares, so the pool's part is the loaded risk price;
5. rounded up to a base unit and clamped into the contract's premium bounds (`policy_terms`) at every price
   the quote may meet on chain: BTC within `quote.max-slippage-bp` of S (the contract refuses more, u420) and,
   as an assumption, the collateral price within the same band of P. Never below the contract's minimum.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from bithedge.protocol.formulas import PolicyTerms, policy_terms
from bithedge.protocol.risk import YEAR_S, bs_put
from bithedge.protocol.units import BP, ONE8, Token, token_scale

MODEL_NAME = "bs-realized-vol"
MODEL_VERSION = "1"
#: annualized volatility bounds (a devnet's prices move per simulated step, seconds apart: far above VOL_MAX)
VOL_MIN, VOL_MAX = 0.20, 3.00
#: the premium loading when the pool would be at its utilization cap after this policy
UTIL_LOADING_BP_AT_CAP = 5_000
#: nominal seconds per burn (Bitcoin) block
BURN_BLOCK_S = 600


class Unpriceable(ValueError):
    """No premium satisfies the contract at every price the quote may meet; ``rule`` names the bound."""

    def __init__(self, rule: str, detail: str) -> None:
        super().__init__(detail)
        self.rule = rule


@dataclass(frozen=True)
class PricingInputs:
    """Everything the model reads. Prices USD×1e8, ``amount`` sats, pool amounts in base units of ``token``."""

    token: str
    strike: int
    amount: int
    spot: int  # latest BTC price
    collateral_price: int  # latest price of the token's feed (= spot for sBTC)
    blocks_to_expiry: int  # expiry − issued-at, burn blocks
    realized_vol_144: float | None
    realized_vol_1008: float | None
    collateral_ratio_bp: int  # buyer tier
    premium_adjustment_bp: int  # buyer tier
    premium_min_bp: int
    premium_max_bp: int
    stress_bp: int  # stress.stx-price-bp or stress.sbtc-price-bp
    fee_bp: int
    fund_bp: int
    max_slippage_bp: int
    pool_locked: int
    pool_backing: int
    max_utilization_bp: int  # provider tier


@dataclass(frozen=True)
class Priced:
    premium: int
    #: the contract's terms at the quote's own prices (what the buyer is shown)
    terms: PolicyTerms
    #: the contract's terms at the worst prices of the band: the floor's (low) and the cap's (high)
    low: PolicyTerms
    high: PolicyTerms
    #: what a quote records (api.quotes.inputs): model inputs and every intermediate
    record: dict


def band(price: int, slippage_bp: int) -> tuple[int, int]:
    """The integer prices within ``slippage_bp`` of ``price`` (the contract's |S − spot| · 10000 ≤ spot · bp)."""
    slack = price * slippage_bp // BP
    return max(1, price - slack), price + slack


def terms_at(i: PricingInputs, spot: int, collateral_price: int) -> PolicyTerms:
    return policy_terms(i.token, i.strike, i.amount, spot, collateral_price, i.collateral_ratio_bp,
                        i.premium_adjustment_bp, i.premium_min_bp, i.premium_max_bp, i.stress_bp)


def worst_terms(i: PricingInputs) -> tuple[PolicyTerms, PolicyTerms]:
    """(low, high): the terms at the lowest prices of the band (highest minimum premium and collateral) and at
    the highest (lowest maximum premium). For sBTC the collateral price is the BTC price itself."""
    s_lo, s_hi = band(i.spot, i.max_slippage_bp)
    if i.token == Token.SBTC:
        return terms_at(i, s_lo, s_lo), terms_at(i, s_hi, s_hi)
    p_lo, p_hi = band(i.collateral_price, i.max_slippage_bp)
    return terms_at(i, s_lo, p_lo), terms_at(i, s_hi, p_hi)


def volatility(i: PricingInputs) -> tuple[float, int, float | None]:
    """(used, window, raw): the longest window with a value, clamped."""
    for window, raw in ((1008, i.realized_vol_1008), (144, i.realized_vol_144)):
        if raw is not None and math.isfinite(raw) and raw > 0:
            return min(max(raw, VOL_MIN), VOL_MAX), window, raw
    return VOL_MIN, 0, None


def price(i: PricingInputs) -> Priced:
    """The premium (base units of ``i.token``) for these inputs, or :class:`Unpriceable`."""
    low, high = worst_terms(i)
    if low.max_payout == 0 or high.max_payout == 0:
        raise Unpriceable("strike-band", "the strike is at or below the coverage floor: the put pays nothing (u410)")
    floor, cap = low.min_premium, high.max_premium
    if floor > cap or cap <= 0:
        raise Unpriceable("premium-bounds", f"no premium fits the contract's bounds over the price band "
                                            f"(minimum {floor} > maximum {cap}; u411/u412)")
    vol, window, raw_vol = volatility(i)
    years = i.blocks_to_expiry * BURN_BLOCK_S / YEAR_S
    fair_usd_e8 = bs_put(float(i.spot), float(i.strike), vol, years).value
    fair_units = fair_usd_e8 * i.amount * token_scale(i.token) / (ONE8 * i.collateral_price)
    adjusted = fair_units * i.premium_adjustment_bp / BP
    util_before = i.pool_locked / i.pool_backing if i.pool_backing > 0 else 1.0
    util_after = (i.pool_locked + low.collateral) / i.pool_backing if i.pool_backing > 0 else 1.0
    cap_util = i.max_utilization_bp / BP
    loading_bp = UTIL_LOADING_BP_AT_CAP * (util_after / cap_util) ** 2 if cap_util > 0 else UTIL_LOADING_BP_AT_CAP
    loaded = adjusted * (1 + loading_bp / BP)
    keep_bp = BP - i.fee_bp - i.fund_bp
    model_premium = math.ceil(loaded * BP / keep_bp) if keep_bp > 0 else cap
    premium = min(max(model_premium, floor, 1), cap)
    record = {
        "model": MODEL_NAME, "version": MODEL_VERSION,
        "inputs": {k: v for k, v in asdict(i).items()},
        "volatility": vol, "volatility_window_blocks": window, "volatility_raw": raw_vol, "years": years,
        "fair_usd_e8_per_btc": fair_usd_e8, "fair_units": fair_units, "adjusted_units": adjusted,
        "utilization_before": util_before, "utilization_after": util_after,
        "utilization_loading_bp": loading_bp, "gross_up_keep_bp": keep_bp, "model_premium": model_premium,
        "floor": floor, "cap": cap, "clamped": "floor" if premium > model_premium else "cap" if premium < model_premium else None,
    }
    return Priced(premium=premium, terms=terms_at(i, i.spot, i.collateral_price), low=low, high=high, record=record)

