"""The contracts' integer formulas (`contracts/README.md`, Formulas). Every function is exact integer
arithmetic as Clarity does it (uint, division truncates, an intermediate above 2^128 − 1 or a
division by zero aborts: :class:`ClarityAbort`); rounding always favours the pool.

Units: prices USD x 1e8 per whole coin, ``amount`` in sats, ``token`` "STX" | "sBTC" (scale from
:data:`bithedge.protocol.units.TOKEN_SCALE`), premiums/collateral/payouts/pool amounts in base
units of the token, ``*_bp`` in basis points, heights in burn blocks."""

from __future__ import annotations

from dataclasses import dataclass

from bithedge.protocol.errors import ContractError, RegistryError, VaultError
from bithedge.protocol.units import BP, ONE8, TOKEN_SCALE, Token

#: Clarity's uint is 128 bits; an intermediate above it aborts the transaction.
U128_MAX = 2**128 - 1
#: A settlement that leaves more shares than this per base unit of assets starts a new generation.
MAX_SHARES_PER_UNIT = 1_000_000


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


def _scale(token: str) -> int:
    try:
        return TOKEN_SCALE[Token(token)]
    except ValueError:
        raise ContractError(RegistryError.UNKNOWN_TOKEN) from None


# ---------------------------------------------------------------- creation
def stress_price(price: int, stress_bp: int) -> int:
    """P_s = max(1, floor(P · σ / 10000)): the collateral price down to which a payout is fully
    covered (σ = `stress.stx-price-bp` or `stress.sbtc-price-bp`), USD x 1e8."""
    return max(1, div(mul(price, stress_bp), BP))


@dataclass(frozen=True)
class PolicyTerms:
    """A prospective policy's collateral and premium bounds (base units of its token) and coverage."""

    max_payout: int  # fully covered payout down to the stress price / coverage floor
    collateral: int  # locked in the pool
    intrinsic: int  # value at the current prices
    min_premium: int
    max_premium: int
    stress_price: int  # USD x 1e8: collateral price down to which the payout is fully covered
    coverage_floor: int  # USD x 1e8: BTC price down to which an sBTC policy pays in full; 0 for STX


def policy_terms(token: str, strike: int, amount: int, spot: int, price: int, ratio_bp: int, adj_bp: int,
                 min_bp: int, max_bp: int, stress_bp: int) -> PolicyTerms:
    """Registry `policy-terms`: ``strike``/``spot`` USD x 1e8 per BTC, ``amount`` sats, ``price`` the
    collateral token's USD x 1e8; ``ratio_bp``/``adj_bp`` the buyer tier's collateral ratio and premium
    adjustment; ``min_bp``/``max_bp`` `premium.min-bp`/`premium.max-bp`; ``stress_bp`` the token's
    `stress.*-price-bp`. The adjustment applies to the time-value floor only (L-1)."""
    scale = _scale(token)
    p_s = stress_price(price, stress_bp)
    floor = p_s if token == Token.SBTC else 0
    max_payout = ceil_div(mul(strike - floor, amount, scale), mul(ONE8, p_s)) if strike > floor else 0
    intrinsic = usd_diff_to_units(strike - spot, amount, scale, price) if strike > spot else 0
    time_value_floor = ceil_div(mul(ceil_div(mul(max_payout, min_bp), BP), adj_bp), BP)
    return PolicyTerms(
        max_payout=max_payout,
        collateral=ceil_div(mul(max_payout, ratio_bp), BP),
        intrinsic=intrinsic,
        min_premium=u128(intrinsic + time_value_floor),
        max_premium=div(mul(max_payout, max_bp), BP),
        stress_price=p_s,
        coverage_floor=floor,
    )


def premium_in_bounds(premium: int, terms: PolicyTerms) -> bool:
    """`create-policy`'s premium check: 0 < premium and min-premium <= premium <= max-premium."""
    return 0 < premium and terms.min_premium <= premium <= terms.max_premium


