"""The publishing rule: deviation, heartbeat and expiry triggers; the guard's steps, each within the
sources' band, or an alert and a wait; and, as a property, no published price the sources or the
guard would refuse."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bithedge.protocol.formulas import deviation_ok
from keeper.oracle.model import Round
from keeper.oracle.publish import (
    GUARD_BLOCKS_TRUE_MOVE,
    QUORUM_LOST,
    GuardParams,
    OnChain,
    PublishRules,
    decide,
)

P = 100_000 * 10**8  # 100,000 USD
RULES = PublishRules()


def rnd(median: int | None, asset: str = "BTC") -> Round:
    return Round(asset, median, [], median is not None, None if median else "no quorum for BTC: 2 usable", 0.0)


def at(price: int, height: int, **kw) -> OnChain:
    return OnChain(price, height, **kw)


def test_no_quorum_publishes_nothing_and_alerts():
    d = decide(rnd(None), at(P, 10), 30, RULES)
    assert d.price is None and d.alert == QUORUM_LOST and "20 blocks old" in d.detail


def test_the_first_price_is_unguarded():
    d = decide(rnd(7 * P), OnChain(), 5, RULES)
    assert d.price == 7 * P and d.reason == "first"


def test_deviation_threshold_and_heartbeat():
    assert decide(rnd(P + P * 49 // 10_000), at(P, 10), 11, RULES).reason == "within-threshold"
    d = decide(rnd(P + P * 50 // 10_000), at(P, 10), 11, RULES)
    assert (d.price, d.reason) == (P + P * 50 // 10_000, "deviation")
    d = decide(rnd(P - P * 50 // 10_000), at(P, 10), 11, RULES)
    assert d.reason == "deviation"
    d = decide(rnd(P + 1), at(P, 10), 12, RULES)  # 2 burn blocks old: the heartbeat
    assert (d.price, d.reason, d.triggers) == (P + 1, "heartbeat", ("heartbeat",))


def test_an_expiry_with_unsettled_policies_gets_a_price_at_or_after_it():
    assert decide(rnd(P), at(P, 10), 11, RULES, expiries=[11]).reason == "expiry"
    assert decide(rnd(P), at(P, 10), 11, RULES, expiries=[12, 10]).reason == "within-threshold"  # not yet / has one
    d = decide(rnd(P * 101 // 100), at(P, 10), 12, RULES, expiries=[11])
    assert d.triggers == ("expiry", "deviation", "heartbeat") and d.reason == "expiry" and "expiry 11" in d.detail


def test_updates_per_block_are_respected():
    d = decide(rnd(P * 102 // 100), at(P, 20, updates=2, prev_price=P, prev_height=18), 20, RULES)
    assert d.price is None and d.reason == "updates-exhausted"
    d = decide(rnd(P * 102 // 100), at(P, 20, updates=1, prev_price=P, prev_height=18), 20, RULES)
    assert d.price == P * 102 // 100


def test_a_move_past_the_guard_steps_when_the_step_lies_in_the_band():
    # 11 % up; the guard allows 10 % against a 1-block-old reference: 110,000 is 0.9 % below the median
    d = decide(rnd(P * 111 // 100), at(P, 10), 11, RULES)
    assert d.reason == "step" and d.price == P * 110 // 100 and d.alert is None
    # the next block the step is the reference and the median is reachable
    d = decide(rnd(P * 111 // 100), at(d.price, 11), 12, RULES)
    assert d.price == P * 111 // 100 and d.reason == "deviation"


def test_a_move_the_guard_cannot_follow_within_the_band_alerts_and_waits_for_the_gap_to_grow():
    m = P * 85 // 100  # a 15 % fall; 10 % allowed now, 20 % once the reference is 6 blocks old
    d = decide(rnd(m), at(P, 10), 11, RULES)
    assert d.price is None and d.alert == GUARD_BLOCKS_TRUE_MOVE and d.unblocked_at == 16
    assert d.blocked and not d.publish
    assert decide(rnd(m), at(P, 10), 15, RULES).alert == GUARD_BLOCKS_TRUE_MOVE
    d = decide(rnd(m), at(P, 10), 16, RULES)
    assert d.price == m and d.alert is None and d.publish and not d.blocked
    # beyond the cap (50 %) plus the band, waiting never helps: the alert says so
    d = decide(rnd(P * 40 // 100), at(P, 10), 11, RULES)
    assert d.unblocked_at is None and "the parameter must change" in d.detail


def test_a_resubmission_in_the_same_block_must_pass_both_references():
    # latest at 20 (this block) links to 18 at P; the tx lands in 20 (reference P, gap 2) or later (110 % P, gap 1)
    onchain = at(P * 110 // 100, 20, updates=1, prev_price=P, prev_height=18)
    d = decide(rnd(P * 112 // 100), onchain, 20, RULES)
    assert d.reason == "step" and d.price == P * 110 // 100  # the tighter bound: 10 % above P
    assert deviation_ok(d.price, P, 1000) and deviation_ok(d.price, P * 110 // 100, 1000)


def test_guard_params_from_the_contract_keys():
    g = GuardParams.from_params({"oracle.max-deviation-bp": 500, "oracle.stale-after-blocks": 3,
                                 "oracle.max-gap-deviation-bp": 2000, "oracle.max-updates-per-block": 1})
    assert g == GuardParams(500, 3, 2000, 1) and g.allowed_bp(0) == 500 and g.allowed_bp(9) == 2000


@settings(max_examples=500, deadline=None)
@given(ref=st.integers(10**8, 10**14), move_bp=st.integers(-9000, 20000), height=st.integers(1, 1000),
       gap=st.integers(0, 60), same_block=st.booleans(), prev_move_bp=st.integers(-1000, 1000),
       max_dev=st.integers(10, 5000), stale=st.integers(1, 20), band=st.integers(1, 500))
def test_nothing_published_leaves_the_band_or_fails_the_guard(ref, move_bp, height, gap, same_block, prev_move_bp,
                                                                max_dev, stale, band):
    guard = GuardParams(max_dev, stale, max(max_dev, 5000), 2)
    median = max(1, ref + ref * move_bp // 10_000)
    burn = height + (0 if same_block else max(gap, 1))
    prev = max(1, ref + ref * prev_move_bp // 10_000)
    onchain = at(ref, height, updates=1, prev_price=prev if same_block else None,
                 prev_height=height - max(gap, 1) if same_block else None, guard=guard)
    d = decide(rnd(median), onchain, burn, PublishRules(50, 2, band))
    if d.price is None:
        return
    assert abs(d.price - median) * 10_000 <= median * band
    refs = [(ref, max(burn - height, 1))] + ([(prev, burn - onchain.prev_height)] if same_block else [])
    for r, g in refs:
        assert deviation_ok(d.price, r, guard.allowed_bp(g))
