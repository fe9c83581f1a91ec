"""The oracle path end to end on the simulator's venues (real HTTP on loopback) through sudden moves
(STX -15 %, BTC -11 %): rounds from every venue with its outages, decisions, and every published price
checked against the oracle's guard (`bithedge.protocol`, checked against the Clarity VM by the vector suite) and the
sources' band. The on-chain record is kept as the contract keeps it (latest, its predecessor)."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import aiohttp

from bithedge.protocol.formulas import deviation_ok
from bithedge.simulator.feed import make_app
from bithedge.simulator.market import Feed, Market
from keeper.oracle import OracleConfig, SourceConfig, build_sources, collect_round
from keeper.oracle.publish import GUARD_BLOCKS_TRUE_MOVE, OnChain, PublishRules, decide
from tests.processes import loopback_server

NOW = 1_800_000_000.0
RULES = PublishRules()


def land(oc: OnChain, price: int, burn: int) -> OnChain:
    """`submit-price` as the contract records it, after checking its guard."""
    if oc.price is None or oc.height is None:
        return OnChain(price, burn, 1, guard=oc.guard)
    if oc.height == burn:
        ref, gap = (oc.prev_price, burn - oc.prev_height) if oc.prev_price is not None else (None, 0)
        nxt = replace(oc, price=price, updates=oc.updates + 1)
    else:
        ref, gap = oc.price, burn - oc.height
        nxt = OnChain(price, burn, 1, oc.price, oc.height, oc.guard)
    assert ref is None or deviation_ok(price, ref, oc.guard.allowed_bp(gap)), (price, ref, gap)
    assert nxt.updates <= oc.guard.max_updates_per_block
    return nxt


async def follow(market: Market, ticks: int, shocks: dict[int, tuple[str, float]] | None = None):
    """Runs the keeper's oracle path for ``ticks`` ticks (one Stacks block each, two per burn block)
    against the simulator's venues; ``shocks``: tick -> (asset, factor) applied to the market. Returns
    the on-chain state, the decisions' reasons counted per asset, and the last decision per asset."""
    feed = Feed(market)
    async with loopback_server(make_app(feed, hang_s=10.0)) as base, aiohttp.ClientSession() as session:
        cfg = OracleConfig(tuple(SourceConfig(v, f"{base}/{v}", 1.0) for v in
                                 ("coinbase", "kraken", "bitstamp", "binance", "okx", "pyth", "coingecko")))
        onchain = {"BTC": OnChain(), "STX": OnChain()}
        seen: Counter = Counter()
        last = {}
        sources = build_sources(cfg)
        for tick in range(ticks):
            market.step()
            if tick in (shocks or {}):
                asset, factor = shocks[tick]
                setattr(market, asset.lower(), market.prices[asset] * factor)
            now = NOW + 10 * tick
            feed.update(now)
            for st in feed.state.values():
                st.latency_ms = 1.0
            burn = tick // 2
            usdt = await collect_round(session, sources, "USDT", cfg, now)
            for asset in ("BTC", "STX"):
                r = await collect_round(session, sources, asset, cfg, now, usdt=usdt)
                d = last[asset] = decide(r, onchain[asset], burn, RULES)
                seen[(asset, d.reason)] += 1
                seen[(asset, "excluded")] += sum(q.status == "excluded" for q in r.quotes)
                if d.price is not None:
                    assert abs(d.price - r.median) * 10_000 <= r.median * RULES.band_bp
                    onchain[asset] = land(onchain[asset], d.price, burn)
                if d.alert == GUARD_BLOCKS_TRUE_MOVE:
                    assert d.unblocked_at is None or d.unblocked_at > burn
    return onchain, seen, last


async def test_the_keeper_follows_sudden_moves_and_never_publishes_outside_the_band():
    market = Market(seed=4, p_stress=0.0, p_crash=0.0)
    # STX -15 %: beyond the guard's 10 % and its band, a wait; BTC -11 %: a 10 % step lands in the band
    onchain, seen, _ = await follow(market, 60, {10: ("STX", 0.85), 36: ("BTC", 0.89)})
    assert seen[("STX", "guard-blocks")] >= 1 and seen[("BTC", "step")] >= 1, seen
    assert seen[("BTC", "excluded")] > 0  # the venues' outages and outliers were met and left out
    for asset in ("BTC", "STX"):  # and the on-chain price caught up with the market
        assert abs(onchain[asset].price / (market.prices[asset] * 1e8) - 1) < 0.01, (asset, seen)


async def test_a_crash_beyond_the_guard_cap_publishes_nothing_false_and_says_the_parameter_must_change():
    """The simulator's stx-crash (BTC to ~0.22x, STX to ~0.09x in 30 steps): the venues, lagging by
    whole steps, disagree beyond the band (no quorum), and afterwards the move exceeds
    max-gap-deviation-bp plus the band, so no supported price can pass the guard."""
    market = Market(seed=4, p_crash=0.0, crash_at=4, crash_steps=30)
    onchain, seen, last = await follow(market, 44)
    assert seen[("BTC", "no-quorum")] >= 10 and seen[("STX", "no-quorum")] >= 10, seen
    for asset in ("BTC", "STX"):
        assert last[asset].alert == GUARD_BLOCKS_TRUE_MOVE and last[asset].unblocked_at is None
        assert "the parameter must change" in last[asset].detail
        assert onchain[asset].price > 2 * market.prices[asset] * 1e8  # held at its last supported price, far above the market
