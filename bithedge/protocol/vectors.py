"""Test vectors of every formula, generated from this package: seeded random cases plus edge cases
(rounding boundaries, zero intrinsic, caps binding, wipe and overflow edges).

``python -m bithedge.protocol.vectors [--check]`` writes (or checks) `contracts/tests/vectors/protocol-vectors.json`,
which `contracts/tests/vectors.test.ts` runs through the contracts' read-only functions in the Clarity
VM and `tests/protocol/test_vectors.py` through these functions. Shape, for SQL and TS alike: per
formula a header (`inputs`, `outputs`, the `vm` read-only it mirrors or null) and `cases`, flat
objects whose integers are decimal strings; `error` is null, or `"abort"` when the contract aborts
(u128 overflow, division by zero) and the outputs are null."""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bithedge.protocol import formulas as f
from bithedge.protocol.deployment import DEVNET, Deployment
from bithedge.protocol.quotes import Quote, quote_digest, sign_quote
from bithedge.protocol.settlement import settlement_price_error
from bithedge.protocol.units import BP, ONE8, TOKEN_SCALE, Token, token_asset, token_scale
from stacks.keys import PrivateKey, parse_private_key
from stacks.transaction.model import CHAIN_ID_TESTNET

SEED = 20261201
RANDOM_CASES = 40
REPO_ROOT = Path(__file__).resolve().parents[2]
VECTOR_FILE = REPO_ROOT / "contracts" / "tests" / "vectors" / "protocol-vectors.json"
ACCOUNTS_FILE = REPO_ROOT / "contracts" / "settings" / "devnet-accounts.json"
#: Devnet account whose key signs the quote vectors (holds `quote-signer` on the devnet).
QUOTE_SIGNER_LABEL = "wallet_3"

Case = dict[str, Any]


@dataclass(frozen=True)
class Vm:
    """The read-only function a formula mirrors: ``args`` are (input name, Clarity type) in call
    order; ``result`` maps the tuple's keys to output names, or is the one output's name."""

    contract: str
    function: str
    args: list[tuple[str, str]]
    result: dict[str, str] | str


@dataclass(frozen=True)
class Formula:
    name: str
    doc: str
    inputs: list[str]
    outputs: list[str]
    compute: Callable[..., dict[str, Any]]
    vm: Vm | None


