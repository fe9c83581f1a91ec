"""Oracle publishing: each block, per asset, one price round from the sources (``keeper.oracle``), stored in
``keeper.price_rounds`` with every source quote; the publishing decision (``keeper.oracle.publish.decide``, pure)
is applied through the transaction manager and audited; the alerts it implies (quorum lost, oracle stale beyond
the heartbeat, the guard blocking a true move) are raised and resolved."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import asdict, is_dataclass
from typing import Any

import asyncpg

from bithedge import logs
from bithedge.protocol.deployment import Deployment
from keeper.oracle.publish import (
    GUARD_BLOCKS_TRUE_MOVE,
    QUORUM_LOST,
    GuardParams,
    OnChain,
    PublishRules,
    decide,
)
from keeper.store import Alerts, audit
from keeper.txs import Busy, TxManager
from stacks import clarity

A, U = clarity.StringAscii, clarity.UInt
ASSETS = ("BTC", "STX")
GUARD_REFRESH_S = 30.0

#: collect(asset) -> a ``keeper.oracle.Round``
Collect = Callable[[str], Awaitable[Any]]


def _quote_json(q: Any) -> dict:
    d = asdict(q) if is_dataclass(q) else dict(vars(q))
    return {k: (v if isinstance(v, (int, float, str, bool, type(None), list, dict)) else str(v)) for k, v in d.items()}


class Publisher:
    def __init__(self, pool: asyncpg.Pool, txm: TxManager, collect: Collect, rules: PublishRules,
                 deployment: Deployment, alerts: Alerts) -> None:
        self.pool, self.txm, self.collect, self.rules = pool, txm, collect, rules
        self.d, self.alerts = deployment, alerts
        self.stats: Counter = Counter()
        self.last_rounds: dict[str, Any] = {}
        self.onchain: dict[str, OnChain] = {}
        self.decision_seconds = 0.0
        self.node_seconds = 0.0
        self._guard: tuple[float, GuardParams] | None = None
        self.log = logs.get("keeper.oracle")

    async def _read(self, fn: str, *args):
        return clarity.to_plain(await self.txm.client.call_read(self.d.oracle, fn, list(args)))

    async def guard_params(self) -> GuardParams:
        """The guard's parameters, read again every ``GUARD_REFRESH_S`` (only governance or the admin change them)."""
        if self._guard is None or time.monotonic() - self._guard[0] > GUARD_REFRESH_S:
            params = {}
            for key in GuardParams.KEYS:
                v = clarity.to_plain(await self.txm.client.call_read(self.d.parameters, "get-param", [A(key)]))
                params[key] = int(v.get("ok", 0) if isinstance(v, dict) else v or 0)
            self._guard = (time.monotonic(), GuardParams.from_params(params))
        return self._guard[1]

    async def read_onchain(self, asset: str) -> OnChain:
        """The oracle's latest record of ``asset``, the record it links to, and the guard's parameters."""
        guard = await self.guard_params()
        latest = await self._read("get-latest", A(asset))
        if not latest:
            return OnChain(guard=guard)
        height = int(latest["height"])
        record = await self._read("get-price-at", A(asset), U(height))
        prev_height = int(record["prev-height"])
        before = await self._read("get-price-at", A(asset), U(prev_height)) if prev_height else None
        return OnChain(int(latest["price"]), height, int(record["updates"]),
                       int(before["price"]) if before else None, prev_height if before else None, guard)

    async def tick(self, burn_height: int, stacks_height: int, pending_expiries: list[int]) -> None:
        self.decision_seconds = self.node_seconds = 0.0
        for asset in ASSETS:
            try:
                await self._asset(asset, burn_height, stacks_height, pending_expiries)
            except Busy as exc:
                self.log.info("publish_waits", asset=asset, why=str(exc))

    async def _in_flight(self, asset: str) -> bool:
        """A submit-price of ours for ``asset`` not confirmed yet: decide() is called only without one."""
        return bool(await self.pool.fetchval(
            "SELECT count(*) FROM keeper.transactions WHERE address = $1 AND kind = 'submit-price' "
            "AND status IN ('signed', 'pending') AND function_args -> 0 ->> 'value' = $2", self.txm.address, asset))

    async def _asset(self, asset: str, burn_height: int, stacks_height: int, pending_expiries: list[int]) -> None:
        t0 = time.perf_counter()
        rnd = await self.collect(asset)
        t1 = time.perf_counter()
        onchain = await self.read_onchain(asset)
        in_flight = await self._in_flight(asset)
        t2 = time.perf_counter()
        decision = decide(rnd, onchain, burn_height, self.rules, pending_expiries)
        t3 = time.perf_counter()
        self.node_seconds += t2 - t1
        self.decision_seconds += (t1 - t0) + (t3 - t2)
        self.last_rounds[asset], self.onchain[asset] = rnd, onchain
        quotes = [_quote_json(q) for q in rnd.quotes]
        await self._alerts(asset, rnd, onchain, decision, burn_height, in_flight)
        txid, verdict = None, "hold"
        if decision.price is not None and in_flight:
            verdict = "in-flight"
        elif decision.price is not None:
            row = await self.txm.submit("submit-price", self.d.oracle, "submit-price", [A(asset), U(decision.price)])
            txid = row["txid"] if row else None
            verdict = "publish" if row else "dry-run"
            self.stats[f"publish:{asset}"] += 1
        await self.pool.execute(
            "INSERT INTO keeper.price_rounds (asset, at, burn_height, stacks_height, median, quorum, reason, quotes, "
            "onchain_price, onchain_height, decision, decision_reason, published_price, txid) "
            "VALUES ($1, to_timestamp($2), $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
            asset, float(rnd.at), burn_height, stacks_height, rnd.median, bool(rnd.quorum), rnd.reason,
            json.dumps(quotes, default=str), onchain.price, onchain.height, verdict,
            f"{decision.reason}: {decision.detail}", decision.price if txid else None, txid)
        await audit(self.pool, "decision", signer=self.txm.address, txid=txid,
                    inputs={"action": "publish", "asset": asset, "median": rnd.median, "quorum": rnd.quorum,
                            "quotes": [{k: q.get(k) for k in ("source", "price_usd", "status", "reason")}
                                       for q in quotes],
                            "onchain": [onchain.price, onchain.height], "burn_height": burn_height,
                            "price": decision.price, "triggers": list(decision.triggers)},
                    outcome=f"{verdict}: {decision.reason}: {decision.detail}")

    async def _alerts(self, asset: str, rnd: Any, onchain: OnChain, decision: Any, burn_height: int,
                      in_flight: bool) -> None:
        for kind in (QUORUM_LOST, GUARD_BLOCKS_TRUE_MOVE):
            if decision.alert == kind:
                await self.alerts.raise_(kind, asset, decision.detail, median=decision.median, onchain=onchain.price)
            else:
                await self.alerts.resolve(kind, asset)
        age = None if onchain.height is None else burn_height - onchain.height
        stale = age is None or age > self.rules.heartbeat_blocks
        if stale and decision.price is None and not in_flight:
            await self.alerts.raise_("oracle-stale", asset, f"on-chain {asset} price older than the heartbeat",
                                     age_blocks=age, heartbeat_blocks=self.rules.heartbeat_blocks)
        else:
            await self.alerts.resolve("oracle-stale", asset)


