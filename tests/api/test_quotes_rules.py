"""Every creation rule `POST /v1/quotes` checks before signing (api/quotes.py `check_and_price`), on a state
snapshot shaped like the analytics answer: one case per rule, each refused with its name and contract code."""

from __future__ import annotations

import copy

import pytest

from api.quotes import QuoteRequest, Refused, check_and_price

NOW = 1_000
SPOT = 60_000 * 10**8
PARAMS = {
    "policy.max-price-age-blocks": 3, "policy.min-duration-blocks": 6, "policy.max-duration-blocks": 52_560,
    "policy.min-amount-sats": 10_000, "policy.max-amount-sats": 10**9, "policy.min-strike-bp": 5_000,
    "policy.max-strike-bp": 15_000, "policy.max-active-per-owner": 50, "premium.min-bp": 10, "premium.max-bp": 5_000,
    "quote.max-life-blocks": 6, "quote.max-slippage-bp": 100, "stress.stx-price-bp": 6_000,
    "stress.sbtc-price-bp": 5_000, "fee.protocol-bp": 300, "fund.premium-bp": 500,
}
STATE = {
    "freshness": {"raw": NOW, "marts": NOW},
    "params": PARAMS,
    "buyer_tier": {"collateral_ratio_bp": 11_000, "premium_adjustment_bp": 10_000, "active": True},
    "pool_tier": {"max_utilization_bp": 7_000, "max_exposure_policy_bp": 2_000, "max_exposure_expiry_bp": 4_000,
                  "active": True},
    "prices": {"BTC": {"price": SPOT, "height": NOW - 1, "vol_144": 0.5, "vol_1008": None},
               "STX": {"price": 2 * 10**8, "height": NOW, "vol_144": 0.9, "vol_1008": None}},
    "pool": {"assets": 10**12, "shares": 10**12, "locked": 0, "pending": 0},
    "paused": None, "signer_role": True, "owner_active": 0, "expiry_locked": 0, "open_expiries": 3,
    "expiry_open": False,
}
REQ = dict(buyer="ST3PF13W7Z0RRM42A8VZRVFQ75SV1K26RXEP8YGKJ", token="STX", buyer_tier="standard",
           pool_tier="balanced", strike=SPOT * 95 // 100, amount=1_000_000, expiry=NOW + 20)


def state(**changes) -> dict:
    s = copy.deepcopy(STATE)
    for path, value in changes.items():
        node = s
        *parents, last = path.split("__")
        for p in parents:
            node = node[p]
        node[last] = value
    return s


def test_a_valid_request_is_priced_within_the_contract_bounds() -> None:
    quote, priced, _ = check_and_price(QuoteRequest(**REQ), state(), life_blocks=3)
    assert (quote.issued_at, quote.valid_until, quote.spot) == (NOW, NOW + 3, SPOT)
    assert priced.terms.min_premium <= quote.premium <= priced.terms.max_premium
    # the life never exceeds quote.max-life-blocks
    shorter = state(**{"params__quote.max-life-blocks": 2})
    assert check_and_price(QuoteRequest(**REQ), shorter, life_blocks=3)[0].valid_until == NOW + 2


REFUSALS = [
    ("create-policy-paused", "u421", {}, {"paused": True}),
    ("buyer-tier", "u413", {}, {"buyer_tier__active": False}),
    ("buyer-tier", "u413", {}, {"buyer_tier": None}),
    ("pool", "u304", {}, {"pool": None}),
    ("pool-tier", "u312", {}, {"pool_tier__active": False}),
    ("price-freshness", "u414", {}, {"prices__BTC__height": NOW - 4}),
    ("price-freshness", "u414", {}, {"prices__STX": None}),
    ("duration", "u408", {"expiry": NOW + 3 + 5}, {}),  # valid until NOW + 3: 5 < 6 blocks left
    ("duration", "u408", {"expiry": NOW + 52_561}, {}),
    ("amount", "u409", {"amount": 9_999}, {}),
    ("amount", "u409", {"amount": 10**9 + 1}, {}),
    # 50 % of spot is inside the contract's band at the quoted spot, not over the whole slippage band
    ("strike-band", "u410", {"strike": SPOT // 2}, {}),
    ("strike-band", "u410", {"strike": SPOT * 3 // 2}, {}),
    ("owner-limit", "u416", {}, {"owner_active": 50}),
    ("pool-exposure-policy", "u310", {"amount": 100_000_000}, {"pool__assets": 2 * 10**11}),
    ("pool-utilization", "u309", {}, {"pool__locked": 7 * 10**11 - 1}),
    ("pool-exposure-expiry", "u311", {}, {"expiry_locked": 4 * 10**11 - 1}),
    # requested shares stop backing new policies: the same lock fails once most shares are pending
    ("pool-utilization", "u309", {}, {"pool__locked": 6 * 10**11, "pool__pending": 2 * 10**11}),
    ("pool-expiries", "u314", {}, {"open_expiries": 200}),
    ("premium-bounds", "u411/u412", {}, {"params__premium.min-bp": 6_000}),
    # an sBTC strike at or below the coverage floor (stressed BTC price): the put would pay nothing
    ("strike-band", "u410", {"token": "sBTC", "strike": SPOT * 55 // 100}, {"params__stress.sbtc-price-bp": 6_000}),
]


@pytest.mark.parametrize(("rule", "code", "req", "changes"), REFUSALS, ids=[f"{r[0]}-{i}" for i, r in enumerate(REFUSALS)])
def test_each_rule_is_refused_with_its_name_and_code(rule, code, req, changes) -> None:
    with pytest.raises(Refused) as err:
        check_and_price(QuoteRequest(**{**REQ, **req}), state(**changes), life_blocks=3)
    assert (err.value.status, err.value.rule, err.value.code) == (422, rule, code)
    assert err.value.body()["rule"] == rule and err.value.body()["code"] == code


def test_an_open_expiry_still_takes_policies_at_the_expiry_cap() -> None:
    check_and_price(QuoteRequest(**REQ), state(open_expiries=200, expiry_open=True), life_blocks=3)


@pytest.mark.parametrize(("changes", "rule"), [
    ({"freshness": None}, "analytics-not-ready"),
    ({"freshness__marts": NOW - 3}, "analytics-stale"),
    ({"signer_role": False}, "signer-not-authorized"),
    ({"params": {k: v for k, v in PARAMS.items() if k != "fee.protocol-bp"}}, "analytics-not-ready"),
])
def test_the_service_answers_503_when_it_cannot_promise_anything(changes, rule) -> None:
    with pytest.raises(Refused) as err:
        check_and_price(QuoteRequest(**REQ), state(**changes), life_blocks=3)
    assert (err.value.status, err.value.rule) == (503, rule)


@pytest.mark.parametrize("bad", [
    {"buyer": "ST3PF13W7Z0RRM42A8VZRVFQ75SV1K26RXEP8YGKX"},  # checksum
    {"buyer": "ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM.bithedge-vault"},  # a contract cannot send
    {"token": "BTC"}, {"strike": 0}, {"strike": "1.5"}, {"amount": -1}, {"expiry": 0}, {"pool_tier": "Bal anced"},
    {"extra": 1},
])
def test_bad_input_is_rejected_by_the_model(bad) -> None:
    with pytest.raises(ValueError):
        QuoteRequest(**{**REQ, **bad})