def strike_in_bounds(strike: int, spot: int, min_strike_bp: int, max_strike_bp: int) -> bool:
    """min-strike-bp · S <= K · 10000 <= max-strike-bp · S."""
    return mul(spot, min_strike_bp) <= mul(strike, BP) <= mul(spot, max_strike_bp)


@dataclass(frozen=True)
class PremiumSplit:
    """Where a premium goes at creation, in base units of its token."""

    fee: int  # to bithedge-treasury
    fund: int  # to bithedge-insurance-fund
    pool: int  # the pool's unearned premium until settlement (earned) or void (refunded)


def premium_split(premium: int, fee_bp: int, fund_bp: int) -> PremiumSplit:
    """Registry `premium-split`: fee = floor(premium · fee.protocol-bp / 10000), fund likewise with
    fund.premium-bp, and the pool keeps the rest (rounding dust stays with the pool)."""
    fee = div(mul(premium, fee_bp), BP)
    fund = div(mul(premium, fund_bp), BP)
    return PremiumSplit(fee=fee, fund=fund, pool=premium - fee - fund)


def pool_cap_error(collateral: int, backing: int, locked: int, expiry_locked: int, max_exposure_policy_bp: int,
                   max_utilization_bp: int, max_exposure_expiry_bp: int) -> VaultError | None:
    """The first of the vault's `lock-collateral` caps that ``collateral`` breaks, or None. Caps are
    against the pool's :func:`backing`; ``locked``/``expiry_locked`` are before the lock."""
    if mul(collateral, BP) > mul(backing, max_exposure_policy_bp):
        return VaultError.EXPOSURE_POLICY
    if mul(locked + collateral, BP) > mul(backing, max_utilization_bp):
        return VaultError.UTILIZATION
    if mul(expiry_locked + collateral, BP) > mul(backing, max_exposure_expiry_bp):
        return VaultError.EXPOSURE_EXPIRY
    return None


def slippage_ok(oracle_spot: int, quoted_spot: int, max_slippage_bp: int) -> bool:
    """Quote check (M-5): |S − spot| · 10000 <= spot · quote.max-slippage-bp."""
    return mul(abs(oracle_spot - quoted_spot), BP) <= mul(quoted_spot, max_slippage_bp)


def quote_window_error(now: int, issued_at: int, valid_until: int, max_life: int) -> RegistryError | None:
    """Quote life (M-5) in the registry's order: u404 past `valid-until`, u419 issued in the future
    or living longer than `quote.max-life-blocks`."""
    if now > valid_until:
        return RegistryError.QUOTE_EXPIRED
    if issued_at > now or valid_until - issued_at > max_life:
        return RegistryError.QUOTE_LIFE
    return None


# ---------------------------------------------------------------- settlement
@dataclass(frozen=True)
class PayoutTerms:
    """A settlement's amounts from the pool, in base units of the policy's token."""

    uncapped: int  # what the put owes at the settlement prices
    payout: int  # paid by the pool, <= collateral
    shortfall: int  # uncapped − payout: asked of the insurance fund


def payout_terms(token: str, strike: int, amount: int, settle_price: int, price: int, collateral: int) -> PayoutTerms:
    """Registry `payout-terms`: uncapped = floor(max(0, K − S_E) · A · scale / (1e8 · P_E)) at the
    first BTC (``settle_price``) and collateral (``price``) prices at or after expiry, payout =
    min(collateral, uncapped)."""
    scale = _scale(token)
    uncapped = usd_diff_to_units(strike - settle_price, amount, scale, price) if strike > settle_price else 0
    payout = min(collateral, uncapped)
    return PayoutTerms(uncapped=uncapped, payout=payout, shortfall=uncapped - payout)


def fund_cover(shortfall: int, fund_balance: int) -> int:
    """Insurance fund `cover`: min(shortfall, the fund's balance of the token)."""
    return min(shortfall, fund_balance)


