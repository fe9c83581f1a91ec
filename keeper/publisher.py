"""Oracle publishing: each block, per asset, one price round from the sources (``keeper.oracle``), stored in
``keeper.price_rounds`` with every source quote; the publishing decision (``keeper.oracle.publish.decide``, pure)
is applied through the transaction manager and audited; the alerts it implies (quorum lost, oracle stale beyond
the heartbeat, the guard blocking a true move) are raised and resolved."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, is_dataclass
from typing import Any

import asyncpg

from bithedge import logs
from bithedge.protocol.deployment import Deployment
from keeper.store import Alerts, audit
from keeper.txs import Busy, TxManager
from stacks import clarity

A, U = clarity.StringAscii, clarity.UInt
ASSETS = ("BTC", "STX")

#: collect(asset) -> a ``keeper.oracle.Round``
Collect = Callable[[str], Awaitable[Any]]


@dataclass(frozen=True)
class OnChain:
    """The oracle's latest record of an asset and, for the guard, the parameters that bound the next price."""

    price: int | None
    height: int | None
    #: the reference the guard compares with (latest record of an earlier burn block) and its height
    reference_price: int | None
    reference_height: int | None
    updates_this_block: int
    max_deviation_bp: int
    stale_after_blocks: int
    max_gap_deviation_bp: int
    max_updates_per_block: int


def _quote_json(q: Any) -> dict:
    d = asdict(q) if is_dataclass(q) else dict(vars(q))
    return {k: (v if isinstance(v, (int, float, str, bool, type(None), list, dict)) else str(v)) for k, v in d.items()}


class Publisher:
    def __init__(self, pool: asyncpg.Pool, txm: TxManager, collect: Collect, decide: Callable, rules: Any,
                 deployment: Deployment, alerts: Alerts) -> None:
        self.pool, self.txm, self.collect, self.decide, self.rules = pool, txm, collect, decide, rules
        self.d, self.alerts = deployment, alerts
        self.stats: Counter = Counter()
        self.last_rounds: dict[str, Any] = {}
        self.onchain: dict[str, OnChain] = {}
        self.decision_seconds = 0.0
        self.node_seconds = 0.0
        self.log = logs.get("keeper.oracle")

    async def _read(self, fn: str, *args):
        return clarity.to_plain(await self.txm.client.call_read(self.d.oracle, fn, list(args)))

    async def read_onchain(self, asset: str, burn_height: int) -> OnChain:
        params = self.d.parameters

        async def param(key: str) -> int:
            v = clarity.to_plain(await self.txm.client.call_read(params, "get-param", [A(f"oracle.{key}")]))
            return int(v.get("ok", 0) if isinstance(v, dict) else v or 0)

        latest = await self._read("get-latest", A(asset))
        price = height = ref_price = ref_height = None
        updates = 0
        if latest:
            price, height = int(latest["price"]), int(latest["height"])
            ref_price, ref_height = price, height
            if height >= burn_height:  # a record of this burn block: its predecessor is the guard's reference
                record = await self._read("get-price-at", A(asset), U(height))
                updates = int(record["updates"])
                before = await self._read("get-price-at", A(asset), U(int(record["prev-height"])))
                ref_price, ref_height = (int(before["price"]), int(record["prev-height"])) if before else (None, None)
        return OnChain(price, height, ref_price, ref_height, updates, await param("max-deviation-bp"),
                       await param("stale-after-blocks"), await param("max-gap-deviation-bp"),
                       await param("max-updates-per-block"))

    async def tick(self, burn_height: int, stacks_height: int, pending_expiries: list[int]) -> None:
        self.decision_seconds = self.node_seconds = 0.0
        for asset in ASSETS:
            try:
                await self._asset(asset, burn_height, stacks_height, pending_expiries)
            except Busy as exc:
                self.log.info("publish_waits", asset=asset, why=str(exc))

    async def _asset(self, asset: str, burn_height: int, stacks_height: int, pending_expiries: list[int]) -> None:
        t0 = time.perf_counter()
        rnd = await self.collect(asset)
        t1 = time.perf_counter()
        onchain = await self.read_onchain(asset, burn_height)
        t2 = time.perf_counter()
        decision = self.decide(rnd, onchain, burn_height, self.rules_for(pending_expiries))
        t3 = time.perf_counter()
        self.node_seconds += t2 - t1
        self.decision_seconds += (t1 - t0) + (t3 - t2)
        self.last_rounds[asset], self.onchain[asset] = rnd, onchain
        quotes = [_quote_json(q) for q in rnd.quotes]
        await self._alerts(asset, rnd, onchain, decision, burn_height)
        txid = None
        verdict = decision_kind(decision)
        if decision.publish:
            row = await self.txm.submit("submit-price", self.d.oracle, "submit-price", [A(asset), U(decision.price)])
            txid = row["txid"] if row else None
            verdict = "publish" if row else "dry-run"
            self.stats[f"publish:{asset}"] += 1
        await self.pool.execute(
            "INSERT INTO keeper.price_rounds (asset, at, burn_height, stacks_height, median, quorum, reason, quotes, "
            "onchain_price, onchain_height, decision, decision_reason, published_price, txid) "
            "VALUES ($1, to_timestamp($2), $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
            asset, float(rnd.at), burn_height, stacks_height, rnd.median, bool(rnd.quorum), rnd.reason,
            json.dumps(quotes, default=str), onchain.price, onchain.height, verdict, decision.reason,
            decision.price if decision.publish else None, txid)
        await audit(self.pool, "decision", signer=self.txm.address, txid=txid,
                    inputs={"action": "publish", "asset": asset, "median": rnd.median, "quorum": rnd.quorum,
                            "quotes": [{k: q.get(k) for k in ("source", "price_usd", "status", "reason")}
                                       for q in quotes],
                            "onchain": [onchain.price, onchain.height], "burn_height": burn_height},
                    outcome=f"{verdict}: {decision.reason}")

    def rules_for(self, pending_expiries: list[int]):
        return self.rules(pending_expiries) if callable(self.rules) else self.rules

    async def _alerts(self, asset: str, rnd: Any, onchain: OnChain, decision: Any, burn_height: int) -> None:
        if not rnd.quorum:
            await self.alerts.raise_("quorum-lost", asset, f"no quorum of price sources for {asset}",
                                     reason=rnd.reason)
        else:
            await self.alerts.resolve("quorum-lost", asset)
        heartbeat = getattr(self.rules_for([]), "heartbeat_blocks", None)
        age = None if onchain.height is None else burn_height - onchain.height
        if heartbeat is not None and (age is None or age > heartbeat) and not decision.publish:
            await self.alerts.raise_("oracle-stale", asset, f"on-chain {asset} price older than the heartbeat",
                                     age_blocks=age, heartbeat_blocks=heartbeat)
        else:
            await self.alerts.resolve("oracle-stale", asset)
        if decision_kind(decision) == "blocked":
            await self.alerts.raise_("guard-blocks", asset, "the oracle guard refuses the sources' price",
                                     median=rnd.median, onchain=onchain.price, reason=decision.reason)
        else:
            await self.alerts.resolve("guard-blocks", asset)


def decision_kind(decision: Any) -> str:
    return "publish" if decision.publish else ("blocked" if getattr(decision, "blocked", False) else "hold")
