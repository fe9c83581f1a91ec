"""The publishing rule (Chainlink-style, fitted to the v2 oracle's guard), as a pure function.

Publish the round's median when it moved at least `deviation_bp` from the on-chain price, when the
on-chain price is `heartbeat_blocks` burn blocks old, or when an expiry with unsettled policies has no
price at or after it yet. The contract refuses a price further from its reference (the latest record
of an earlier burn block) than `allowed-deviation-bp(gap)`, which grows with the reference's age. When
the median is beyond that, the v2 path is: submit the nearest price the guard accepts if it still lies
within the sources' band around the median (a step toward the true price), otherwise submit nothing,
alert, and wait while the gap, and with it the allowed move, grows. A price the sources do not support
is never published."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from bithedge.protocol.formulas import allowed_deviation_bp, deviation_ok, guard_bounds
from bithedge.protocol.units import BP
from keeper.oracle.aggregate import deviation_bp
from keeper.oracle.model import Round

# alert kinds
QUORUM_LOST = "quorum-lost"
GUARD_BLOCKS_TRUE_MOVE = "guard-blocks-true-move"


@dataclass(frozen=True)
class GuardParams:
    """The oracle guard's parameters (`bithedge-parameters`, contracts/README.md)."""

    max_deviation_bp: int = 1000
    stale_after_blocks: int = 6
    max_gap_deviation_bp: int = 5000
    max_updates_per_block: int = 2

    KEYS = {"oracle.max-deviation-bp": "max_deviation_bp", "oracle.stale-after-blocks": "stale_after_blocks",
            "oracle.max-gap-deviation-bp": "max_gap_deviation_bp",
            "oracle.max-updates-per-block": "max_updates_per_block"}

    @classmethod
    def from_params(cls, params: Mapping[str, int]) -> GuardParams:
        """From the contract's parameter values keyed by their on-chain names (`KEYS`)."""
        return cls(**{attr: int(params[key]) for key, attr in cls.KEYS.items()})

    def allowed_bp(self, gap: int) -> int:
        return allowed_deviation_bp(self.max_deviation_bp, self.stale_after_blocks, self.max_gap_deviation_bp, gap)


@dataclass(frozen=True)
class OnChain:
    """The oracle contract's state for one asset."""

    price: int | None = None  # `get-latest`; None: never priced (the first burn block is unguarded)
    height: int | None = None
    updates: int = 0  # `updates` of the record at `height`
    # the record `height` links to (its `prev-height`): the reference of a submission landing in the
    # burn block `height` itself; None when there is none
    prev_price: int | None = None
    prev_height: int | None = None
    guard: GuardParams = field(default_factory=GuardParams)


@dataclass(frozen=True)
class PublishRules:
    deviation_bp: int = 50
    heartbeat_blocks: int = 2
    band_bp: int = 200  # the sources' band: a step is supported when it lies this close to the median

    @classmethod
    def from_settings(cls, settings) -> PublishRules:
        return cls(settings.keeper_deviation_bp, settings.keeper_heartbeat_blocks, settings.keeper_price_band_bp)


@dataclass(frozen=True)
class Decision:
    asset: str
    price: int | None  # what to send to `submit-price`; None: send nothing
    reason: str  # publish: "first", "expiry", "deviation", "heartbeat", "step"; hold: "no-quorum",
    #            "within-threshold", "updates-exhausted", "guard-window", "guard-blocks"
    detail: str  # one line for the audit and the log
    alert: str | None = None  # QUORUM_LOST, GUARD_BLOCKS_TRUE_MOVE
    median: int | None = None
    triggers: tuple[str, ...] = ()  # why a price is due: "expiry", "deviation", "heartbeat"
    unblocked_at: int | None = None  # guard-blocks: the burn height from which waiting makes a supported price acceptable

    @property
    def publish(self) -> bool:
        return self.price is not None

    @property
    def blocked(self) -> bool:
        """The guard refuses every price the sources support."""
        return self.alert == GUARD_BLOCKS_TRUE_MOVE