# ---------------------------------------------------------------- vault shares
def shares_for_deposit(amount: int, assets: int, unearned: int, shares: int) -> int:
    """Vault `shares-for-deposit`: ``amount`` at par into an empty generation (S = 0), else
    floor(amount · (S + 1) / (A + U + 1)), priced with the unearned premium U (the vault requires > 0)."""
    if shares == 0:
        return amount
    return div(mul(amount, u128(shares + 1)), u128(assets + unearned + 1))


def value_of_shares(shares: int, assets: int, total_shares: int) -> int:
    """Vault `value-of-shares`: floor(shares · (A + 1) / (S + 1)), earned assets only; what a
    withdrawal pays, and a position's value (governance power)."""
    return div(mul(shares, u128(assets + 1)), u128(total_shares + 1))


def backing(assets: int, total_shares: int, pending_shares: int) -> int:
    """B = A − value(Q): the assets that back new policies (shares requested for withdrawal do not)."""
    return assets - value_of_shares(pending_shares, assets, total_shares)


def withdrawal_keeps_utilization(paid: int, assets: int, locked: int, max_utilization_bp: int) -> bool:
    """A redemption's cap (u315): afterwards locked · 10000 <= (A − paid) · max-utilization-bp."""
    return paid <= assets and mul(locked, BP) <= mul(assets - paid, max_utilization_bp)


def starts_new_generation(assets: int, total_shares: int) -> bool:
    """The generation rule (L-6): a settlement leaving S > A · 1e6 voids the pool's shares."""
    return total_shares > 0 and total_shares > mul(assets, MAX_SHARES_PER_UNIT)


# ---------------------------------------------------------------- oracle and governance
def allowed_deviation_bp(max_deviation_bp: int, stale_after: int, max_gap_deviation_bp: int, gap: int) -> int:
    """Oracle `allowed-deviation-bp`: min(max-gap-deviation-bp, max-deviation-bp · (1 + gap / stale-after)),
    the move allowed against a reference price ``gap`` burn blocks old."""
    return min(max_gap_deviation_bp, mul(max_deviation_bp, 1 + div(gap, stale_after)))


def deviation_ok(price: int, reference: int, allowed_bp: int) -> bool:
    """The oracle guard: |p − ref| · 10000 <= ref · allowed-bp."""
    return mul(abs(price - reference), BP) <= mul(reference, allowed_bp)


def guard_bounds(reference: int, allowed_bp: int) -> tuple[int, int]:
    """The lowest and highest price the guard accepts against ``reference``: every integer in
    [lo, hi] passes :func:`deviation_ok`, and lo − 1 and hi + 1 fail (when positive)."""
    slack = div(mul(reference, allowed_bp), BP)
    return reference - slack, reference + slack


#: Governance scales share counts below this before multiplying by pool assets (< 2^64 µSTX).
TWO64 = 2**64


def position_value(part: int, assets: int, whole: int) -> int:
    """Governance `position-value`: floor(part · assets / whole) for part <= whole and assets < 2^64,
    with part and whole scaled down by k = whole / 2^64 + 1 (whole rounded up) so nothing overflows
    however far share counts grew (L-6); never more than the exact value. Voting power, µSTX."""
    if whole == 0:
        return 0
    k = div(whole, TWO64) + 1
    return div(mul(div(part, k), assets), div(whole - 1, k) + 1)


def quorum_reached(yes: int, no: int, total_power: int, quorum_bp: int) -> bool:
    """(yes + no) · 10000 >= total-power · quorum-bp."""
    return mul(yes + no, BP) >= mul(total_power, quorum_bp)


def threshold_passed(yes: int, no: int, threshold_bp: int) -> bool:
    """yes · 10000 > (yes + no) · threshold-bp."""
    return mul(yes, BP) > mul(yes + no, threshold_bp)


def proposal_passed(yes: int, no: int, total_power: int, quorum_bp: int, threshold_bp: int) -> bool:
    """Governance `is-passed`: some voting power existed at the snapshot, quorum and threshold hold."""
    return total_power > 0 and quorum_reached(yes, no, total_power, quorum_bp) and threshold_passed(yes, no, threshold_bp)
