"""Test vectors of every formula, generated from this package: seeded random cases plus edge cases
(rounding boundaries, zero intrinsic, caps binding, wipe and overflow edges).

``python -m bithedge.protocol.vectors [--check]`` writes (or checks) `contracts/tests/vectors/protocol-vectors.json`,
which `contracts/tests/vectors.test.ts` runs through the contracts' read-only functions in the Clarity
VM and `tests/protocol/test_vectors.py` through these functions. Shape, for SQL and TS alike: per
formula a header (`inputs`, `outputs`, the `vm` read-only it mirrors or null) and `cases`, flat
objects whose integers are decimal strings; `error` is null, `"abort"` when the contract aborts
(u128 overflow, division by zero) or the code of the `(err uN)` it returns, and then the outputs
are null. The only module of the package that reads or writes files (in :func:`main`)."""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from bithedge.protocol import earning, risk
from bithedge.protocol import formulas as f
from bithedge.protocol.deployment import DEVNET, Deployment
from bithedge.protocol.errors import ContractError
from bithedge.protocol.quotes import Quote, quote_digest, sign_quote
from bithedge.protocol.settlement import no_settlement_price, settlement_price_error, void_error
from bithedge.protocol.units import (
    BP,
    BUYER_TIERS,
    ONE8,
    PROVIDER_TIERS,
    TOKEN_SCALE,
    Token,
    token_asset,
    token_scale,
)
from bithedge.settings import REPO_ROOT
from stacks.keys import PrivateKey, parse_private_key
from stacks.transaction.model import CHAIN_ID_TESTNET

SEED = 20261201
RANDOM_CASES = 40
VECTOR_FILE = REPO_ROOT / "contracts" / "tests" / "vectors" / "protocol-vectors.json"
ACCOUNTS_FILE = REPO_ROOT / "contracts" / "settings" / "devnet-accounts.json"
#: Devnet account whose key signs the quote vectors (holds `quote-signer` on the devnet).
QUOTE_SIGNER_LABEL = "wallet_3"

Case = dict[str, Any]


@dataclass(frozen=True)
class Vm:
    """The read-only function a formula mirrors: ``args`` are (input name, Clarity type) in call
    order; ``result`` maps the tuple's keys to output names, or is the one output's name. ``setup``
    names the chain state the VM test builds first (None: a pure function of its arguments)."""

    contract: str
    function: str
    args: list[tuple[str, str]]
    result: dict[str, str] | str
    setup: str | None = None


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
    """One case: the inputs, the outputs and ``error`` — null, "abort" (the VM aborts: overflow,
    division by zero) or the code of the `(err uN)` the contract returns; outputs null on error."""
    try:
        outputs, error = formula.compute(**inputs), None
    except f.ClarityAbort:
        outputs, error = dict.fromkeys(formula.outputs), "abort"
    except ContractError as exc:
        outputs, error = dict.fromkeys(formula.outputs), str(int(exc.code))
    assert list(outputs) == formula.outputs, (formula.name, list(outputs))
    return formula.name, {"case": label, **_strs(inputs), **_strs(outputs), "error": error}


def _floats(d: dict[str, float]) -> dict[str, str]:
    """Floats as their shortest round-trip text (the file holds no JSON numbers)."""
    return {k: repr(float(v)) for k, v in d.items()}


def _fields(value: Any) -> dict[str, Any]:
    return dict(asdict(value))


def _code(err: Any) -> dict[str, Any]:
    return {"error_code": None if err is None else int(err)}


U = "uint"
S8 = "string-ascii"
FORMULAS: dict[str, Formula] = {}


def _formula(name: str, doc: str, inputs: list[str], outputs: list[str], compute: Callable[..., dict[str, Any]],
             vm: Vm | None = None) -> None:
    FORMULAS[name] = Formula(name, doc, inputs, outputs, compute, vm)


def _vm(contract: str, function: str, inputs: list[str], result: dict[str, str] | str,
        types: dict[str, str] | None = None) -> Vm:
    """Arguments are uint unless ``types`` says otherwise (default: ``token`` is a string-ascii)."""
    types = {"token": S8} if types is None else types
    return Vm(contract, function, [(k, types.get(k, U)) for k in inputs], result)


def _kebab(outputs: list[str]) -> dict[str, str]:
    return {o.replace("_", "-"): o for o in outputs}


REGISTRY, VAULT, ORACLE = "bithedge-policy-registry", "bithedge-vault", "bithedge-oracle"
_TERMS_IN = ["token", "strike", "amount", "spot", "price", "ratio_bp", "adj_bp", "min_bp", "max_bp", "stress_bp"]
_TERMS_OUT = ["max_payout", "collateral", "intrinsic", "min_premium", "max_premium", "stress_price", "coverage_floor"]
_formula("policy_terms", "collateral, premium bounds and coverage at creation", _TERMS_IN, _TERMS_OUT,
         lambda **kw: _fields(f.policy_terms(**kw)), _vm(REGISTRY, "policy-terms", _TERMS_IN, _kebab(_TERMS_OUT)))
