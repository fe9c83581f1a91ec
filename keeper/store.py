"""The keeper's writes outside the transaction ledger: the append-only audit trail and alerts.

An alert is one open row per (kind, subject): raising it again only refreshes ``last_seen_at``, and the
warning log line is written when it opens; :meth:`Alerts.resolve` closes it once the condition clears."""

from __future__ import annotations

import json
from typing import Any

import asyncpg

from bithedge import logs


def _json(value: Any) -> str:
    return json.dumps(value, default=str, sort_keys=True)


async def audit(conn: asyncpg.Connection | asyncpg.Pool, kind: str, *, signer: str | None = None,
                txid: str | None = None, intent_id: int | None = None, inputs: dict | None = None,
                outcome: str | None = None) -> None:
    await conn.execute(
        "INSERT INTO keeper.audit (kind, signer, txid, intent_id, inputs, outcome) VALUES ($1, $2, $3, $4, $5, $6)",
        kind, signer, txid, intent_id, _json(inputs or {}), outcome)


class Alerts:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self.log = logs.get("keeper")
        self.open: set[tuple[str, str]] = set()

    async def raise_(self, kind: str, subject: str, message: str, **details: Any) -> None:
        new = await self.pool.fetchval(
            "INSERT INTO keeper.alerts (kind, subject, message, details) VALUES ($1, $2, $3, $4) "
            "ON CONFLICT (kind, subject) WHERE resolved_at IS NULL "
            "DO UPDATE SET last_seen_at = now(), message = EXCLUDED.message, details = EXCLUDED.details "
            "RETURNING xmax = 0", kind, subject, message, _json(details))
        self.open.add((kind, subject))
        if new:
            self.log.warning("alert", kind=kind, subject=subject, message=message, **details)

    async def resolve(self, kind: str, subject: str) -> None:
        if (kind, subject) not in self.open:
            return
        self.open.discard((kind, subject))
        await self.pool.execute("UPDATE keeper.alerts SET resolved_at = now() WHERE kind = $1 AND subject = $2 "
                                "AND resolved_at IS NULL", kind, subject)
        self.log.info("alert_resolved", kind=kind, subject=subject)

    async def load(self) -> None:
        """The alerts left open by an earlier run (so they can be resolved)."""
        self.open = {(r["kind"], r["subject"]) for r in await self.pool.fetch(
            "SELECT kind, subject FROM keeper.alerts WHERE resolved_at IS NULL")}
