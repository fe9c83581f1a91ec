"""The formulas against hand-worked examples (contracts/README.md, the audit's scenarios) and
hypothesis properties: rounding favours the pool, a payout never exceeds the collateral."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from bithedge.protocol import formulas as f
from bithedge.protocol.errors import VaultError
from bithedge.protocol.units import BP, ONE8, TOKEN_SCALE, Token

STX, SBTC = TOKEN_SCALE[Token.STX], TOKEN_SCALE[Token.SBTC]
USD = ONE8  # $1 in USD x 1e8


def test_standard_stx_put_at_60k():
    # 0.1 BTC struck at $54k, BTC $60k, STX $2, standard tier: the suite's default quote
    t = f.policy_terms(54_000 * USD, 10_000_000, 60_000 * USD, STX, 2 * USD, 11_000, 10_000, 10, 5_000)
    assert t.max_payout == 2_700 * STX  # $5,400 of worst case at $2 per STX
    assert t.collateral == 2_970 * STX  # x 1.1
    assert t.intrinsic == 0
    assert t.min_premium == 2_700_000  # 10 bp of max payout
    assert t.max_premium == 1_350 * STX  # 50 %


def test_sbtc_crash_pays_the_capped_collateral():
    # audit H-3: the same put on sBTC locks 9.9M sats; at $18k it owes 20M sats, pays 9.9M (4950 bp)
    t = f.policy_terms(54_000 * USD, 10_000_000, 60_000 * USD, SBTC, 60_000 * USD, 11_000, 10_000, 10, 5_000)
    assert t.collateral == 9_900_000
    uncapped = f.usd_diff_to_units(36_000 * USD, 10_000_000, SBTC, 18_000 * USD)
    assert uncapped == 20_000_000
    p = f.payout_terms(54_000 * USD, 10_000_000, 18_000 * USD, SBTC, 18_000 * USD, t.collateral, fund_balance=4_000_000)
    assert (p.payout, p.shortfall, p.cover, p.released) == (9_900_000, 10_100_000, 4_000_000, 0)


def test_flexible_itm_floor_applies_the_adjustment_to_intrinsic():
    # audit L-1 (v1 formula): struck at 150 % of spot, intrinsic 1,500 STX, minimum premium 1,350 STX
    t = f.policy_terms(90_000 * USD, 10_000_000, 60_000 * USD, STX, 2 * USD, 10_000, 9_000, 10, 5_000)
    assert t.intrinsic == 1_500 * STX
    assert t.min_premium == 1_350 * STX


def test_wiped_pool_dust_deposit_mints_every_old_share_again():
    # audit H-2: assets 0, shares 8,629,140,169; 10 uSTX mints 86,291,401,700 shares
    assert f.deposit_shares(10, 0, 8_629_140_169) == 86_291_401_700
    assert f.withdraw_amount(8_629_140_169, 0, 8_629_140_169) == 0


def test_share_math_overflows_like_clarity_after_a_wipe():
    # audit L-6: u128 overflow aborts the contract call; the Python mirror raises instead of answering
    with pytest.raises(f.ClarityAbort):
        f.deposit_shares(10**13, 0, 78_200_000_000_000**2)
    assert f.deposit_shares(10**6, 0, 0) == 10**6


def test_pool_caps_in_the_contracts_order():
    caps = dict(max_exposure_policy_bp=2_000, max_utilization_bp=7_000, max_exposure_expiry_bp=4_000)
    assert f.pool_cap_error(2_000, 10_000, 0, 0, **caps) is None
    assert f.pool_cap_error(2_001, 10_000, 0, 0, **caps) is VaultError.EXPOSURE_POLICY
    assert f.pool_cap_error(1_001, 10_000, 6_000, 0, **caps) is VaultError.UTILIZATION
    assert f.pool_cap_error(1_001, 10_000, 3_000, 3_000, **caps) is VaultError.EXPOSURE_EXPIRY


def test_guards_and_tallies():
    assert f.deviation_ok(110, 100, 1_000) and not f.deviation_ok(111, 100, 1_000)
    assert f.strike_in_bounds(30 * USD, 60 * USD, 5_000, 15_000) and not f.strike_in_bounds(29 * USD, 60 * USD, 5_000, 15_000)
    assert f.quorum_reached(1_000, 1_000, 10_000, 2_000) and not f.threshold_passed(1_000, 1_000, 5_000)
    assert f.threshold_passed(1_001, 1_000, 5_000)
    terms = f.policy_terms(54_000 * USD, 10_000_000, 60_000 * USD, STX, 2 * USD, 11_000, 10_000, 10, 5_000)
    assert f.premium_in_bounds(terms.min_premium, terms) and not f.premium_in_bounds(terms.min_premium - 1, terms)
    assert not f.premium_in_bounds(terms.max_premium + 1, terms)


prices = st.integers(1, 10**13)
sats = st.integers(1, 10**10)
scales = st.sampled_from(list(TOKEN_SCALE.values()))
bps = st.integers(0, BP)


@given(strike=prices, amount=sats, spot=prices, scale=scales, price=prices, ratio=st.integers(10_000, 50_000),
       adj=st.integers(1_000, 50_000), min_bp=bps, max_bp=st.integers(1, BP))
def test_terms_round_in_the_pools_favour(strike, amount, spot, scale, price, ratio, adj, min_bp, max_bp):
    t = f.policy_terms(strike, amount, spot, scale, price, ratio, adj, min_bp, max_bp)
    assert t.max_payout * ONE8 * price >= strike * amount * scale  # worst case rounded up
    assert t.collateral * BP >= t.max_payout * ratio >= t.max_payout * BP  # collateral rounded up, >= max payout
    assert t.intrinsic * ONE8 * price <= max(0, strike - spot) * amount * scale  # owed value rounded down
    assert t.intrinsic <= t.max_payout
    assert t.min_premium * BP >= max(t.intrinsic, -(-t.max_payout * min_bp // BP)) * adj
    assert t.max_premium * BP <= t.max_payout * max_bp


@given(strike=prices, amount=sats, settle_at=st.integers(0, 10**13), scale=scales, price=prices,
       collateral=st.integers(0, 10**14), fund=st.integers(0, 10**14))
def test_payout_and_cover_never_exceed_collateral_fund_or_what_is_owed(strike, amount, settle_at, scale, price,
                                                                      collateral, fund):
    p = f.payout_terms(strike, amount, settle_at, scale, price, collateral, fund)
    assert 0 <= p.payout <= collateral and p.released == collateral - p.payout
    assert 0 <= p.cover <= p.shortfall and p.cover <= fund  # the fund never goes negative
    assert p.payout + p.shortfall == p.uncapped
    assert p.uncapped * ONE8 * price <= max(0, strike - settle_at) * amount * scale  # owed value rounded down
    assert f.payout_terms(strike, amount, settle_at + 1, scale, price, collateral, fund).payout <= p.payout


def test_premium_split_and_stress_price_examples():
    # README defaults: 3 % to the treasury, 5 % to the fund, of the suite's 5.4 STX premium
    assert f.premium_split(5_400_000, 300, 500) == f.PremiumSplit(fee=162_000, fund=270_000, pool=4_968_000)
    assert f.premium_split(33, 300, 500) == f.PremiumSplit(fee=0, fund=1, pool=32)
    assert f.stress_price(2 * USD, 6_000) == 120_000_000 and f.stress_price(1, 1_000) == 1
    assert f.allowed_deviation_bp(0, 1_000, 6, 5_000) == 1_000
    assert f.allowed_deviation_bp(6, 1_000, 6, 5_000) == 2_000 and f.allowed_deviation_bp(600, 1_000, 6, 5_000) == 5_000


@given(premium=st.integers(0, 10**15), fee_bp=st.integers(0, 2_000), fund_bp=st.integers(0, 3_000))
def test_premium_split_adds_up(premium, fee_bp, fund_bp):
    s = f.premium_split(premium, fee_bp, fund_bp)
    assert s.fee + s.fund + s.pool == premium and min(s.fee, s.fund, s.pool) >= 0
    assert s.fee * BP <= premium * fee_bp and s.fund * BP <= premium * fund_bp


@given(assets=st.integers(0, 10**16), shares=st.integers(0, 10**16), pending=st.floats(0, 1),
       unearned=st.integers(0, 10**14))
def test_backing_and_book_value(assets, shares, pending, unearned):
    q = int(shares * pending)
    assert 0 <= f.backing(assets, shares, q) <= assets
    assert f.book_value(shares, assets, unearned, shares) <= assets + unearned  # no holder is owed more than exists
    assert f.book_value(q, assets, unearned, shares) >= f.withdraw_amount(q, assets, shares)


@given(assets=st.integers(0, 10**16), shares=st.integers(0, 10**16), x=st.integers(1, 10**15),
       cut=st.floats(0, 1))
def test_share_rounding_favours_the_pool(assets, shares, x, cut):
    assume(shares <= f.WIPE_SHARES_PER_UNIT * (assets + 1))  # what generations keep true (L-6)
    minted = f.deposit_shares(x, assets, shares)
    # a round trip never returns more than was deposited
    assert f.withdraw_amount(minted, assets + x, shares + minted) <= x
    # what all holders can redeem never exceeds the assets, however the shares are split
    part = int(shares * cut)
    assert f.withdraw_amount(part, assets, shares) + f.withdraw_amount(shares - part, assets, shares) <= assets
    # another LP entering or leaving never lowers an existing holder's redeemable value
    before = f.withdraw_amount(part, assets, shares)
    assert f.withdraw_amount(part, assets + x, shares + minted) >= before
    leaver = shares - part
    paid = f.withdraw_amount(leaver, assets, shares)
    assert f.withdraw_amount(part, assets - paid, shares - leaver) >= before


@given(previous=st.integers(1, 10**15), dev=bps)
def test_guard_bounds_are_the_guards_edges(previous, dev):
    lo, hi = f.guard_bounds(previous, dev)
    assert f.deviation_ok(lo, previous, dev) and f.deviation_ok(hi, previous, dev)
    assert not f.deviation_ok(hi + 1, previous, dev)
    assert lo == 0 or not f.deviation_ok(lo - 1, previous, dev)