_PAYOUT_IN = ["token", "strike", "amount", "settle_price", "price", "collateral"]
_formula("payout_terms", "uncapped owed, payout = min(collateral, uncapped), shortfall", _PAYOUT_IN,
         ["uncapped", "payout", "shortfall"], lambda **kw: _fields(f.payout_terms(**kw)),
         _vm(REGISTRY, "payout-terms", _PAYOUT_IN, {"uncapped": "uncapped", "payout": "payout", "shortfall": "shortfall"}))
_formula("premium_split", "fee and fund shares of a premium, floored; the pool keeps the rest",
         ["premium", "fee_bp", "fund_bp"], ["fee", "fund", "pool"], lambda **kw: _fields(f.premium_split(**kw)),
         _vm(REGISTRY, "premium-split", ["premium", "fee_bp", "fund_bp"], {"fee": "fee", "fund": "fund", "pool": "pool"}))
_formula("usd_diff_to_units", "floor(usd · amount · scale / (1e8 · price))", ["usd_per_btc", "amount", "scale", "price"],
         ["units"], lambda **kw: {"units": f.usd_diff_to_units(**kw)},
         _vm(REGISTRY, "usd-diff-to-units", ["usd_per_btc", "amount", "scale", "price"], "units"))
_formula("ceil_div", "(a + b − 1) / b", ["a", "b"], ["q"], lambda **kw: {"q": f.ceil_div(**kw)},
         _vm(REGISTRY, "ceil-div", ["a", "b"], "q"))
_formula("token_info", "base units per whole token and its oracle asset", ["token"], ["scale", "asset"],
         lambda token: {"scale": token_scale(token), "asset": token_asset(token).value},
         _vm(REGISTRY, "token-info", ["token"], {"scale": "scale", "asset": "asset"}))
_formula("shares_for_deposit", "amount if S = 0, else floor(amount · (S + 1) / (A + U + 1))",
         ["amount", "assets", "unearned", "shares"], ["minted"], lambda **kw: {"minted": f.shares_for_deposit(**kw)},
         _vm(VAULT, "shares-for-deposit", ["amount", "assets", "unearned", "shares"], "minted"))
_formula("value_of_shares", "floor(shares · (A + 1) / (S + 1))", ["shares", "assets", "total_shares"], ["value"],
         lambda **kw: {"value": f.value_of_shares(**kw)},
         _vm(VAULT, "value-of-shares", ["shares", "assets", "total_shares"], "value"))
_DEV_IN = ["max_deviation_bp", "stale_after", "max_gap_deviation_bp", "gap"]
_formula("allowed_deviation", "min(max-gap-deviation-bp, max-deviation-bp · (1 + gap / stale-after))", _DEV_IN,
         ["allowed_bp"], lambda **kw: {"allowed_bp": f.allowed_deviation_bp(**kw)},
         _vm(ORACLE, "allowed-deviation-bp", _DEV_IN, "allowed_bp"))
# Below: no read-only function computes these alone (they run inside public functions or read state).
_formula("stress_price", "max(1, floor(P · stress-bp / 10000))", ["price", "stress_bp"], ["stress_price"],
         lambda **kw: {"stress_price": f.stress_price(**kw)})
_formula("fund_cover", "min(shortfall, fund balance)", ["shortfall", "fund_balance"], ["cover"],
         lambda **kw: {"cover": f.fund_cover(**kw)})
_formula("book_value", "floor(shares · (A + U + 1) / (S + 1)), the unearned premium counted",
         ["shares", "assets", "unearned", "total_shares"], ["value"], lambda **kw: {"value": f.book_value(**kw)})
_formula("backing", "assets − value of the shares requested for withdrawal", ["assets", "total_shares", "pending_shares"],
         ["backing"], lambda **kw: {"backing": f.backing(**kw)})
_formula("withdrawal_utilization", "locked · 10000 <= (A − paid) · max-utilization-bp after a withdrawal",
         ["paid", "assets", "locked", "max_utilization_bp"], ["ok"],
         lambda **kw: {"ok": f.withdrawal_keeps_utilization(**kw)})
_formula("new_generation", "a settlement leaving S > A · 1e6 voids the pool's shares", ["assets", "total_shares"],
         ["wiped"], lambda **kw: {"wiped": f.starts_new_generation(**kw)})
_formula("pool_cap", "first cap of lock-collateral broken (310 per policy, 309 utilization, 311 per expiry)",
         ["collateral", "backing", "locked", "expiry_locked", "max_exposure_policy_bp", "max_utilization_bp",
          "max_exposure_expiry_bp"], ["error_code"], lambda **kw: _code(f.pool_cap_error(**kw)))
_formula("deviation_guard", "|p − ref| · 10000 <= ref · allowed-bp", ["price", "reference", "allowed_bp"], ["ok"],
         lambda **kw: {"ok": f.deviation_ok(**kw)})
_formula("quote_slippage", "|S − spot| · 10000 <= spot · quote.max-slippage-bp",
         ["oracle_spot", "quoted_spot", "max_slippage_bp"], ["ok"], lambda **kw: {"ok": f.slippage_ok(**kw)})
_formula("quote_window", "404 past valid-until; 419 issued in the future or living longer than quote.max-life-blocks",
         ["now", "issued_at", "valid_until", "max_life"], ["error_code"],
         lambda **kw: _code(f.quote_window_error(**kw)))
