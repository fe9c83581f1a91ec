"""The oracle path end to end on the simulator's venues (real HTTP on loopback) through sudden moves
(STX -15 %, BTC -11 %): rounds from every venue with its outages, decisions, and every published price
checked against the oracle's guard (`bithedge.protocol`, checked against the Clarity VM by the vector suite) and the
sources' band. The on-chain record is kept as the contract keeps it (latest, its predecessor)."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import aiohttp
from aiohttp import web

from bithedge.protocol.formulas import deviation_ok
from bithedge.simulator.feed import make_app
from bithedge.simulator.market import Feed, Market
from keeper.oracle import OracleConfig, SourceConfig, build_sources, collect_round
from keeper.oracle.publish import GUARD_BLOCKS_TRUE_MOVE, OnChain, PublishRules, decide
from tests.processes import free_port

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


async def test_the_keeper_follows_sudden_moves_and_never_publishes_outside_the_band():
    market = Market(seed=4, p_stress=0.0, p_crash=0.0)
    feed = Feed(market)
    runner = web.AppRunner(make_app(feed, hang_s=10.0), access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    cfg = OracleConfig(tuple(SourceConfig(v, f"http://127.0.0.1:{port}/{v}", 1.0) for v in
                             ("coinbase", "kraken", "bitstamp", "binance", "okx", "pyth", "coingecko")))
    onchain = {"BTC": OnChain(), "STX": OnChain()}
    seen: Counter = Counter()
    try:
        async with aiohttp.ClientSession() as session:
            sources = build_sources(cfg)
            for tick in range(60):
                market.step()
                if tick == 10:
                    market.stx *= 0.85  # more than the guard's 10 % and its band: a wait
                if tick == 36:
                    market.btc *= 0.89  # a step of 10 % lands within the band, then the rest
                now = NOW + 10 * tick
                feed.update(now)
                for st in feed.state.values():
                    st.latency_ms = 1.0
                burn = tick // 2  # two Stacks blocks per burn block, one tick each
                usdt = await collect_round(session, sources, "USDT", cfg, now)
                for asset in ("BTC", "STX"):
                    r = await collect_round(session, sources, asset, cfg, now, usdt=usdt)
                    d = decide(r, onchain[asset], burn, RULES)
                    seen[(asset, d.reason)] += 1
                    seen[(asset, "excluded")] += sum(q.status == "excluded" for q in r.quotes)
                    if d.price is not None:
                        assert abs(d.price - r.median) * 10_000 <= r.median * RULES.band_bp
                        onchain[asset] = land(onchain[asset], d.price, burn)
                    if d.alert == GUARD_BLOCKS_TRUE_MOVE:
                        assert d.unblocked_at is not None and d.unblocked_at > burn
    finally:
        await runner.cleanup()
    assert seen[("STX", "guard-blocks")] >= 1 and seen[("BTC", "step")] >= 1, seen
    assert seen[("BTC", "excluded")] > 0  # the venues' outages and outliers were met and left out
    for asset in ("BTC", "STX"):  # and the on-chain price caught up with the market
        assert abs(onchain[asset].price / (market.prices[asset] * 1e8) - 1) < 0.01, (asset, seen)
