"""Where the keeper learns which expiries are due: ``analytics.expiries`` (the default, built by the transforms
from the indexed chain), or the contracts' read-only functions (``chain``: for a node without an indexer, and the
tests that step a keeper between simulator blocks).

Both give, per due expiry with unsettled policies, the ids, the price heights ``settle-expired`` will accept (NULL
until a valid price exists), and the policies a ``void-policy`` will accept with the hints it needs."""

from __future__ import annotations

from dataclasses import dataclass, field

import asyncpg

from bithedge.protocol.deployment import Deployment
from bithedge.protocol.settlement import no_settlement_price, settlement_price_error
from stacks import clarity
from stacks.rpc import StacksClient

A, U = clarity.StringAscii, clarity.UInt


@dataclass
class DueExpiry:
    expiry: int
    unsettled_ids: list[int]
    btc_price_height: int | None
    stx_price_height: int | None
    voidable_ids: list[int] = field(default_factory=list)
    #: first recorded height at or after the expiry per asset (0: none), the hint void-policy takes
    void_hints: tuple[int, int] = (0, 0)


class AnalyticsExpiries:
    """``analytics.expiries`` (read as ``bithedge_keeper``); the void hints from ``analytics.oracle_prices``."""

    SQL = """
        SELECT e.expiry, e.unsettled_ids, e.btc_price_height, e.stx_price_height,
               coalesce(e.voidable_ids, '{}') AS voidable_ids,
               coalesce((SELECT min(o.burn_height) FROM analytics.oracle_prices o
                         WHERE o.asset = 'BTC' AND o.burn_height >= e.expiry), 0) AS btc_hint,
               coalesce((SELECT min(o.burn_height) FROM analytics.oracle_prices o
                         WHERE o.asset = 'STX' AND o.burn_height >= e.expiry), 0) AS stx_hint
        FROM analytics.expiries e
        WHERE e.due AND e.unsettled > 0
        ORDER BY e.expiry"""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def due(self, burn_height: int) -> list[DueExpiry]:
        rows = await self.pool.fetch(self.SQL)
        return [DueExpiry(r["expiry"], list(r["unsettled_ids"] or []), r["btc_price_height"], r["stx_price_height"],
                          list(r["voidable_ids"]), (r["btc_hint"], r["stx_hint"])) for r in rows]


class ChainExpiries:
    """Reads the registry's paged expiry index once per height as it falls due (no policy can be created for an
    expiry that has passed), then follows the open ids' status and the oracle's records."""

    def __init__(self, client: StacksClient, deployment: Deployment) -> None:
        self.client, self.d = client, deployment
        self.scanned_to = 0  # every height below is in ``open``
        self.open: dict[int, dict[int, dict]] = {}  # expiry -> policy id -> policy (terms never change)
        self.closed: set[int] = set()  # ids the keeper saw settled or voided
        self.records: dict[tuple[str, int], dict | None] = {}  # final oracle records (below the burn tip)

    async def _read(self, contract: str, fn: str, *args):
        return clarity.to_plain(await self.client.call_read(contract, fn, list(args)))

    async def due(self, burn_height: int) -> list[DueExpiry]:
        reg = self.d.registry
        for h in range(self.scanned_to, burn_height):
            count = int(await self._read(reg, "get-expiry-policy-count", U(h)) or 0)
            if count:
                ids = [int(await self._read(reg, "get-expiry-policy", U(h), U(i))) for i in range(count)]
                policies = {i: await self._read(reg, "get-policy", U(i)) for i in ids}
                self.open[h] = {i: p for i, p in policies.items() if p and p["status"] == "active"}
        self.scanned_to = max(self.scanned_to, burn_height)
        out = []
        latest = {a: await self._read(self.d.oracle, "get-latest", A(a)) for a in ("BTC", "STX")}
        for expiry in sorted(self.open):
            policies = self.open[expiry]
            for pid in [p for p in policies if p in self.closed]:
                del policies[pid]
            if not policies:
                del self.open[expiry]
                continue
            delay = min(int(p["price-delay"]) for p in policies.values())
            heights, hints = {}, {}
            for asset in ("BTC", "STX"):
                heights[asset], hints[asset] = await self._settlement_height(asset, expiry, burn_height, delay)
            voidable = []
            for pid, p in policies.items():
                if burn_height <= int(p["void-after"]):
                    continue
                assets = ("BTC",) if p["token"] == "sBTC" else ("BTC", "STX")
                if any(await self._no_price(a, expiry, hints[a], latest[a], burn_height, int(p["price-delay"]))
                       for a in assets):
                    voidable.append(pid)
            out.append(DueExpiry(expiry, sorted(policies), heights["BTC"], heights["STX"], sorted(voidable),
                                 (hints["BTC"], hints["STX"])))
        return out

    async def _settlement_height(self, asset: str, expiry: int, burn_height: int, delay: int) -> tuple[int | None, int]:
        """(the height settle-expired accepts or None, the first recorded height at or after the expiry or 0)."""
        for h in range(expiry, burn_height + 1):
            v = await self._record(asset, h, burn_height)
            if v:
                err = settlement_price_error(expiry, h, int(v["prev-height"]), burn_height, delay)
                return (None if err else h), h
        return None, 0

    async def _no_price(self, asset: str, expiry: int, hint: int, latest, burn_height: int, delay: int) -> bool:
        prev = None
        if hint:
            v = await self._record(asset, hint, burn_height)
            prev = int(v["prev-height"]) if v else None
        return no_settlement_price(expiry, hint, prev, int(latest["height"]) if latest else None, burn_height, delay)

    async def _record(self, asset: str, h: int, burn_height: int) -> dict | None:
        """The oracle record at ``h``; remembered once final (its burn block is over), re-read while not."""
        if (asset, h) in self.records:
            return self.records[(asset, h)]
        v = await self._read(self.d.oracle, "get-price-at", A(asset), U(h))
        if h < burn_height - 1:  # one block of margin: a record may still be replaced within its burn block
            self.records[(asset, h)] = v
        return v

    def forget(self, ids, *, retry: bool = False) -> None:
        """Policies settled or voided (their intents are done) are no longer listed; a retry (the contract refused
        the price heights, e.g. after a fork) drops the remembered oracle records."""
        self.closed.update(ids)
        if retry:
            self.records.clear()
