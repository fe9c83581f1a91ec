"""The contracts' integer formulas (`contracts/README.md`, Formulas). Every function is exact integer
arithmetic as Clarity does it (uint, division truncates); rounding always favours the pool.

Units: prices USD x 1e8 per whole coin, `amount` in sats, `scale` = base units per whole collateral
token (:data:`bithedge.protocol.units.TOKEN_SCALE`), premiums/collateral/payouts/pool assets in base
units of the collateral token, `*_bp` in basis points."""

from __future__ import annotations

from dataclasses import dataclass

from bithedge.protocol.errors import VaultError
from bithedge.protocol.units import BP, ONE8

#: Clarity's uint is 128 bits; an intermediate above it aborts the transaction.
U128_MAX = 2**128 - 1


class ClarityAbort(ArithmeticError):
    """The contract's computation aborts here (uint overflow or division by zero): no result, the
    transaction fails with a runtime error instead of an error code."""


def u128(x: int) -> int:
    """``x`` when it fits a Clarity uint, else :class:`ClarityAbort` (overflow)."""
    if x > U128_MAX:
        raise ClarityAbort("arithmetic overflow")
    return x


def mul(*factors: int) -> int:
    """Clarity's nested `*`: the running product checked against u128 after every step."""
    product = 1
    for f in factors:
        product = u128(product * f)
    return product


def div(a: int, b: int) -> int:
    """Clarity's uint `/` (truncates; division by zero aborts)."""
    if b == 0:
        raise ClarityAbort("division by zero")
    return a // b


def ceil_div(a: int, b: int) -> int:
    """ceil(a / b) for b > 0, as the registry's `ceil-div` ((a + b − 1) / b, so it can overflow too)."""
    if b == 0:
        raise ClarityAbort("arithmetic underflow")
    return div(u128(a + b - 1), b)


def usd_diff_to_units(usd_per_btc: int, amount: int, scale: int, price: int) -> int:
    """floor(usd_per_btc · amount · scale / (1e8 · price)): a USD x 1e8 per BTC difference over
    ``amount`` sats, in base units of a token priced ``price`` (registry `usd-diff-to-units`)."""
    return div(mul(usd_per_btc, amount, scale), mul(ONE8, price))


@dataclass(frozen=True)
class PolicyTerms:
    """Collateral and premium bounds of a prospective policy, in collateral-token base units."""

    max_payout: int
    collateral: int
    intrinsic: int
    min_premium: int
    max_premium: int


def policy_terms(strike: int, amount: int, spot: int, scale: int, price: int, ratio_bp: int, adj_bp: int,
                 min_bp: int, max_bp: int) -> PolicyTerms:
    """Registry `policy-terms`: ``strike``/``spot`` USD x 1e8 per BTC, ``amount`` sats, ``price`` the
    collateral token's USD x 1e8, ``ratio_bp``/``adj_bp`` the buyer tier's collateral ratio and premium
    adjustment, ``min_bp``/``max_bp`` the `premium.min-bp`/`premium.max-bp` parameters."""
    max_payout = ceil_div(mul(strike, amount, scale), mul(ONE8, price))
    intrinsic = usd_diff_to_units(strike - spot, amount, scale, price) if strike > spot else 0
    floor_premium = ceil_div(mul(max_payout, min_bp), BP)
    base_min = max(intrinsic, floor_premium)
    return PolicyTerms(
        max_payout=max_payout,
        collateral=ceil_div(mul(max_payout, ratio_bp), BP),
        intrinsic=intrinsic,
        min_premium=ceil_div(mul(base_min, adj_bp), BP),
        max_premium=div(mul(max_payout, max_bp), BP),
    )


def premium_in_bounds(premium: int, terms: PolicyTerms) -> bool:
    """`create-policy`'s premium check: 0 < premium and min-premium <= premium <= max-premium."""
    return 0 < premium and terms.min_premium <= premium <= terms.max_premium


def strike_in_bounds(strike: int, spot: int, min_strike_bp: int, max_strike_bp: int) -> bool:
    """min-strike-bp · S <= K · 10000 <= max-strike-bp · S."""
    return mul(spot, min_strike_bp) <= mul(strike, BP) <= mul(spot, max_strike_bp)


def pool_cap_error(collateral: int, assets: int, locked: int, expiry_locked: int, max_exposure_policy_bp: int,
                   max_utilization_bp: int, max_exposure_expiry_bp: int) -> VaultError | None:
    """The first of the vault's `lock-collateral` caps that ``collateral`` breaks, or None. Caps are
    against pool ``assets`` before the premium is added; ``locked``/``expiry_locked`` are before the lock."""
    if mul(collateral, BP) > mul(assets, max_exposure_policy_bp):
        return VaultError.EXPOSURE_POLICY
    if mul(locked + collateral, BP) > mul(assets, max_utilization_bp):
        return VaultError.UTILIZATION
    if mul(expiry_locked + collateral, BP) > mul(assets, max_exposure_expiry_bp):
        return VaultError.EXPOSURE_EXPIRY
    return None


def deposit_shares(amount: int, assets: int, shares: int) -> int:
    """Shares minted for depositing ``amount`` into a pool holding ``assets`` and ``shares``:
    floor(amount · (S + 1) / (A + 1)) (the vault requires > 0)."""
    return div(mul(amount, u128(shares + 1)), u128(assets + 1))


def withdraw_amount(shares_burned: int, assets: int, shares: int) -> int:
    """Base units paid for burning ``shares_burned`` of a pool: floor(shares · (A + 1) / (S + 1))."""
    return div(mul(shares_burned, u128(assets + 1)), u128(shares + 1))