def decide(round: Round, onchain: OnChain, burn_height: int, rules: PublishRules,
           expiries: Iterable[int] = ()) -> Decision:
    """What to submit for ``round.asset`` now. ``burn_height`` is the current burn block height (a
    transaction lands in it or later); ``expiries`` are the expiry heights with unsettled policies
    priced by this asset. Call it with no `submit-price` of the keeper's own still pending for the asset."""
    asset, m = round.asset, round.median
    if m is None:
        age = "never priced" if onchain.height is None else f"{burn_height - onchain.height} blocks old"
        return Decision(asset, None, "no-quorum", f"{round.reason}; on-chain price {age}", QUORUM_LOST)
    if onchain.price is None or onchain.height is None:
        return Decision(asset, m, "first", f"first price of {asset}: {m} (unguarded)", median=m, triggers=("first",))

    age = burn_height - onchain.height
    due = [e for e in expiries if onchain.height < e <= burn_height]
    triggers = tuple(t for t, on in (
        ("expiry", bool(due)),
        ("deviation", abs(m - onchain.price) * BP >= onchain.price * rules.deviation_bp),
        ("heartbeat", age >= rules.heartbeat_blocks),
    ) if on)
    move = f"median {m} vs on-chain {onchain.price} ({deviation_bp(m, onchain.price)} bp, {age} blocks old)"
    if due:
        move += f"; expiry {min(due)} has no price at or after it"
    if not triggers:
        return Decision(asset, None, "within-threshold", move, median=m)
    if onchain.height == burn_height and onchain.updates >= onchain.guard.max_updates_per_block:
        return Decision(asset, None, "updates-exhausted", f"{move}; {onchain.updates} updates in burn block "
                        f"{burn_height} already: next block", median=m, triggers=triggers)

    lo, hi = _accepted(onchain, burn_height)
    if lo > hi:
        return Decision(asset, None, "guard-window", f"{move}; no price passes the guard against both references "
                        "this block can meet: next block", median=m, triggers=triggers)
    if lo <= m <= hi:
        return Decision(asset, m, triggers[0], move, median=m, triggers=triggers)
    step = min(max(m, lo), hi)
    if abs(step - m) * BP <= m * rules.band_bp:
        return Decision(asset, step, "step", f"{move}; the guard accepts [{lo}, {hi}]: step to {step}, "
                        f"{deviation_bp(step, m)} bp from the median (band {rules.band_bp} bp)",
                        median=m, triggers=triggers)
    at = _unblocked_at(m, onchain, burn_height, rules.band_bp)
    wait = (f"waiting: from burn block {at} the guard accepts a price within the band" if at is not None else
            f"beyond oracle.max-gap-deviation-bp ({onchain.guard.max_gap_deviation_bp} bp) plus the band: waiting "
            "cannot help, the parameter must change")
    return Decision(asset, None, "guard-blocks", f"{move}; the guard accepts only [{lo}, {hi}], outside the "
                    f"sources' band; {wait}", GUARD_BLOCKS_TRUE_MOVE, m, triggers, at)


def _references(onchain: OnChain, burn_height: int) -> list[tuple[int, int]]:
    """(reference price, gap) for every burn block the submission may land in that has a reference
    (landing later than the first one only widens the bound, since the gap grows)."""
    assert onchain.price is not None and onchain.height is not None
    if onchain.height < burn_height:
        return [(onchain.price, burn_height - onchain.height)]
    refs = [(onchain.price, 1)]  # it lands in the next block: the latest record is the reference
    if onchain.prev_price is not None and onchain.prev_height is not None:  # it lands in this block
        refs.append((onchain.prev_price, burn_height - onchain.prev_height))
    return refs


def _accepted(onchain: OnChain, burn_height: int) -> tuple[int, int]:
    bounds = [guard_bounds(ref, onchain.guard.allowed_bp(gap)) for ref, gap in _references(onchain, burn_height)]
    return max(b[0] for b in bounds), min(b[1] for b in bounds)


def _unblocked_at(median: int, onchain: OnChain, burn_height: int, band_bp: int) -> int | None:
    """The first burn height at which, with nothing published meanwhile, the guard accepts a price
    within the band of ``median``; None when even the largest allowed move is not enough."""
    assert onchain.price is not None and onchain.height is not None
    # the nearest price of the band; a move to it is what the guard must allow
    edge = median - median * band_bp // BP if median > onchain.price else median + median * band_bp // BP
    g = onchain.guard
    for gap in range(max(burn_height - onchain.height, 1), _cap_gap(g) + 1):
        if deviation_ok(edge, onchain.price, g.allowed_bp(gap)):
            return onchain.height + gap
    return None


def _cap_gap(g: GuardParams) -> int:
    """The gap from which the allowed move stays at its cap."""
    return g.stale_after_blocks * -(-g.max_gap_deviation_bp // g.max_deviation_bp)
