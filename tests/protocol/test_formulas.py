"""The formulas against hand-worked examples (contracts/README.md, the audit's scenarios) and
hypothesis properties: rounding favours the pool, a payout never exceeds the collateral, the fund's
cover never exceeds the shortfall or the fund."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from bithedge.protocol import formulas as f
from bithedge.protocol.errors import ContractError, RegistryError, VaultError
from bithedge.protocol.units import BP, ONE8, TOKEN_SCALE, Token

STX, SBTC = TOKEN_SCALE[Token.STX], TOKEN_SCALE[Token.SBTC]
USD = ONE8  # $1 in USD x 1e8
STD = dict(ratio_bp=11_000, adj_bp=10_000, min_bp=10, max_bp=5_000)  # standard buyer tier, default premium bounds


def test_standard_stx_put_at_60k_is_sized_at_the_stressed_stx_price():
    # 0.1 BTC struck at $54k, BTC $60k, STX $2, standard tier, stress 60 %: P_s = $1.20
    t = f.policy_terms("STX", 54_000 * USD, 10_000_000, 60_000 * USD, 2 * USD, stress_bp=6_000, **STD)
    assert t.stress_price == 120_000_000 and t.coverage_floor == 0
    assert t.max_payout == 4_500 * STX  # $5,400 of worst case at $1.20 per STX
    assert t.collateral == 4_950 * STX  # x 1.1
    assert t.intrinsic == 0
    assert t.min_premium == 4_500_000  # 10 bp of max payout, adjustment 1.0
    assert t.max_premium == 2_250 * STX  # 50 %


def test_sbtc_put_covers_down_to_the_floor_and_the_fund_tops_up_below():
    # audit H-3: the same put on sBTC, stress 50 %: fully covered down to BTC $30k
    t = f.policy_terms("sBTC", 54_000 * USD, 10_000_000, 60_000 * USD, 60_000 * USD, stress_bp=5_000, **STD)
    assert (t.stress_price, t.coverage_floor) == (30_000 * USD, 30_000 * USD)
    assert t.max_payout == 8_000_000 and t.collateral == 8_800_000  # ($54k - $30k) x 0.1 BTC at $30k
    at_floor = f.payout_terms("sBTC", 54_000 * USD, 10_000_000, 30_000 * USD, 30_000 * USD, t.collateral)
    assert at_floor.shortfall == 0 and at_floor.payout == 8_000_000  # paid in full at the floor
    crash = f.payout_terms("sBTC", 54_000 * USD, 10_000_000, 18_000 * USD, 18_000 * USD, t.collateral)
    assert (crash.uncapped, crash.payout, crash.shortfall) == (20_000_000, 8_800_000, 11_200_000)
    assert f.fund_cover(crash.shortfall, 4_000_000) == 4_000_000 and f.fund_cover(crash.shortfall, 10**9) == 11_200_000


def test_sbtc_strike_at_the_floor_has_nothing_to_cover():
    t = f.policy_terms("sBTC", 30_000 * USD, 10_000_000, 60_000 * USD, 60_000 * USD, stress_bp=5_000, **STD)
    assert t.max_payout == 0  # refused at creation (u410)


def test_flexible_itm_adjustment_applies_to_time_value_only():
    # audit L-1: struck at 150 % of spot, intrinsic 1,500 STX; v1 asked 1,350 STX, v2 intrinsic + floor
    t = f.policy_terms("STX", 90_000 * USD, 10_000_000, 60_000 * USD, 2 * USD, ratio_bp=10_000, adj_bp=9_000,
                       min_bp=10, max_bp=5_000, stress_bp=6_000)
    assert t.intrinsic == 1_500 * STX
    assert t.min_premium == 1_500 * STX + 6_750_000  # + ceil(ceil(7,500 STX x 10 bp) x 0.9)


def test_unknown_token_is_the_registrys_error():
    with pytest.raises(ContractError) as exc:
        f.policy_terms("USDA", 1, 1, 1, 1, stress_bp=6_000, **STD)
    assert exc.value.code is RegistryError.UNKNOWN_TOKEN


def test_shares_at_par_into_an_empty_generation_and_priced_with_unearned_premium():
    assert f.shares_for_deposit(10, 0, 0, 0) == 10  # audit H-2's dust deposit after a wipe: 10 shares, not 8.6e10
    assert f.shares_for_deposit(1_000_000, 10**9, 10**8, 10**9) == 909_090  # pays for the premium already collected
    assert f.value_of_shares(8_629_140_169, 0, 8_629_140_169) == 0
    assert f.starts_new_generation(0, 8_629_140_169) and not f.starts_new_generation(1, 1_000_000)


def test_share_math_overflows_like_clarity_outside_the_generation_bounds():
    # audit L-6's v1 numbers: u128 overflow aborts the contract call; the Python mirror raises instead
    with pytest.raises(f.ClarityAbort):
        f.shares_for_deposit(10**13, 0, 0, 78_200_000_000_000**2)


def test_pool_caps_against_backing_in_the_contracts_order():
    caps = dict(max_exposure_policy_bp=2_000, max_utilization_bp=7_000, max_exposure_expiry_bp=4_000)
    b = f.backing(assets=12_000, total_shares=12_000, pending_shares=2_000)
    assert b == 10_000  # requested shares stop backing new policies
    assert f.pool_cap_error(2_000, b, 0, 0, **caps) is None
    assert f.pool_cap_error(2_001, b, 0, 0, **caps) is VaultError.EXPOSURE_POLICY
    assert f.pool_cap_error(1_001, b, 6_000, 0, **caps) is VaultError.UTILIZATION
    assert f.pool_cap_error(1_001, b, 3_000, 3_000, **caps) is VaultError.EXPOSURE_EXPIRY
    assert f.withdrawal_keeps_utilization(3_000, 10_000, 4_900, 7_000)
    assert not f.withdrawal_keeps_utilization(3_001, 10_000, 4_900, 7_000)


def test_guards_quotes_and_tallies():
    assert f.allowed_deviation_bp(1_000, 6, 5_000, 0) == 1_000
    assert f.allowed_deviation_bp(1_000, 6, 5_000, 6) == 2_000 and f.allowed_deviation_bp(1_000, 6, 5_000, 600) == 5_000
    assert f.deviation_ok(110, 100, 1_000) and not f.deviation_ok(111, 100, 1_000)
    assert f.slippage_ok(60_600 * USD, 60_000 * USD, 100) and not f.slippage_ok(60_601 * USD, 60_000 * USD, 100)
    assert f.quote_window_error(903, 900, 903, 6) is None
    assert f.quote_window_error(904, 900, 903, 6) is RegistryError.QUOTE_EXPIRED
    assert f.quote_window_error(900, 900, 907, 6) is RegistryError.QUOTE_LIFE
    assert f.quote_window_error(899, 900, 903, 6) is RegistryError.QUOTE_LIFE
    assert f.strike_in_bounds(30 * USD, 60 * USD, 5_000, 15_000) and not f.strike_in_bounds(29 * USD, 60 * USD, 5_000, 15_000)
    assert f.quorum_reached(1_000, 1_000, 10_000, 2_000) and not f.threshold_passed(1_000, 1_000, 5_000)
    assert f.threshold_passed(1_001, 1_000, 5_000)
    terms = f.policy_terms("STX", 54_000 * USD, 10_000_000, 60_000 * USD, 2 * USD, stress_bp=6_000, **STD)
    assert f.premium_in_bounds(terms.min_premium, terms) and not f.premium_in_bounds(terms.min_premium - 1, terms)
    assert not f.premium_in_bounds(terms.max_premium + 1, terms)


def test_premium_split_and_stress_price_examples():
    # README defaults: 3 % to the treasury, 5 % to the fund, of a 5.4 STX premium
    assert f.premium_split(5_400_000, 300, 500) == f.PremiumSplit(fee=162_000, fund=270_000, pool=4_968_000)
    assert f.premium_split(33, 300, 500) == f.PremiumSplit(fee=0, fund=1, pool=32)
    assert f.stress_price(2 * USD, 6_000) == 120_000_000 and f.stress_price(1, 1_000) == 1


prices = st.integers(1, 10**13)
sats = st.integers(1, 10**10)
tokens = st.sampled_from([t.value for t in Token])
bps = st.integers(0, BP)


@given(token=tokens, strike=prices, amount=sats, spot=prices, price=prices, ratio=st.integers(10_000, 50_000),
       adj=st.integers(1_000, 50_000), min_bp=st.integers(1, BP), max_bp=st.integers(1, BP),
       stress=st.integers(1_000, 10_000))
def test_terms_round_in_the_pools_favour(token, strike, amount, spot, price, ratio, adj, min_bp, max_bp, stress):
    t = f.policy_terms(token, strike, amount, spot, price, ratio, adj, min_bp, max_bp, stress)
    scale = TOKEN_SCALE[Token(token)]
    assert 1 <= t.stress_price <= price
    # worst case rounded up, at the stressed price, down to the floor
    assert t.max_payout * ONE8 * t.stress_price >= max(0, strike - t.coverage_floor) * amount * scale
    assert t.collateral * BP >= t.max_payout * ratio >= t.max_payout * BP  # collateral rounded up, >= max payout
    assert t.intrinsic * ONE8 * price <= max(0, strike - spot) * amount * scale  # owed value rounded down
    assert t.min_premium >= t.intrinsic and t.max_premium * BP <= t.max_payout * max_bp


@given(strike=prices, amount=sats, price=prices, stress=st.integers(1_000, 10_000), fall=st.floats(0, 1))
def test_stx_puts_are_paid_in_full_while_stx_stays_above_the_stress_price(strike, amount, price, stress, fall):
    t = f.policy_terms("STX", strike, amount, strike, price, 11_000, 10_000, 10, 5_000, stress)
    settle_at = int(strike * fall)  # any BTC price at expiry
    for p_e in (t.stress_price, price):
        assert f.payout_terms("STX", strike, amount, settle_at, p_e, t.collateral).shortfall == 0


@given(strike=prices, amount=sats, spot=prices, stress=st.integers(1_000, 9_000), above=st.floats(0, 2))
def test_sbtc_puts_are_paid_in_full_down_to_the_floor(strike, amount, spot, stress, above):
    t = f.policy_terms("sBTC", strike, amount, spot, spot, 11_000, 10_000, 10, 5_000, stress)
    settle_at = t.coverage_floor + int(t.coverage_floor * above)
    assert f.payout_terms("sBTC", strike, amount, settle_at, settle_at, t.collateral).shortfall == 0


@given(token=tokens, strike=prices, amount=sats, settle_at=st.integers(0, 10**13), price=prices,
       collateral=st.integers(0, 10**14), fund=st.integers(0, 10**14))
def test_payout_and_cover_never_exceed_collateral_fund_or_shortfall(token, strike, amount, settle_at, price,
                                                                  collateral, fund):
    p = f.payout_terms(token, strike, amount, settle_at, price, collateral)
    cover = f.fund_cover(p.shortfall, fund)
    assert 0 <= p.payout <= collateral
    assert 0 <= cover <= p.shortfall and cover <= fund  # the fund never goes negative
    assert p.payout + p.shortfall == p.uncapped
    scale = TOKEN_SCALE[Token(token)]
    assert p.uncapped * ONE8 * price <= max(0, strike - settle_at) * amount * scale  # owed value rounded down
    assert f.payout_terms(token, strike, amount, settle_at + 1, price, collateral).payout <= p.payout


@given(premium=st.integers(0, 10**15), fee_bp=st.integers(0, 2_000), fund_bp=st.integers(0, 3_000))
def test_premium_split_adds_up(premium, fee_bp, fund_bp):
    s = f.premium_split(premium, fee_bp, fund_bp)
    assert s.fee + s.fund + s.pool == premium and min(s.fee, s.fund, s.pool) >= 0
    assert s.fee * BP <= premium * fee_bp and s.fund * BP <= premium * fund_bp


@given(assets=st.integers(0, 10**16), shares=st.integers(0, 10**16), x=st.integers(1, 10**15),
       cut=st.floats(0, 1), unearned=st.integers(0, 10**14))
def test_share_rounding_favours_the_pool(assets, shares, x, cut, unearned):
    assume(shares <= f.MAX_SHARES_PER_UNIT * (assets + 1))  # what generations keep true (L-6)
    minted = f.shares_for_deposit(x, assets, unearned, shares)
    if shares:  # a round trip never returns more than was deposited
        assert f.value_of_shares(minted, assets + x, shares + minted) <= x
    # a deposit pays for premium already collected: never more shares than without it (H-1)
    assert minted <= f.shares_for_deposit(x, assets, 0, shares)
    # what all holders can redeem never exceeds the assets, however the shares are split
    part = int(shares * cut)
    assert f.value_of_shares(part, assets, shares) + f.value_of_shares(shares - part, assets, shares) <= assets
    assert 0 <= f.backing(assets, shares, part) <= assets
    # another LP entering or leaving never lowers an existing holder's redeemable value
    before = f.value_of_shares(part, assets, shares)
    if shares:
        assert f.value_of_shares(part, assets + x, shares + minted) >= before
    leaver = shares - part
    paid = f.value_of_shares(leaver, assets, shares)
    assert f.value_of_shares(part, assets - paid, shares - leaver) >= before


def test_position_value_examples():
    # audit H-2's wiped pool: 8.6e9 shares over 0 assets carry no power; L-6's exploded counts stay exact enough
    assert f.position_value(8_629_140_169, 0, 8_629_140_169) == 0
    assert f.position_value(6_000 * STX, 6_000 * STX, 6_000 * STX) == 6_000 * STX
    assert f.position_value(7 * 10**26, 10**13, 14 * 10**26) == 5 * 10**12 - 1  # scaled: a unit below exact
    assert not f.proposal_passed(0, 0, 0, 2_000, 5_000) and f.proposal_passed(1_001, 1_000, 10_000, 2_000, 5_000)


@given(whole=st.integers(1, 2**120), assets=st.integers(0, 2**64 - 1), cut=st.floats(0, 1))
def test_position_value_never_exceeds_the_exact_value(whole, assets, cut):
    part = int(whole * cut)
    v = f.position_value(part, assets, whole)
    assert 0 <= v <= part * assets // whole
    if whole < 2**64:
        assert v == part * assets // whole  # exact while no scaling is needed


@given(reference=st.integers(1, 10**15), allowed=bps)
def test_guard_bounds_are_the_guards_edges(reference, allowed):
    lo, hi = f.guard_bounds(reference, allowed)
    assert f.deviation_ok(lo, reference, allowed) and f.deviation_ok(hi, reference, allowed)
    assert not f.deviation_ok(hi + 1, reference, allowed)
    assert lo == 0 or not f.deviation_ok(lo - 1, reference, allowed)