_formula("governance_tally", "quorum and threshold of a proposal", ["yes", "no", "total_power", "quorum_bp", "threshold_bp"],
         ["quorum", "passed"],
         lambda yes, no, total_power, quorum_bp, threshold_bp: {
             "quorum": f.quorum_reached(yes, no, total_power, quorum_bp),
             "passed": f.proposal_passed(yes, no, total_power, quorum_bp, threshold_bp)})
# Checked in the VM over an oracle history built per case: records at `prev_height` (when > 0) and
# `height` (unless `prev_height` is null; then there is no record at all), then burn blocks up to
# `burn_height`; `height` is the hint passed to the oracle.
_HISTORY_IN = ["expiry", "height", "prev_height", "burn_height", "max_delay"]
_HISTORY_ARGS = [("expiry", U), ("height", U), ("max_delay", U)]
_formula("settlement_price", "oracle get-settlement-price acceptance of the record at `height`", _HISTORY_IN,
         ["error_code"], lambda **kw: _code(settlement_price_error(**kw)),
         Vm(ORACLE, "get-settlement-price", _HISTORY_ARGS, "error_code", setup="oracle-history"))
_formula("no_settlement_price", "oracle no-settlement-price: no record can ever settle the expiry (a void's proof)",
         _HISTORY_IN, ["missing"],
         lambda expiry, height, prev_height, burn_height, max_delay: {"missing": no_settlement_price(
             expiry, height, prev_height, None if prev_height is None else height, burn_height, max_delay)},
         Vm(ORACLE, "no-settlement-price", _HISTORY_ARGS, "missing", setup="oracle-history"))
_formula("void_policy", "registry void-policy: 406 not active, 422 too early, 423 a valid price exists",
         ["active", "burn_height", "void_after", "price_missing"], ["error_code"],
         lambda **kw: _code(void_error(**kw)))

# Risk (bithedge.protocol.risk, no contract computes it; the SQL side is macros/risk.sql). Inputs are integers as
# everywhere else (volatility in millionths, the scenario's return per √second in billionths); the outputs are
# floats, written as Python's shortest round-trip text and compared with a relative tolerance.
_formula("bs_put", "Black–Scholes put per BTC of notional (r = 0): value, delta, gamma, vega, theta",
         ["spot", "strike", "vol_ppm", "seconds"], ["value", "delta", "gamma", "vega", "theta"],
         lambda spot, strike, vol_ppm, seconds: _floats(asdict(risk.bs_put(spot, strike, vol_ppm / 1e6,
                                                                           seconds / risk.YEAR_S))))
_formula("scenario_payout", "(K − S · exp(z · √seconds))⁺ · amount / 1e8, the payout of a historical scenario",
         ["spot", "strike", "amount", "z_ppb", "seconds"], ["payout"],
         lambda spot, strike, amount, z_ppb, seconds: _floats(
             {"payout": risk.scenario_payout(spot, strike, amount, z_ppb / 1e9, seconds)}))

_formula("premium_earned", "amount × |[created, expiry) ∩ [lo, hi)| / (expiry − created), earned pro rata in a range",
         ["amount", "created", "expiry", "lo", "hi"], ["earned"],
         lambda **kw: _floats({"earned": earning.earned_between(**kw)}))


# ---------------------------------------------------------------- cases
USD = ONE8
STD = dict(ratio_bp=11_000, adj_bp=10_000, min_bp=10, max_bp=5_000)


