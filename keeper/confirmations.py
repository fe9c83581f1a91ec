"""Where the transaction manager learns that a transaction is mined: ``analytics.contract_calls`` (every canonical
call to a BitHedge contract, by txid, built by the transforms from the indexed chain) while the transforms are
current (``analytics.freshness.marts_stacks_height`` at the node's tip: a build older than the tip may predate a
reorg the node has seen), and the node API by txid otherwise, and for STX transfers (nonce fills are no contract
calls) or without transforms.

Read from the canonical flags, a reorg that orphans a confirmed transaction shows as its txid leaving
``contract_calls`` (or moving to another block), whatever the node's mempool says about it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from bithedge import logs
from stacks import clarity

ANALYTICS, NODE = "analytics", "node"


@dataclass(frozen=True)
class Mined:
    """A mined version of a transaction: its status, decoded result and block, and who said so."""

    txid: str
    status: str  # success | abort_by_response | abort_by_post_condition
    result: Any  # the decoded Clarity value
    stacks_height: int | None
    block_hash: str | None  # index block hash, 0x hex
    burn_height: int | None
    source: str  # ANALYTICS or NODE

    @classmethod
    def from_node(cls, txid: str, tx: dict) -> Mined:
        return cls(txid, tx["tx_status"], clarity.decode(bytes.fromhex(tx["tx_result"]["hex"].removeprefix("0x"))),
                   tx.get("block_height"), hex0x(tx.get("index_block_hash")), tx.get("burn_block_height"), NODE)


@dataclass(frozen=True)
class Canonical:
    """One read of ``analytics.contract_calls``: the mined calls among the txids asked for, and the Stacks height
    up to which the marts include every block (so an absent txid at or below it is not canonical)."""

    marts_height: int
    calls: dict[str, Mined] = field(default_factory=dict)

    def covers(self, stacks_height: int | None) -> bool:
        return stacks_height is not None and stacks_height <= self.marts_height

    def find(self, txids) -> Mined | None:
        return next((self.calls[t] for t in txids if t in self.calls), None)


class CanonicalCalls:
    """Reads ``analytics.contract_calls`` (as ``bithedge_keeper``); None while the transforms have not built it."""

    SQL = ("SELECT txid, status, result, stacks_height, index_block_hash, burn_height FROM analytics.contract_calls "
           "WHERE txid = ANY($1::text[])")

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self.log = logs.get("keeper.txs")
        self._missing: str | None = None

    async def read(self, txids: list[str], tip: int) -> Canonical | None:
        """The calls among ``txids``, or None unless the marts include the node's ``tip``."""
        try:
            async with self.pool.acquire() as conn:
                height = await conn.fetchval("SELECT marts_stacks_height FROM analytics.freshness")
                rows = await conn.fetch(self.SQL, txids) if height is not None and height >= tip else []
        except (asyncpg.UndefinedTableError, asyncpg.UndefinedColumnError) as exc:
            if self._missing is None:  # once: until the transforms build it, the node answers alone
                self.log.info("canonical_calls_unavailable", why=str(exc)[:200])
            self._missing = str(exc)
            return None
        self._missing = None
        if height is None or height < tip:
            return None
        return Canonical(int(height), {r["txid"]: _mined(r) for r in rows})


def _mined(r: asyncpg.Record) -> Mined:
    result = r["result"]  # jsonb: text unless the connection has a codec for it
    value = clarity.from_json(json.loads(result) if isinstance(result, str) else result)
    return Mined(r["txid"], r["status"], value, r["stacks_height"], hex0x(r["index_block_hash"]), r["burn_height"],
                 ANALYTICS)


def hex0x(value: str | None) -> str | None:
    return None if value is None else "0x" + value.removeprefix("0x")
