"""The pricing model (api/pricing.py; its Black–Scholes put is `bithedge.protocol.risk.bs_put`, tested with the
risk formulas): the premium always fits the contract's bounds at every price the quote may meet, and each
loading moves it the documented way."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api import pricing
from bithedge.protocol.formulas import policy_terms

SPOT = 60_000 * 10**8  # USD×1e8
STX = 2 * 10**8


def inputs(**kw) -> pricing.PricingInputs:
    base = dict(
        token="STX", strike=54_000 * 10**8, amount=10_000_000, spot=SPOT, collateral_price=STX,
        blocks_to_expiry=1_008, realized_vol_144=0.55, realized_vol_1008=0.6, collateral_ratio_bp=11_000,
        premium_adjustment_bp=10_000, premium_min_bp=10, premium_max_bp=5_000, stress_bp=6_000, fee_bp=300,
        fund_bp=500, max_slippage_bp=100, pool_locked=0, pool_backing=10**15, max_utilization_bp=7_000,
    )
    return pricing.PricingInputs(**{**base, **kw})


def test_premium_is_the_loaded_model_price_and_records_every_input() -> None:
    i = inputs()
    p = pricing.price(i)
    r = p.record
    assert (r["model"], r["version"]) == (pricing.MODEL_NAME, pricing.MODEL_VERSION)
    assert r["inputs"]["spot"] == SPOT and r["volatility"] == 0.6 and r["volatility_window_blocks"] == 1008
    assert r["clamped"] is None and p.premium == r["model_premium"]
    # the pool's share after fee and fund is the loaded risk price
    assert p.premium * (10_000 - 800) / 10_000 == pytest.approx(r["adjusted_units"] * (1 + r["utilization_loading_bp"] / 10_000), rel=1e-6)
    assert p.terms == policy_terms("STX", i.strike, i.amount, SPOT, STX, 11_000, 10_000, 10, 5_000, 6_000)


def test_loadings_move_the_premium_as_documented() -> None:
    base = pricing.price(inputs()).premium
    assert pricing.price(inputs(premium_adjustment_bp=11_000)).premium > base > \
        pricing.price(inputs(premium_adjustment_bp=9_000)).premium
    busy = pricing.price(inputs(pool_locked=6 * 10**14))
    assert busy.premium > base and busy.record["utilization_loading_bp"] > 0
    assert pricing.price(inputs(realized_vol_1008=None, realized_vol_144=0.9)).record["volatility_window_blocks"] == 144
    assert pricing.price(inputs(realized_vol_1008=None, realized_vol_144=None)).record["volatility"] == pricing.VOL_MIN
    assert pricing.price(inputs(realized_vol_1008=40.0)).record["volatility"] == pricing.VOL_MAX


def test_never_below_the_contract_minimum() -> None:
    # deep in the money, little time, a tier discount: the model is below the floor (intrinsic at the band's low end)
    p = pricing.price(inputs(strike=80_000 * 10**8, blocks_to_expiry=6, realized_vol_1008=None, realized_vol_144=None,
                             premium_adjustment_bp=5_000, fee_bp=0, fund_bp=0))
    assert p.record["clamped"] == "floor" and p.premium == p.low.min_premium > p.terms.min_premium


def test_unpriceable_strike_below_the_sbtc_coverage_floor() -> None:
    with pytest.raises(pricing.Unpriceable) as err:
        pricing.price(inputs(token="sBTC", collateral_price=SPOT, stress_bp=5_000, strike=29_000 * 10**8))
    assert err.value.rule == "strike-band"


@settings(max_examples=300, deadline=None)
@given(
    token=st.sampled_from(["STX", "sBTC"]), strike_bp=st.integers(5_000, 15_000),
    amount=st.integers(10_000, 10**9), spot=st.integers(10**11, 10**14), coll=st.integers(10**6, 10**10),
    blocks=st.integers(6, 52_560), vol=st.one_of(st.none(), st.floats(0.01, 50)),
    adj=st.integers(1_000, 50_000), ratio=st.integers(10_000, 50_000), min_bp=st.integers(1, 100),
    max_bp=st.integers(100, 10_000), util=st.floats(0, 1), slip=st.integers(1, 2_000),
    corner=st.tuples(st.floats(-1, 1), st.floats(-1, 1)),
)
def test_premium_fits_the_contract_bounds_over_the_whole_band(token, strike_bp, amount, spot, coll, blocks, vol, adj,
                                                            ratio, min_bp, max_bp, util, slip, corner) -> None:
    coll = spot if token == "sBTC" else coll
    stress = 5_000 if token == "sBTC" else 6_000
    i = inputs(token=token, strike=spot * strike_bp // 10_000, amount=amount, spot=spot, collateral_price=coll,
               blocks_to_expiry=blocks, realized_vol_1008=vol, premium_adjustment_bp=adj, collateral_ratio_bp=ratio,
               premium_min_bp=min_bp, premium_max_bp=max_bp, stress_bp=stress, max_slippage_bp=slip,
               pool_locked=int(util * 10**12), pool_backing=10**12)
    try:
        p = pricing.price(i)
    except pricing.Unpriceable:
        return
    # any price the contract may meet: BTC within the slippage band, the collateral price within the same band
    s_lo, s_hi = pricing.band(spot, slip)
    c_lo, c_hi = pricing.band(coll, slip)
    s = round(spot + corner[0] * (s_hi - spot if corner[0] > 0 else spot - s_lo))
    c = s if token == "sBTC" else round(coll + corner[1] * (c_hi - coll if corner[1] > 0 else coll - c_lo))
    for sp, cp in ((s, c), (s_lo, s_lo if token == "sBTC" else c_lo), (s_hi, s_hi if token == "sBTC" else c_hi)):
        t = policy_terms(token, i.strike, amount, sp, cp, ratio, adj, min_bp, max_bp, stress)
        assert 0 < p.premium and t.min_premium <= p.premium <= t.max_premium, (sp, cp, t)


def test_band_is_the_contracts_slippage_rule() -> None:
    from bithedge.protocol.formulas import slippage_ok

    lo, hi = pricing.band(SPOT, 100)
    assert slippage_ok(lo, SPOT, 100) and slippage_ok(hi, SPOT, 100)
    assert not slippage_ok(lo - 1, SPOT, 100) and not slippage_ok(hi + 1, SPOT, 100)
    assert replace(inputs(), spot=lo).spot == lo