def _policy_terms_cases(r: random.Random) -> Iterator[tuple[str, Case]]:
    fm = FORMULAS["policy_terms"]
    stx = dict(token="STX", stress_bp=6_000, **STD)
    sbtc = dict(token="sBTC", stress_bp=5_000, **STD)
    # the suite's quote: 0.1 BTC struck at $54k, BTC $60k, STX $2
    yield _case(fm, "edge:stx-otm-default", strike=54_000 * USD, amount=10_000_000, spot=60_000 * USD, price=2 * USD, **stx)
    yield _case(fm, "edge:sbtc-otm-default", strike=54_000 * USD, amount=10_000_000, spot=60_000 * USD,
                price=60_000 * USD, **sbtc)
    yield _case(fm, "edge:zero-intrinsic-at-the-money", strike=60_000 * USD, amount=10_000_000, spot=60_000 * USD,
                price=2 * USD, **stx)
    yield _case(fm, "edge:intrinsic-one-unit-itm", strike=60_000 * USD + 1, amount=10_000_000, spot=60_000 * USD,
                price=2 * USD, **stx)
    yield _case(fm, "edge:flexible-itm-adjusts-time-value-only", strike=90_000 * USD, amount=10_000_000,
                spot=60_000 * USD, price=2 * USD, token="STX", ratio_bp=10_000, adj_bp=9_000, min_bp=10, max_bp=5_000,
                stress_bp=6_000)
    yield _case(fm, "edge:max-payout-exact-division", strike=50_000 * USD, amount=100_000_000, spot=60_000 * USD,
                price=USD, token="STX", stress_bp=10_000, **STD)
    yield _case(fm, "edge:max-payout-rounds-up-by-one", strike=50_000 * USD + 1, amount=100_000_000, spot=60_000 * USD,
                price=USD, token="STX", stress_bp=10_000, **STD)
    yield _case(fm, "edge:sbtc-strike-at-floor-max-payout-zero", strike=30_000 * USD, amount=10_000_000,
                spot=60_000 * USD, price=60_000 * USD, **sbtc)
    yield _case(fm, "edge:sbtc-strike-one-above-floor", strike=30_000 * USD + 1, amount=10_000_000, spot=60_000 * USD,
                price=60_000 * USD, **sbtc)
    yield _case(fm, "edge:stress-price-floors-to-one", strike=2, amount=10_000, spot=1, price=1, token="STX",
                stress_bp=1_000, **STD)
    yield _case(fm, "edge:floor-premium-rounds-up-from-dust", strike=USD, amount=1, spot=2 * USD, price=2 * USD, **stx)
    yield _case(fm, "edge:bounds-extremes", strike=70_000 * USD, amount=1_000_000_000, spot=60_000 * USD, price=10**6,
                token="STX", ratio_bp=50_000, adj_bp=50_000, min_bp=10_000, max_bp=10_000, stress_bp=1_000)
    yield _case(fm, "edge:unknown-token", strike=54_000 * USD, amount=10_000_000, spot=60_000 * USD, price=2 * USD,
                **{**stx, "token": "USDA"})
    yield _case(fm, "edge:overflow-max-payout-product", strike=2**64, amount=2**40, spot=1, price=1, **sbtc)
    yield _case(fm, "edge:just-below-overflow", strike=2**64, amount=2**37, spot=2**64, price=10**6, token="sBTC",
                ratio_bp=10_000, adj_bp=10_000, min_bp=1, max_bp=1, stress_bp=10_000)
    for i in range(RANDOM_CASES):
        spot = r.randint(10_000 * USD, 200_000 * USD)
        token = r.choice(list(Token))
        price = spot if token is Token.SBTC else r.randint(1_000_000, 2_000_000_000)
        yield _case(fm, f"random:{i}", token=token.value, strike=spot * r.randint(5_000, 15_000) // BP,
                    amount=r.randint(10_000, 10**9), spot=spot, price=price, ratio_bp=r.randint(10_000, 50_000),
                    adj_bp=r.randint(1_000, 50_000), min_bp=r.randint(1, 10_000), max_bp=r.randint(1, 10_000),
                    stress_bp=r.randint(1_000, 10_000 if token is Token.STX else 9_000))