def _strs(d: dict[str, Any]) -> dict[str, Any]:
    """Integers as decimal strings, bools as "true"/"false" (JSON for SQL: no float precision loss)."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, bool):
            out[k] = "true" if v else "false"
        elif isinstance(v, int):
            out[k] = str(v)
        else:
            out[k] = v
    return out


def _case(formula: Formula, label: str, **inputs: Any) -> tuple[str, Case]:
    try:
        outputs, error = formula.compute(**inputs), None
    except f.ClarityAbort:
        outputs, error = dict.fromkeys(formula.outputs), "abort"
    assert list(outputs) == formula.outputs, (formula.name, list(outputs))
    return formula.name, {"case": label, **_strs(inputs), **_strs(outputs), "error": error}


# ---------------------------------------------------------------- formulas
def _fields(value: Any) -> dict[str, Any]:
    return dict(asdict(value))


def _pool_cap(**kw: int) -> dict[str, Any]:
    err = f.pool_cap_error(**kw)
    return {"error_code": None if err is None else int(err)}


def _settlement(**kw: int) -> dict[str, Any]:
    err = settlement_price_error(**kw)
    return {"error_code": None if err is None else int(err)}


U = "uint"
FORMULAS: dict[str, Formula] = {}


def _formula(name: str, doc: str, inputs: list[str], outputs: list[str], compute: Callable[..., dict[str, Any]],
             vm: Vm | None = None) -> None:
    FORMULAS[name] = Formula(name, doc, inputs, outputs, compute, vm)


_TERMS_IN = ["strike", "amount", "spot", "scale", "price", "ratio_bp", "adj_bp", "min_bp", "max_bp"]
_formula("policy_terms", "max-payout, collateral, intrinsic and premium bounds at creation", _TERMS_IN,
         ["max_payout", "collateral", "intrinsic", "min_premium", "max_premium"], lambda **kw: _fields(f.policy_terms(**kw)),
         Vm("bithedge-policy-registry", "policy-terms", [(k, U) for k in _TERMS_IN],
            {"max-payout": "max_payout", "collateral": "collateral", "intrinsic": "intrinsic",
             "min-premium": "min_premium", "max-premium": "max_premium"}))
_formula("usd_diff_to_units", "floor(usd · amount · scale / (1e8 · price))", ["usd_per_btc", "amount", "scale", "price"],
         ["units"], lambda **kw: {"units": f.usd_diff_to_units(**kw)},
         Vm("bithedge-policy-registry", "usd-diff-to-units",
            [("usd_per_btc", U), ("amount", U), ("scale", U), ("price", U)], "units"))
_formula("ceil_div", "(a + b − 1) / b", ["a", "b"], ["q"], lambda **kw: {"q": f.ceil_div(**kw)},
         Vm("bithedge-policy-registry", "ceil-div", [("a", U), ("b", U)], "q"))
_formula("token_info", "base units per whole token and its oracle asset", ["token"], ["scale", "asset"],
         lambda token: {"scale": token_scale(token), "asset": token_asset(token).value},
         Vm("bithedge-policy-registry", "token-info", [("token", "string-ascii")], {"scale": "scale", "asset": "asset"}))
_formula("payout_terms", "uncapped owed, payout = min(collateral, uncapped), shortfall, fund cover, released",
         ["strike", "amount", "settlement_price", "scale", "collateral_price", "collateral", "fund_balance"],
         ["uncapped", "payout", "shortfall", "cover", "released"], lambda **kw: _fields(f.payout_terms(**kw)))
_formula("premium_split", "fee and fund shares of a premium, floored; the pool keeps the rest",
         ["premium", "fee_bp", "fund_bp"], ["fee", "fund", "pool"], lambda **kw: _fields(f.premium_split(**kw)))
_formula("stress_price", "max(1, floor(P · stress-bp / 10000))", ["price", "stress_bp"], ["stress_price"],
         lambda **kw: {"stress_price": f.stress_price(**kw)})
_formula("backing", "assets − value of the shares requested for withdrawal", ["assets", "pool_shares", "pending_shares"],
         ["backing"], lambda **kw: {"backing": f.backing(**kw)})
_formula("book_value", "floor(shares · (A + U + 1) / (S + 1))", ["position_shares", "assets", "unearned", "pool_shares"],
         ["value"], lambda **kw: {"value": f.book_value(**kw)})
_formula("withdrawal_utilization", "locked · 10000 <= (A − paid) · max-utilization-bp after a withdrawal",
         ["paid", "assets", "locked", "max_utilization_bp"], ["ok"],
         lambda **kw: {"ok": f.withdrawal_keeps_utilization(**kw)})
_formula("new_generation", "a settlement leaving S > A · 1e6 voids the pool's shares", ["assets", "pool_shares"],
         ["wiped"], lambda **kw: {"wiped": f.starts_new_generation(**kw)})
_formula("allowed_deviation", "min(max-gap-deviation-bp, max-deviation-bp · (1 + gap / stale-after))",
         ["gap", "max_deviation_bp", "stale_after", "max_gap_deviation_bp"], ["allowed_bp"],
         lambda **kw: {"allowed_bp": f.allowed_deviation_bp(**kw)})
_formula("quote_slippage", "|S − spot| · 10000 <= spot · quote.max-slippage-bp",
         ["oracle_spot", "quoted_spot", "max_slippage_bp"], ["ok"], lambda **kw: {"ok": f.slippage_ok(**kw)})
_formula("deposit_shares", "floor(amount · (S + 1) / (A + 1))", ["amount", "assets", "shares"], ["minted"],
         lambda **kw: {"minted": f.deposit_shares(**kw)})
_formula("withdraw_amount", "floor(shares · (A + 1) / (S + 1))", ["shares_burned", "assets", "shares"], ["paid"],
         lambda **kw: {"paid": f.withdraw_amount(**kw)})
_formula("pool_cap", "first cap of lock-collateral broken (310 per policy, 309 utilization, 311 per expiry)",
         ["collateral", "assets", "locked", "expiry_locked", "max_exposure_policy_bp", "max_utilization_bp",
          "max_exposure_expiry_bp"], ["error_code"], _pool_cap)
_formula("deviation_guard", "|p − q| · 10000 <= q · max-deviation-bp", ["price", "previous", "max_deviation_bp"],
         ["ok"], lambda **kw: {"ok": f.deviation_ok(**kw)})
_formula("governance_tally", "quorum and threshold of a proposal", ["yes", "no", "total_power", "quorum_bp", "threshold_bp"],
         ["quorum", "passed"],
         lambda yes, no, total_power, quorum_bp, threshold_bp: {
             "quorum": f.quorum_reached(yes, no, total_power, quorum_bp),
             "passed": f.quorum_reached(yes, no, total_power, quorum_bp) and f.threshold_passed(yes, no, threshold_bp)})
_formula("settlement_price", "oracle get-settlement-price acceptance of the record at `height`",
         ["expiry", "height", "prev_height", "burn_height", "max_delay"], ["error_code"], _settlement)


# ---------------------------------------------------------------- cases
def _policy_terms_cases(r: random.Random) -> Iterator[tuple[str, Case]]:
    fm = FORMULAS["policy_terms"]
    std = dict(ratio_bp=11_000, adj_bp=10_000, min_bp=10, max_bp=5_000)
    stx, sbtc = TOKEN_SCALE[Token.STX], TOKEN_SCALE[Token.SBTC]
    # README-style example: $90k strike, 0.1 BTC, spot $95k, STX at $1.50
    yield _case(fm, "edge:otm-strike-below-spot", strike=9_000_000_000_000, amount=10_000_000, spot=9_500_000_000_000,
                scale=stx, price=150_000_000, **std)
    yield _case(fm, "edge:zero-intrinsic-at-the-money", strike=6_000_000_000_000, amount=10_000_000,
                spot=6_000_000_000_000, scale=stx, price=200_000_000, **std)
    yield _case(fm, "edge:intrinsic-one-unit-itm", strike=6_000_000_000_001, amount=10_000_000, spot=6_000_000_000_000,
                scale=stx, price=200_000_000, **std)
    yield _case(fm, "edge:intrinsic-binds-over-floor", strike=9_000_000_000_000, amount=10_000_000,
                spot=6_000_000_000_000, scale=stx, price=200_000_000, **std)
    yield _case(fm, "edge:max-payout-exact-division", strike=5_000_000_000_000, amount=100_000_000,
                spot=6_000_000_000_000, scale=stx, price=100_000_000, **std)
    yield _case(fm, "edge:max-payout-rounds-up-by-one", strike=5_000_000_000_001, amount=100_000_000,
                spot=6_000_000_000_000, scale=stx, price=100_000_000, **std)
    yield _case(fm, "edge:min-bp-zero-otm-min-premium-zero", strike=5_000_000_000_000, amount=10_000,
                spot=6_000_000_000_000, scale=stx, price=200_000_000, ratio_bp=10_000, adj_bp=9_000, min_bp=0,
                max_bp=5_000)
    yield _case(fm, "edge:floor-premium-rounds-up-from-dust", strike=100_000_000, amount=1, spot=200_000_000,
                scale=stx, price=200_000_000, **std)
    yield _case(fm, "edge:sbtc-deep-itm-flexible", strike=9_000_000_000_000, amount=10_000_000, spot=3_000_000_000_000,
                scale=sbtc, price=3_000_000_000_000, ratio_bp=10_000, adj_bp=9_000, min_bp=10, max_bp=5_000)
    yield _case(fm, "edge:bounds-extremes", strike=7_000_000_000_000, amount=1_000_000_000, spot=6_000_000_000_000,
                scale=stx, price=1_000_000, ratio_bp=50_000, adj_bp=50_000, min_bp=10_000, max_bp=10_000)
    yield _case(fm, "edge:overflow-max-payout-product", strike=2**64, amount=2**40, spot=1, scale=sbtc, price=1, **std)
    yield _case(fm, "edge:just-below-overflow", strike=2**64, amount=2**37, spot=2**64, scale=sbtc, price=10**6,
                ratio_bp=10_000, adj_bp=10_000, min_bp=0, max_bp=1)
    for i in range(RANDOM_CASES):
        spot = r.randint(1_000_000_000_000, 20_000_000_000_000)
        token = r.choice(list(Token))
        price = spot if token is Token.SBTC else r.randint(1_000_000, 2_000_000_000)
        yield _case(fm, f"random:{i}", strike=spot * r.randint(5_000, 15_000) // BP, amount=r.randint(10_000, 10**9),
                    spot=spot, scale=TOKEN_SCALE[token], price=price, ratio_bp=r.randint(10_000, 50_000),
                    adj_bp=r.randint(1_000, 50_000), min_bp=r.randint(0, 10_000), max_bp=r.randint(1, 10_000))


def _usd_cases(r: random.Random) -> Iterator[tuple[str, Case]]:
    fm = FORMULAS["usd_diff_to_units"]
    yield _case(fm, "edge:zero-difference", usd_per_btc=0, amount=10_000_000, scale=1_000_000, price=200_000_000)
    yield _case(fm, "edge:exact", usd_per_btc=200_000_000, amount=ONE8, scale=1_000_000, price=200_000_000)
    yield _case(fm, "edge:one-below-a-unit", usd_per_btc=199_999_999, amount=1, scale=1_000_000, price=200_000_000)
    yield _case(fm, "edge:division-by-zero-price", usd_per_btc=1, amount=1, scale=1, price=0)
    for i in range(RANDOM_CASES):
        yield _case(fm, f"random:{i}", usd_per_btc=r.randint(0, 10**13), amount=r.randint(1, 10**10),
                    scale=r.choice(list(TOKEN_SCALE.values())), price=r.randint(1, 10**13))


def _ceil_div_cases(r: random.Random) -> Iterator[tuple[str, Case]]:
    fm = FORMULAS["ceil_div"]
    for a, b in ((0, 1), (1, 1), (10_000, 10_000), (10_001, 10_000), (9_999, 10_000), (f.U128_MAX, 1),
                 (f.U128_MAX, 2), (f.U128_MAX - 1, 2)):
        yield _case(fm, f"edge:{a}/{b}", a=a, b=b)
    for i in range(RANDOM_CASES // 2):
        yield _case(fm, f"random:{i}", a=r.randint(0, 10**30), b=r.randint(1, 10**12))


def _token_cases(_r: random.Random) -> Iterator[tuple[str, Case]]:
    fm = FORMULAS["token_info"]
    for token in Token:
        yield _case(fm, f"edge:{token.value}", token=token.value)


def _payout_cases(r: random.Random) -> Iterator[tuple[str, Case]]:
    fm = FORMULAS["payout_terms"]
    base = dict(strike=5_400_000_000_000, amount=10_000_000, scale=1_000_000, collateral_price=200_000_000,
                collateral=2_970_000_000, fund_balance=10**12)
    yield _case(fm, "edge:otm", **{**base, "settlement_price": 6_000_000_000_000})
    yield _case(fm, "edge:at-the-strike", **{**base, "settlement_price": 5_400_000_000_000})
    yield _case(fm, "edge:one-below-strike", **{**base, "settlement_price": 5_399_999_999_999})
    yield _case(fm, "edge:itm-below-cap", **{**base, "settlement_price": 4_800_000_000_000})
    yield _case(fm, "edge:cap-exactly-reached", **{**base, "settlement_price": 0, "collateral": 2_700_000_000})
    yield _case(fm, "edge:stx-crash-fund-covers-all", **{**base, "settlement_price": 1_800_000_000_000,
                                                         "collateral_price": 50_000_000})
    yield _case(fm, "edge:stx-crash-fund-covers-part", **{**base, "settlement_price": 1_800_000_000_000,
                                                          "collateral_price": 50_000_000, "fund_balance": 1_000_000})
    yield _case(fm, "edge:stx-crash-empty-fund", **{**base, "settlement_price": 1_800_000_000_000,
                                                    "collateral_price": 50_000_000, "fund_balance": 0})
    yield _case(fm, "edge:sbtc-crash-h3", strike=5_400_000_000_000, amount=10_000_000,
                settlement_price=1_800_000_000_000, scale=100_000_000, collateral_price=1_800_000_000_000,
                collateral=9_900_000, fund_balance=5_000_000)
    for i in range(RANDOM_CASES):
        strike = r.randint(10**12, 2 * 10**13)
        yield _case(fm, f"random:{i}", strike=strike, amount=r.randint(10_000, 10**9),
                    settlement_price=r.randint(0, 2 * strike), scale=r.choice(list(TOKEN_SCALE.values())),
                    collateral_price=r.randint(10**6, 10**13), collateral=r.randint(0, 10**13),
                    fund_balance=r.choice([0, r.randint(0, 10**13)]))


def _v2_cases(r: random.Random) -> Iterator[tuple[str, Case]]:
    split, stress, back, book = (FORMULAS[n] for n in ("premium_split", "stress_price", "backing", "book_value"))
    util, gen, dev, slip = (FORMULAS[n] for n in ("withdrawal_utilization", "new_generation", "allowed_deviation",
                                                   "quote_slippage"))
    yield _case(split, "edge:defaults", premium=5_400_000, fee_bp=300, fund_bp=500)
    yield _case(split, "edge:dust-stays-with-pool", premium=33, fee_bp=300, fund_bp=500)
    yield _case(split, "edge:no-fee-no-fund", premium=1_000, fee_bp=0, fund_bp=0)
    yield _case(split, "edge:max-shares", premium=10**12 + 1, fee_bp=2_000, fund_bp=3_000)
    yield _case(stress, "edge:stx-default", price=200_000_000, stress_bp=6_000)
    yield _case(stress, "edge:floors-to-one", price=1, stress_bp=1_000)
    yield _case(stress, "edge:rounds-down", price=199_999_999, stress_bp=5_000)
    yield _case(back, "edge:nothing-pending", assets=10**9, pool_shares=10**9, pending_shares=0)
    yield _case(back, "edge:all-pending", assets=10**9, pool_shares=10**9, pending_shares=10**9)
    yield _case(back, "edge:rounds-in-pools-favour", assets=10, pool_shares=6, pending_shares=3)
    yield _case(book, "edge:unearned-counts", position_shares=500, assets=1_000, unearned=100, pool_shares=1_000)
    yield _case(book, "edge:empty-pool", position_shares=0, assets=0, unearned=0, pool_shares=0)
    yield _case(util, "edge:exact", paid=3_000, assets=10_000, locked=4_900, max_utilization_bp=7_000)
    yield _case(util, "edge:one-over", paid=3_001, assets=10_000, locked=4_900, max_utilization_bp=7_000)
    yield _case(util, "edge:more-than-assets", paid=10_001, assets=10_000, locked=0, max_utilization_bp=10_000)
    yield _case(gen, "edge:wiped", assets=0, pool_shares=1)
    yield _case(gen, "edge:at-the-limit", assets=1, pool_shares=1_000_000)
    yield _case(gen, "edge:one-over-the-limit", assets=1, pool_shares=1_000_001)
    yield _case(gen, "edge:empty", assets=0, pool_shares=0)
    yield _case(dev, "edge:same-block-reference", gap=0, max_deviation_bp=1_000, stale_after=6, max_gap_deviation_bp=5_000)
    yield _case(dev, "edge:one-unit-of-gap", gap=6, max_deviation_bp=1_000, stale_after=6, max_gap_deviation_bp=5_000)
    yield _case(dev, "edge:just-below-a-unit", gap=11, max_deviation_bp=1_000, stale_after=6, max_gap_deviation_bp=5_000)
    yield _case(dev, "edge:capped", gap=1_000, max_deviation_bp=1_000, stale_after=6, max_gap_deviation_bp=5_000)
    yield _case(slip, "edge:exact", oracle_spot=6_060_000_000_000, quoted_spot=6_000_000_000_000, max_slippage_bp=100)
    yield _case(slip, "edge:one-over", oracle_spot=5_939_999_999_999, quoted_spot=6_000_000_000_000, max_slippage_bp=100)
    for i in range(RANDOM_CASES // 2):
        yield _case(split, f"random:{i}", premium=r.randint(1, 10**13), fee_bp=r.randint(0, 2_000),
                    fund_bp=r.randint(0, 3_000))
        yield _case(stress, f"random:{i}", price=r.randint(1, 10**13), stress_bp=r.randint(1_000, 10_000))
        assets, shares = r.randint(0, 10**15), r.randint(0, 10**15)
        yield _case(back, f"random:{i}", assets=assets, pool_shares=shares, pending_shares=r.randint(0, shares))
        yield _case(book, f"random:{i}", position_shares=r.randint(0, shares), assets=assets,
                    unearned=r.randint(0, 10**12), pool_shares=shares)
        yield _case(util, f"random:{i}", paid=r.randint(0, assets), assets=assets, locked=r.randint(0, assets),
                    max_utilization_bp=r.randint(0, BP))
        yield _case(gen, f"random:{i}", assets=r.randint(0, 10**4), pool_shares=r.randint(0, 10**10))
        yield _case(dev, f"random:{i}", gap=r.randint(0, 200), max_deviation_bp=r.randint(10, 5_000),
                    stale_after=r.randint(1, 1_008), max_gap_deviation_bp=r.randint(100, 9_000))
        q = r.randint(10**12, 10**13)
        yield _case(slip, f"random:{i}", oracle_spot=r.randint(q * 97 // 100, q * 103 // 100), quoted_spot=q,
                    max_slippage_bp=r.randint(1, 2_000))


def _share_cases(r: random.Random) -> Iterator[tuple[str, Case]]:
    dep, wd = FORMULAS["deposit_shares"], FORMULAS["withdraw_amount"]
    yield _case(dep, "edge:empty-pool", amount=1_000_000, assets=0, shares=0)
    yield _case(dep, "edge:rounds-to-zero", amount=1, assets=10, shares=4)
    yield _case(dep, "edge:wiped-pool-dust-mints-all", amount=10, assets=0, shares=8_629_140_169)
    yield _case(dep, "edge:overflow-after-wipe", amount=10**13, assets=0, shares=78_200_000_000_000**2)
    yield _case(wd, "edge:all-shares-of-one-holder", shares_burned=1_000_000, assets=1_000_000, shares=1_000_000)
    yield _case(wd, "edge:rounds-down", shares_burned=3, assets=10, shares=6)
    yield _case(wd, "edge:wiped-pool-pays-zero", shares_burned=8_629_140_169, assets=0, shares=8_629_140_169)
    yield _case(wd, "edge:overflow-after-wipe", shares_burned=781_950_000_000_000_000_000_000_000,
                assets=10**13, shares=781_950_000_000_000_000_000_000_000)
    for i in range(RANDOM_CASES):
        assets, shares = r.randint(0, 10**16), r.randint(0, 10**16)
        yield _case(dep, f"random:{i}", amount=r.randint(1, 10**14), assets=assets, shares=shares)
        yield _case(wd, f"random:{i}", shares_burned=r.randint(0, shares), assets=assets, shares=shares)


def _cap_cases(r: random.Random) -> Iterator[tuple[str, Case]]:
    fm = FORMULAS["pool_cap"]
    bal = dict(max_exposure_policy_bp=2_000, max_utilization_bp=7_000, max_exposure_expiry_bp=4_000)
    yield _case(fm, "edge:policy-cap-exact", collateral=2_000, assets=10_000, locked=0, expiry_locked=0, **bal)
    yield _case(fm, "edge:policy-cap-one-over", collateral=2_001, assets=10_000, locked=0, expiry_locked=0, **bal)
    yield _case(fm, "edge:utilization-exact", collateral=1_000, assets=10_000, locked=6_000, expiry_locked=0, **bal)
    yield _case(fm, "edge:utilization-one-over", collateral=1_001, assets=10_000, locked=6_000, expiry_locked=0, **bal)
    yield _case(fm, "edge:expiry-exact", collateral=1_000, assets=10_000, locked=3_000, expiry_locked=3_000, **bal)
    yield _case(fm, "edge:expiry-one-over", collateral=1_001, assets=10_000, locked=3_000, expiry_locked=3_000, **bal)
    yield _case(fm, "edge:empty-pool", collateral=1, assets=0, locked=0, expiry_locked=0, **bal)
    for i in range(RANDOM_CASES):
        assets = r.randint(0, 10**13)
        locked = r.randint(0, assets)
        yield _case(fm, f"random:{i}", collateral=r.randint(1, max(1, assets // 3)), assets=assets, locked=locked,
                    expiry_locked=r.randint(0, locked), max_exposure_policy_bp=r.randint(0, BP),
                    max_utilization_bp=r.randint(0, BP), max_exposure_expiry_bp=r.randint(0, BP))


def _oracle_gov_cases(r: random.Random) -> Iterator[tuple[str, Case]]:
    dev, tally, sp = FORMULAS["deviation_guard"], FORMULAS["governance_tally"], FORMULAS["settlement_price"]
    yield _case(dev, "edge:exactly-10pct-up", price=110, previous=100, max_deviation_bp=1_000)
    yield _case(dev, "edge:just-over-10pct-down", price=899_999_999, previous=1_000_000_000, max_deviation_bp=1_000)
    yield _case(dev, "edge:unchanged-zero-bp", price=5, previous=5, max_deviation_bp=0)
    for i in range(RANDOM_CASES // 2):
        q = r.randint(1, 10**13)
        yield _case(dev, f"random:{i}", price=r.randint(q * 8 // 10, q * 12 // 10), previous=q,
                    max_deviation_bp=r.randint(1, BP))
    yield _case(tally, "edge:quorum-exact-threshold-exact-fails", yes=1_000, no=1_000, total_power=10_000,
                quorum_bp=2_000, threshold_bp=5_000)
    yield _case(tally, "edge:one-more-yes-passes", yes=1_001, no=1_000, total_power=10_000, quorum_bp=2_000,
                threshold_bp=5_000)
    yield _case(tally, "edge:quorum-one-short", yes=1_999, no=0, total_power=10_000, quorum_bp=2_000, threshold_bp=5_000)
    yield _case(tally, "edge:no-votes", yes=0, no=0, total_power=0, quorum_bp=2_000, threshold_bp=5_000)
    for i in range(RANDOM_CASES // 2):
        total = r.randint(0, 10**16)
        yes = r.randint(0, total)
        yield _case(tally, f"random:{i}", yes=yes, no=r.randint(0, total - yes), total_power=total,
                    quorum_bp=r.randint(1, BP), threshold_bp=r.randint(1, BP - 1))
    for label, kw in (
        ("edge:first-at-expiry", dict(expiry=100, height=100, prev_height=99, burn_height=101, max_delay=144)),
        ("edge:no-record", dict(expiry=100, height=100, prev_height=None, burn_height=101, max_delay=144)),
        ("edge:not-first", dict(expiry=100, height=105, prev_height=100, burn_height=200, max_delay=144)),
        ("edge:before-expiry", dict(expiry=100, height=99, prev_height=90, burn_height=200, max_delay=144)),
        ("edge:current-block-not-final", dict(expiry=100, height=101, prev_height=90, burn_height=101, max_delay=144)),
        ("edge:delay-exact", dict(expiry=100, height=244, prev_height=90, burn_height=300, max_delay=144)),
        ("edge:delay-one-over", dict(expiry=100, height=245, prev_height=90, burn_height=300, max_delay=144)),
        ("edge:zero-delay-at-expiry", dict(expiry=100, height=100, prev_height=0, burn_height=300, max_delay=0)),
    ):
        yield _case(sp, label, **kw)


GENERATORS = (_policy_terms_cases, _usd_cases, _ceil_div_cases, _token_cases, _payout_cases, _share_cases,
              _cap_cases, _oracle_gov_cases, _v2_cases)


def _quote_cases(r: random.Random, key: PrivateKey, deployment: Deployment) -> list[Case]:
    buyers = ["ST3PF13W7Z0RRM42A8VZRVFQ75SV1K26RXEP8YGKJ", "ST3NBRSFKX28FQ2ZJ1MAKX58HKHSDGNV5N7R21XCP"]
    quotes = [("edge:readme-example", Quote(1001, buyers[0], "STX", "standard", "balanced", 5_400_000_000_000,
                                            10_000_000, 1000, 8_100_000, 990)),
              ("edge:zero-fields", Quote(0, buyers[1], "sBTC", "flexible", "aggressive", 0, 0, 0, 0, 0)),
              ("edge:max-uints", Quote(f.U128_MAX, buyers[1], "sBTC", "conservative", "conservative", f.U128_MAX,
                                       f.U128_MAX, f.U128_MAX, f.U128_MAX, f.U128_MAX))]
    for i in range(RANDOM_CASES // 2):
        quotes.append((f"random:{i}", Quote(
            r.randrange(2**40), r.choice(buyers), r.choice(["STX", "sBTC"]), r.choice(["conservative", "standard", "flexible"]),
            r.choice(["conservative", "balanced", "aggressive"]), r.randint(10**12, 2 * 10**13), r.randint(10**4, 10**9),
            r.randint(1, 10**6), r.randint(1, 10**12), r.randint(1, 10**6))))
    cases = []
    for label, q in quotes:
        digest = quote_digest(q, deployment.registry, CHAIN_ID_TESTNET)
        cases.append({"case": label, **_strs(asdict(q)), "registry": deployment.registry,
                      "chain_id": str(CHAIN_ID_TESTNET), "digest": digest.hex(),
                      "signature_rsv": sign_quote(q, key, deployment.registry, CHAIN_ID_TESTNET).hex(), "error": None})
    return cases


_QUOTE_IN = ["quote_id", "buyer", "token", "buyer_tier", "pool_tier", "strike", "amount", "expiry", "premium",
             "valid_until"]
_QUOTE_TYPES = {"buyer": "principal", "token": "string-ascii", "buyer_tier": "string-ascii", "pool_tier": "string-ascii"}


def build(quote_signer: PrivateKey, deployment: Deployment = DEVNET, seed: int = SEED) -> dict[str, Any]:
    """The whole vector document. ``quote_signer`` signs the quote vectors (RSV, RFC 6979, so stable)."""
    r = random.Random(seed)
    cases: dict[str, list[Case]] = {name: [] for name in FORMULAS}
    for gen in GENERATORS:
        for name, c in gen(r):
            cases[name].append(c)
    doc: dict[str, Any] = {
        "about": "Generated by `python -m bithedge.protocol.vectors`; do not edit. Integers are decimal strings.",
        "seed": str(seed),
        "deployer": deployment.deployer,
        "formulas": {},
    }
    for name, fm in FORMULAS.items():
        doc["formulas"][name] = _header(fm.doc, fm.inputs, fm.outputs, fm.vm) | {"cases": cases[name]}
    doc["formulas"]["quote_digest"] = _header(
        "sha256 of the consensus serialization of the quote tuple; signature r‖s‖recid by the devnet quote signer",
        [*_QUOTE_IN, "registry", "chain_id"], ["digest", "signature_rsv"],
        Vm("bithedge-policy-registry", "quote-hash", [(k, _QUOTE_TYPES.get(k, U)) for k in _QUOTE_IN], "digest"),
    ) | {"signer": QUOTE_SIGNER_LABEL, "cases": _quote_cases(r, quote_signer, deployment)}
    return doc


def _header(doc: str, inputs: list[str], outputs: list[str], vm: Vm | None) -> dict[str, Any]:
    return {"doc": doc, "inputs": inputs, "outputs": outputs,
            "vm": None if vm is None else {"contract": vm.contract, "function": vm.function,
                                           "args": [{"name": n, "type": t} for n, t in vm.args],
                                           "result": vm.result}}


def render(doc: dict[str, Any]) -> str:
    """The file's exact text (stable: the check compares it byte for byte)."""
    return json.dumps(doc, indent=1, ensure_ascii=False) + "\n"


def devnet_quote_signer(accounts_file: Path = ACCOUNTS_FILE) -> PrivateKey:
    """The devnet quote signer's key (DEVNET ONLY, a public mnemonic) from the accounts file."""
    accounts = json.loads(accounts_file.read_text())["accounts"]
    return parse_private_key(next(a["privateKey"] for a in accounts if a["label"] == QUOTE_SIGNER_LABEL))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bithedge.protocol.vectors", description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="exit 1 when the committed file is not current")
    ap.add_argument("--out", type=Path, default=VECTOR_FILE)
    args = ap.parse_args(argv)
    text = render(build(devnet_quote_signer()))
    if args.check:
        current = args.out.exists() and args.out.read_text() == text
        print(f"{args.out}: {'current' if current else 'STALE, run python -m bithedge.protocol.vectors'}")
        return 0 if current else 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(f"wrote {args.out} ({sum(len(v['cases']) for v in json.loads(text)['formulas'].values())} cases)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