def deviation_ok(price: int, previous: int, max_deviation_bp: int) -> bool:
    """The oracle guard: |p − q| · 10000 <= q · oracle.max-deviation-bp."""
    return mul(abs(price - previous), BP) <= mul(previous, max_deviation_bp)


def quorum_reached(yes: int, no: int, total_power: int, quorum_bp: int) -> bool:
    """(yes + no) · 10000 >= total-power · quorum-bp."""
    return mul(yes + no, BP) >= mul(total_power, quorum_bp)


def threshold_passed(yes: int, no: int, threshold_bp: int) -> bool:
    """yes · 10000 > (yes + no) · threshold-bp."""
    return mul(yes, BP) > mul(yes + no, threshold_bp)


def guard_bounds(previous: int, max_deviation_bp: int) -> tuple[int, int]:
    """The lowest and highest price the oracle guard accepts after ``previous``: every integer in
    [lo, hi] passes :func:`deviation_ok`, and lo − 1 and hi + 1 fail (when positive)."""
    slack = div(mul(previous, max_deviation_bp), BP)
    return previous - slack, previous + slack


# ---------------------------------------------------------------- v2: premium split, cover, backing
@dataclass(frozen=True)
class PremiumSplit:
    """Where a premium goes at creation, in base units of its token."""

    fee: int  # to bithedge-treasury
    fund: int  # to bithedge-insurance-fund
    pool: int  # the pool's unearned premium until settlement or void


def premium_split(premium: int, fee_bp: int, fund_bp: int) -> PremiumSplit:
    """Registry `premium-split`: fee = floor(premium · fee.protocol-bp / 10000), fund likewise with
    fund.premium-bp, and the pool keeps the rest (so rounding leaves the dust with the pool)."""
    fee = div(mul(premium, fee_bp), BP)
    fund = div(mul(premium, fund_bp), BP)
    return PremiumSplit(fee=fee, fund=fund, pool=premium - fee - fund)


def stress_price(price: int, stress_bp: int) -> int:
    """P_s = max(1, floor(P · σ / 10000)): the collateral price down to which a payout is fully
    covered (σ = `stress.stx-price-bp` or `stress.sbtc-price-bp`), USD x 1e8."""
    return max(1, div(mul(price, stress_bp), BP))


@dataclass(frozen=True)
class PayoutTerms:
    """A settlement's amounts, in base units of the policy's token."""

    uncapped: int  # what the put owes at the settlement prices
    payout: int  # paid by the pool, <= collateral
    shortfall: int  # uncapped − payout
    cover: int  # paid by the insurance fund, <= shortfall and <= its balance
    released: int  # collateral − payout, back to free pool assets


def payout_terms(strike: int, amount: int, settlement_price: int, scale: int, collateral_price: int,
                 collateral: int, fund_balance: int) -> PayoutTerms:
    """Registry `payout-terms`: uncapped = floor(max(0, K − S_E) · A · scale / (1e8 · P_E)),
    payout = min(collateral, uncapped), cover = min(shortfall, fund balance of the token)."""
    uncapped = usd_diff_to_units(strike - settlement_price, amount, scale, collateral_price) \
        if strike > settlement_price else 0
    payout = min(collateral, uncapped)
    shortfall = uncapped - payout
    return PayoutTerms(uncapped=uncapped, payout=payout, shortfall=shortfall, cover=min(shortfall, fund_balance),
                       released=collateral - payout)


def backing(assets: int, pool_shares: int, pending_shares: int) -> int:
    """B = A − value(Q): the assets that back new policies (shares requested for withdrawal do not)."""
    return assets - withdraw_amount(pending_shares, assets, pool_shares)


def book_value(position_shares: int, assets: int, unearned: int, pool_shares: int) -> int:
    """A position's value counting the unearned premium: floor(shares · (A + U + 1) / (S + 1))."""
    return div(mul(position_shares, u128(assets + unearned + 1)), u128(pool_shares + 1))


def withdrawal_keeps_utilization(paid: int, assets: int, locked: int, max_utilization_bp: int) -> bool:
    """`execute-withdrawal`'s cap: afterwards locked · 10000 <= (A − paid) · max-utilization-bp."""
    return paid <= assets and mul(locked, BP) <= mul(assets - paid, max_utilization_bp)


#: A settlement that leaves shares above this many per base unit of assets starts a new generation.
WIPE_SHARES_PER_UNIT = 1_000_000


def starts_new_generation(assets: int, pool_shares: int) -> bool:
    """The generation rule (L-6): S > A · 1e6 after a settlement voids the pool's shares."""
    return pool_shares > mul(assets, WIPE_SHARES_PER_UNIT)


def allowed_deviation_bp(gap: int, max_deviation_bp: int, stale_after: int, max_gap_deviation_bp: int) -> int:
    """Oracle `allowed-deviation-bp`: min(max-gap-deviation-bp, max-deviation-bp · (1 + gap / stale-after)),
    the move allowed against a reference price ``gap`` burn blocks old."""
    return min(max_gap_deviation_bp, mul(max_deviation_bp, 1 + div(gap, stale_after)))


def slippage_ok(oracle_spot: int, quoted_spot: int, max_slippage_bp: int) -> bool:
    """Quote check (M-5): |S − spot| · 10000 <= spot · quote.max-slippage-bp."""
    return mul(abs(oracle_spot - quoted_spot), BP) <= mul(quoted_spot, max_slippage_bp)