def _payout_cases(r: random.Random) -> Iterator[tuple[str, Case]]:
    fm, cover = FORMULAS["payout_terms"], FORMULAS["fund_cover"]
    base = dict(token="STX", strike=54_000 * USD, amount=10_000_000, price=2 * USD, collateral=4_950_000_000)
    yield _case(fm, "edge:otm", **base, settle_price=60_000 * USD)
    yield _case(fm, "edge:at-the-strike", **base, settle_price=54_000 * USD)
    yield _case(fm, "edge:one-below-strike", **base, settle_price=54_000 * USD - 1)
    yield _case(fm, "edge:itm-below-cap", **base, settle_price=48_000 * USD)
    yield _case(fm, "edge:cap-exactly-reached", **{**base, "collateral": 2_700_000_000}, settle_price=0)
    yield _case(fm, "edge:stx-crash-shortfall", **{**base, "price": USD // 2}, settle_price=18_000 * USD)
    yield _case(fm, "edge:sbtc-crash-below-floor", token="sBTC", strike=54_000 * USD, amount=10_000_000,
                settle_price=18_000 * USD, price=18_000 * USD, collateral=26_400_000)
    yield _case(fm, "edge:unknown-token", **{**base, "token": "USDA"}, settle_price=18_000 * USD)
    for i in range(RANDOM_CASES):
        strike = r.randint(10_000 * USD, 200_000 * USD)
        settle = r.randint(0, 2 * strike)
        token = r.choice(list(Token))
        yield _case(fm, f"random:{i}", token=token.value, strike=strike, amount=r.randint(10_000, 10**9),
                    settle_price=settle, price=settle or 1 if token is Token.SBTC else r.randint(10**6, 10**9),
                    collateral=r.randint(0, 10**13))
    yield _case(cover, "edge:fund-covers-all", shortfall=1_000, fund_balance=5_000)
    yield _case(cover, "edge:fund-covers-part", shortfall=5_000, fund_balance=1_000)
    yield _case(cover, "edge:empty-fund", shortfall=5_000, fund_balance=0)
    yield _case(cover, "edge:no-shortfall", shortfall=0, fund_balance=5_000)
    for i in range(RANDOM_CASES // 4):
        yield _case(cover, f"random:{i}", shortfall=r.randint(0, 10**12), fund_balance=r.randint(0, 10**12))


def _small_cases(r: random.Random) -> Iterator[tuple[str, Case]]:
    usd, cdiv, tok, split, stress = (FORMULAS[n] for n in ("usd_diff_to_units", "ceil_div", "token_info",
                                                           "premium_split", "stress_price"))
    yield _case(usd, "edge:zero-difference", usd_per_btc=0, amount=10_000_000, scale=1_000_000, price=2 * USD)
    yield _case(usd, "edge:exact", usd_per_btc=2 * USD, amount=ONE8, scale=1_000_000, price=2 * USD)
    yield _case(usd, "edge:one-below-a-unit", usd_per_btc=2 * USD - 1, amount=1, scale=1_000_000, price=2 * USD)
    yield _case(usd, "edge:division-by-zero-price", usd_per_btc=1, amount=1, scale=1, price=0)
    for a, b in ((0, 1), (1, 1), (10_000, 10_000), (10_001, 10_000), (9_999, 10_000), (f.U128_MAX, 1),
                 (f.U128_MAX, 2), (f.U128_MAX - 1, 2)):
        yield _case(cdiv, f"edge:{a}/{b}", a=a, b=b)
    for token in Token:
        yield _case(tok, f"edge:{token.value}", token=token.value)
    yield _case(split, "edge:defaults", premium=5_400_000, fee_bp=300, fund_bp=500)
    yield _case(split, "edge:dust-stays-with-pool", premium=33, fee_bp=300, fund_bp=500)
    yield _case(split, "edge:no-fee-no-fund", premium=1_000, fee_bp=0, fund_bp=0)
    yield _case(split, "edge:max-shares", premium=10**12 + 1, fee_bp=2_000, fund_bp=3_000)
    yield _case(stress, "edge:stx-default", price=2 * USD, stress_bp=6_000)
    yield _case(stress, "edge:floors-to-one", price=1, stress_bp=1_000)
    yield _case(stress, "edge:rounds-down", price=2 * USD - 1, stress_bp=5_000)
    for i in range(RANDOM_CASES):
        yield _case(usd, f"random:{i}", usd_per_btc=r.randint(0, 10**13), amount=r.randint(1, 10**10),
                    scale=r.choice(list(TOKEN_SCALE.values())), price=r.randint(1, 10**13))
    for i in range(RANDOM_CASES // 2):
        yield _case(cdiv, f"random:{i}", a=r.randint(0, 10**30), b=r.randint(1, 10**12))
        yield _case(split, f"random:{i}", premium=r.randint(1, 10**13), fee_bp=r.randint(0, 2_000),
                    fund_bp=r.randint(0, 3_000))
        yield _case(stress, f"random:{i}", price=r.randint(1, 10**13), stress_bp=r.randint(1_000, 10_000))


def _share_cases(r: random.Random) -> Iterator[tuple[str, Case]]:
    dep, val, back, util, gen = (FORMULAS[n] for n in ("shares_for_deposit", "value_of_shares", "backing",
                                                       "withdrawal_utilization", "new_generation"))
    book = FORMULAS["book_value"]
    yield _case(dep, "edge:empty-generation-at-par", amount=1_000_000, assets=37, unearned=5, shares=0)
    yield _case(dep, "edge:unearned-premium-priced-in", amount=1_000_000, assets=10**9, unearned=10**8, shares=10**9)
    yield _case(dep, "edge:rounds-to-zero", amount=1, assets=10, unearned=0, shares=4)
    yield _case(dep, "edge:at-the-generation-limit", amount=2 * 10**15, assets=0, unearned=0, shares=10**6)
    yield _case(dep, "edge:overflow-beyond-generation-bounds", amount=10**13, assets=0, unearned=0,
                shares=78_200_000_000_000**2)
    yield _case(val, "edge:all-shares-of-one-holder", shares=10**6, assets=10**6, total_shares=10**6)
    yield _case(val, "edge:rounds-down", shares=3, assets=10, total_shares=6)
    yield _case(val, "edge:wiped-pool-pays-zero", shares=8_629_140_169, assets=0, total_shares=8_629_140_169)
    yield _case(val, "edge:overflow-beyond-generation-bounds", shares=781_950_000_000_000_000_000_000_000,
                assets=10**13, total_shares=781_950_000_000_000_000_000_000_000)
    yield _case(book, "edge:unearned-counts", shares=500, assets=1_000, unearned=100, total_shares=1_000)
    yield _case(book, "edge:empty-pool", shares=0, assets=0, unearned=0, total_shares=0)
    yield _case(back, "edge:nothing-pending", assets=10**9, total_shares=10**9, pending_shares=0)
    yield _case(back, "edge:all-pending", assets=10**9, total_shares=10**9, pending_shares=10**9)
    yield _case(back, "edge:rounds-in-pools-favour", assets=10, total_shares=6, pending_shares=3)
    yield _case(util, "edge:exact", paid=3_000, assets=10_000, locked=4_900, max_utilization_bp=7_000)
    yield _case(util, "edge:one-over", paid=3_001, assets=10_000, locked=4_900, max_utilization_bp=7_000)
    yield _case(util, "edge:more-than-assets", paid=10_001, assets=10_000, locked=0, max_utilization_bp=10_000)
    yield _case(gen, "edge:wiped", assets=0, total_shares=1)
    yield _case(gen, "edge:at-the-limit", assets=1, total_shares=1_000_000)
    yield _case(gen, "edge:one-over-the-limit", assets=1, total_shares=1_000_001)
    yield _case(gen, "edge:empty", assets=0, total_shares=0)
    for i in range(RANDOM_CASES):
        assets = r.randint(0, 10**15)
        shares = r.choice([0, r.randint(0, (assets + 1) * f.MAX_SHARES_PER_UNIT)])
        yield _case(dep, f"random:{i}", amount=r.randint(1, 10**14), assets=assets, unearned=r.randint(0, 10**12),
                    shares=shares)
        yield _case(val, f"random:{i}", shares=r.randint(0, shares), assets=assets, total_shares=shares)
        yield _case(book, f"random:{i}", shares=r.randint(0, shares), assets=assets, unearned=r.randint(0, 10**12),
                    total_shares=shares)
    for i in range(RANDOM_CASES // 2):
        assets, shares = r.randint(0, 10**15), r.randint(0, 10**15)
        yield _case(back, f"random:{i}", assets=assets, total_shares=shares, pending_shares=r.randint(0, shares))
        yield _case(util, f"random:{i}", paid=r.randint(0, assets), assets=assets, locked=r.randint(0, assets),
                    max_utilization_bp=r.randint(0, BP))
        yield _case(gen, f"random:{i}", assets=r.randint(0, 10**4), total_shares=r.randint(0, 10**10))


def _cap_cases(r: random.Random) -> Iterator[tuple[str, Case]]:
    fm = FORMULAS["pool_cap"]
    bal = dict(max_exposure_policy_bp=2_000, max_utilization_bp=7_000, max_exposure_expiry_bp=4_000)
    yield _case(fm, "edge:policy-cap-exact", collateral=2_000, backing=10_000, locked=0, expiry_locked=0, **bal)
    yield _case(fm, "edge:policy-cap-one-over", collateral=2_001, backing=10_000, locked=0, expiry_locked=0, **bal)
    yield _case(fm, "edge:utilization-exact", collateral=1_000, backing=10_000, locked=6_000, expiry_locked=0, **bal)
    yield _case(fm, "edge:utilization-one-over", collateral=1_001, backing=10_000, locked=6_000, expiry_locked=0, **bal)
    yield _case(fm, "edge:expiry-exact", collateral=1_000, backing=10_000, locked=3_000, expiry_locked=3_000, **bal)
    yield _case(fm, "edge:expiry-one-over", collateral=1_001, backing=10_000, locked=3_000, expiry_locked=3_000, **bal)
    yield _case(fm, "edge:no-backing", collateral=1, backing=0, locked=0, expiry_locked=0, **bal)
    for i in range(RANDOM_CASES):
        b = r.randint(0, 10**13)
        locked = r.randint(0, b)
        yield _case(fm, f"random:{i}", collateral=r.randint(1, max(1, b // 3)), backing=b, locked=locked,
                    expiry_locked=r.randint(0, locked), max_exposure_policy_bp=r.randint(0, BP),
                    max_utilization_bp=r.randint(0, BP), max_exposure_expiry_bp=r.randint(0, BP))


def _oracle_gov_cases(r: random.Random) -> Iterator[tuple[str, Case]]:
    allowed, dev, tally, sp = (FORMULAS[n] for n in ("allowed_deviation", "deviation_guard", "governance_tally",
                                                     "settlement_price"))
    slip, window, void = FORMULAS["quote_slippage"], FORMULAS["quote_window"], FORMULAS["void_policy"]
    d = dict(max_deviation_bp=1_000, stale_after=6, max_gap_deviation_bp=5_000)
    yield _case(allowed, "edge:same-block-reference", gap=0, **d)
    yield _case(allowed, "edge:one-unit-of-gap", gap=6, **d)
    yield _case(allowed, "edge:just-below-a-unit", gap=11, **d)
    yield _case(allowed, "edge:capped", gap=1_000, **d)
    yield _case(allowed, "edge:division-by-zero-stale-after", gap=1, max_deviation_bp=1_000, stale_after=0,
                max_gap_deviation_bp=5_000)
    yield _case(dev, "edge:exactly-10pct-up", price=110, reference=100, allowed_bp=1_000)
    yield _case(dev, "edge:just-over-10pct-down", price=899_999_999, reference=1_000_000_000, allowed_bp=1_000)
    yield _case(dev, "edge:unchanged-zero-bp", price=5, reference=5, allowed_bp=0)
    yield _case(slip, "edge:exact", oracle_spot=60_600 * USD, quoted_spot=60_000 * USD, max_slippage_bp=100)
    yield _case(slip, "edge:one-over", oracle_spot=59_400 * USD - 1, quoted_spot=60_000 * USD, max_slippage_bp=100)
    for label, kw in (("edge:ok", dict(now=900, issued_at=900, valid_until=906, max_life=6)),
                      ("edge:last-height", dict(now=906, issued_at=900, valid_until=906, max_life=6)),
                      ("edge:expired", dict(now=907, issued_at=900, valid_until=906, max_life=6)),
                      ("edge:life-one-too-long", dict(now=900, issued_at=900, valid_until=907, max_life=6)),
                      ("edge:issued-in-the-future", dict(now=899, issued_at=900, valid_until=903, max_life=6))):
        yield _case(window, label, **kw)
    yield _case(tally, "edge:quorum-exact-threshold-exact-fails", yes=1_000, no=1_000, total_power=10_000,
                quorum_bp=2_000, threshold_bp=5_000)
    yield _case(tally, "edge:one-more-yes-passes", yes=1_001, no=1_000, total_power=10_000, quorum_bp=2_000,
                threshold_bp=5_000)
    yield _case(tally, "edge:quorum-one-short", yes=1_999, no=0, total_power=10_000, quorum_bp=2_000, threshold_bp=5_000)
    yield _case(tally, "edge:no-votes", yes=0, no=0, total_power=0, quorum_bp=2_000, threshold_bp=5_000)
    for label, kw in (
        ("edge:first-at-expiry", dict(expiry=100, height=100, prev_height=99, burn_height=101, max_delay=144)),
        ("edge:no-record", dict(expiry=100, height=100, prev_height=None, burn_height=101, max_delay=144)),
        ("edge:no-record-ever-window-over", dict(expiry=100, height=100, prev_height=None, burn_height=245, max_delay=144)),
        ("edge:not-first", dict(expiry=100, height=105, prev_height=100, burn_height=200, max_delay=144)),
        ("edge:latest-before-expiry", dict(expiry=100, height=99, prev_height=90, burn_height=200, max_delay=144)),
        ("edge:latest-before-expiry-window-over", dict(expiry=100, height=99, prev_height=90, burn_height=245, max_delay=144)),
        ("edge:current-block-not-final", dict(expiry=100, height=101, prev_height=90, burn_height=101, max_delay=144)),
        ("edge:delay-exact", dict(expiry=100, height=244, prev_height=90, burn_height=300, max_delay=144)),
        ("edge:delay-one-over", dict(expiry=100, height=245, prev_height=90, burn_height=300, max_delay=144)),
        ("edge:no-record-window-not-over", dict(expiry=100, height=100, prev_height=None, burn_height=244, max_delay=144)),
        ("edge:zero-delay-at-expiry", dict(expiry=100, height=100, prev_height=0, burn_height=300, max_delay=0)),
        ("edge:zero-delay-one-late", dict(expiry=100, height=101, prev_height=0, burn_height=300, max_delay=0)),
    ):
        yield _case(sp, label, **kw)
        yield _case(FORMULAS["no_settlement_price"], label, **kw)
    for label, kw in (("edge:voidable", dict(active=True, burn_height=389, void_after=388, price_missing=True)),
                      ("edge:at-void-after", dict(active=True, burn_height=388, void_after=388, price_missing=True)),
                      ("edge:price-exists", dict(active=True, burn_height=389, void_after=388, price_missing=False)),
                      ("edge:already-closed", dict(active=False, burn_height=389, void_after=388, price_missing=True))):
        yield _case(void, label, **kw)
    for i in range(RANDOM_CASES // 2):
        yield _case(allowed, f"random:{i}", gap=r.randint(0, 200), max_deviation_bp=r.randint(10, 5_000),
                    stale_after=r.randint(1, 1_008), max_gap_deviation_bp=r.randint(100, 9_000))
        q = r.randint(1, 10**13)
        yield _case(dev, f"random:{i}", price=r.randint(q * 8 // 10, q * 12 // 10), reference=q,
                    allowed_bp=r.randint(1, BP))
        q = r.randint(10_000 * USD, 200_000 * USD)
        yield _case(slip, f"random:{i}", oracle_spot=r.randint(q * 97 // 100, q * 103 // 100), quoted_spot=q,
                    max_slippage_bp=r.randint(1, 2_000))
        total = r.randint(0, 10**16)
        yes = r.randint(0, total)
        yield _case(tally, f"random:{i}", yes=yes, no=r.randint(0, total - yes), total_power=total,
                    quorum_bp=r.randint(1, BP), threshold_bp=r.randint(1, BP - 1))


def _risk_cases(_: random.Random) -> Iterator[tuple[str, Case]]:
    """Its own seed: the shared generator's sequence (and so every other formula's cases) stays as it was."""
    r = random.Random(f"{SEED}:risk")
    put, scen = FORMULAS["bs_put"], FORMULAS["scenario_payout"]
    day, year = 86_400, risk.YEAR_S
    yield _case(put, "edge:at-the-money-one-year", spot=60_000 * USD, strike=60_000 * USD, vol_ppm=500_000, seconds=year)
    yield _case(put, "edge:deep-in-the-money", spot=30_000 * USD, strike=60_000 * USD, vol_ppm=300_000, seconds=day)
    yield _case(put, "edge:far-out-of-the-money", spot=90_000 * USD, strike=60_000 * USD, vol_ppm=300_000, seconds=day)
    # 0.5·d1² ≈ 670: φ(d1) ≈ 1e-291 is cut to 0 (risk.PDF_CUTOFF) on both sides, so gamma, vega and theta are 0
    yield _case(put, "edge:density-cut-to-zero", spot=90_000 * USD, strike=60_000 * USD, vol_ppm=212_000, seconds=day)
    yield _case(put, "edge:expired-in-the-money", spot=50_000 * USD, strike=60_000 * USD, vol_ppm=500_000, seconds=0)
    yield _case(put, "edge:expired-at-the-strike", spot=60_000 * USD, strike=60_000 * USD, vol_ppm=500_000, seconds=0)
    yield _case(put, "edge:no-volatility", spot=50_000 * USD, strike=60_000 * USD, vol_ppm=0, seconds=day)
    yield _case(put, "edge:one-second-left", spot=60_000 * USD, strike=60_000 * USD + 1, vol_ppm=800_000, seconds=1)
    for i in range(RANDOM_CASES):
        spot = r.randint(10_000 * USD, 200_000 * USD)
        yield _case(put, f"random:{i}", spot=spot, strike=spot * r.randint(7_000, 13_000) // BP,
                    vol_ppm=r.randint(50_000, 3_000_000), seconds=r.randint(1, 90 * day))
    yield _case(scen, "edge:no-move-in-the-money", spot=50_000 * USD, strike=60_000 * USD, amount=10_000_000, z_ppb=0,
                seconds=day)
    yield _case(scen, "edge:crash-pays", spot=60_000 * USD, strike=54_000 * USD, amount=10_000_000, z_ppb=-2_000_000,
                seconds=day)
    yield _case(scen, "edge:rally-pays-nothing", spot=60_000 * USD, strike=54_000 * USD, amount=10_000_000,
                z_ppb=2_000_000, seconds=day)
    yield _case(scen, "edge:expired", spot=50_000 * USD, strike=60_000 * USD, amount=100_000_000, z_ppb=-5_000_000,
                seconds=0)
    earned = FORMULAS["premium_earned"]
    yield _case(earned, "edge:whole-coverage", amount=1_000_000, created=100, expiry=110, lo=90, hi=120)
    yield _case(earned, "edge:first-half", amount=1_000_000, created=100, expiry=110, lo=90, hi=105)
    yield _case(earned, "edge:thirds-do-not-round", amount=1_000_000, created=100, expiry=103, lo=101, hi=102)
    yield _case(earned, "edge:range-before-creation", amount=1_000_000, created=100, expiry=110, lo=80, hi=100)
    yield _case(earned, "edge:range-after-expiry", amount=1_000_000, created=100, expiry=110, lo=110, hi=130)
    for i in range(RANDOM_CASES):
        created = r.randint(1, 10**6)
        expiry = created + r.randint(1, 5_000)
        lo = r.randint(created - 500, expiry)
        yield _case(earned, f"random:{i}", amount=r.randint(1, 10**12), created=created, expiry=expiry, lo=lo,
                    hi=lo + r.randint(0, 500))
    for i in range(RANDOM_CASES):
        spot = r.randint(10_000 * USD, 200_000 * USD)
        yield _case(scen, f"random:{i}", spot=spot, strike=spot * r.randint(7_000, 13_000) // BP,
                    amount=r.randint(10_000, 10**9), z_ppb=r.randint(-3_000_000, 3_000_000),
                    seconds=r.randint(0, 30 * day))


GENERATORS = (_policy_terms_cases, _payout_cases, _small_cases, _share_cases, _cap_cases, _oracle_gov_cases,
              _risk_cases)


def _quote_cases(r: random.Random, key: PrivateKey, deployment: Deployment) -> list[Case]:
    buyers = ["ST3PF13W7Z0RRM42A8VZRVFQ75SV1K26RXEP8YGKJ", "ST3NBRSFKX28FQ2ZJ1MAKX58HKHSDGNV5N7R21XCP"]
    quotes = [("edge:readme-example", Quote(1001, buyers[0], "STX", "standard", "balanced", 54_000 * USD, 10_000_000,
                                            1000, 8_100_000, 900, 60_000 * USD, 903)),
              ("edge:zero-fields", Quote(0, buyers[1], "sBTC", "flexible", "aggressive", 0, 0, 0, 0, 0, 0, 0)),
              ("edge:max-uints", Quote(f.U128_MAX, buyers[1], "sBTC", "conservative", "conservative", *[f.U128_MAX] * 7))]
    for i in range(RANDOM_CASES // 2):
        issued = r.randint(1, 10**6)
        quotes.append((f"random:{i}", Quote(
            r.randrange(2**40), r.choice(buyers), r.choice(["STX", "sBTC"]), r.choice(BUYER_TIERS),
            r.choice(PROVIDER_TIERS), r.randint(10**12, 2 * 10**13), r.randint(10**4, 10**9),
            issued + r.randint(6, 5_000), r.randint(1, 10**12), issued, r.randint(10**12, 2 * 10**13),
            issued + r.randint(0, 6))))
    cases = []
    for label, q in quotes:
        digest = quote_digest(q, deployment.registry, CHAIN_ID_TESTNET)
        cases.append({"case": label, **_strs(asdict(q)), "registry": deployment.registry,
                      "chain_id": str(CHAIN_ID_TESTNET), "digest": digest.hex(),
                      "signature_rsv": sign_quote(q, key, deployment.registry, CHAIN_ID_TESTNET).hex(), "error": None})
    return cases


_QUOTE_IN = [fd.name for fd in fields(Quote)]


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
        _vm(REGISTRY, "quote-hash", _QUOTE_IN, "digest",
            {"buyer": "principal", "token": S8, "buyer_tier": S8, "pool_tier": S8}),
    ) | {"signer": QUOTE_SIGNER_LABEL, "cases": _quote_cases(r, quote_signer, deployment)}
    return doc


def _header(doc: str, inputs: list[str], outputs: list[str], vm: Vm | None) -> dict[str, Any]:
    return {"doc": doc, "inputs": inputs, "outputs": outputs,
            "vm": None if vm is None else {"contract": vm.contract, "function": vm.function,
                                           "args": [{"name": n, "type": t} for n, t in vm.args],
                                           "result": vm.result, "setup": vm.setup}}


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
