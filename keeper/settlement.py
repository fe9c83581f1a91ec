"""Settlement and voids, exactly once.

Every block, for each due expiry with a valid settlement price, the unsettled ids nobody has claimed yet go out in
``settle-expired`` batches of at most the registry's ``get-max-batch``; policies past their void deadline with no
valid price possible get ``void-policy``. Each batch is an intent (``keeper.intents``, unique on kind, expiry and
ids) stored with its transaction in one database transaction, so a restart resumes and never sends a batch twice.

Per-id results (``contracts/README.md``): ``(ok payout)`` settled; ``406`` already closed (settled or voided by
someone else); ``405`` unknown / ``418`` other expiry: closed with an alert (the source listed a wrong id);
``206`` the price is later than this policy's delay: closed for settlement, the void path takes it once its
deadline passes; ``204``/``205``/``207`` (no price, not the first, not final): released and sent again when the
source shows a valid price. A transaction that aborts, or whose nonce went to another transaction, releases its
intent for a retry; a reorg that orphans it reopens the intent until it confirms again."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import asyncpg

from bithedge import logs
from bithedge.protocol.deployment import Deployment
from bithedge.protocol.errors import OracleError, RegistryError
from bithedge.protocol.formulas import payout_terms
from keeper.expiries import DueExpiry
from keeper.store import Alerts, audit
from keeper.txs import Busy, Intent, TxManager
from stacks import clarity

U = clarity.UInt
RETRY = {int(OracleError.NO_PRICE), int(OracleError.NOT_FIRST_AFTER_EXPIRY), int(OracleError.PRICE_NOT_FINAL)}
WRONG_ID = {int(RegistryError.POLICY_NOT_FOUND), int(RegistryError.WRONG_EXPIRY)}

_CLAIMED_SQL = """
    SELECT unnest(policy_ids) FROM keeper.intents WHERE status = 'sent'
    UNION
    SELECT kv.key::bigint FROM keeper.intents i, jsonb_each(i.results) kv
    WHERE i.status = 'done' AND kv.value ->> 'outcome' <> 'retry'"""


def outcome(item: Any) -> dict:
    """One per-id result of settle-expired as stored in ``keeper.intents.results``."""
    if isinstance(item, clarity.ResponseOk):
        return {"outcome": "settled", "payout": int(item.value.value)}
    code = int(item.value.value)
    if code in RETRY:
        return {"outcome": "retry", "code": code}
    return {"outcome": "closed", "code": code}


class Settler:
    def __init__(self, pool: asyncpg.Pool, txm: TxManager, source, deployment: Deployment, alerts: Alerts, *,
                 settle_lag_blocks: int = 6, verify_payouts: bool = True) -> None:
        self.pool, self.txm, self.source, self.d, self.alerts = pool, txm, source, deployment, alerts
        self.settle_lag_blocks = settle_lag_blocks
        self.verify_payouts = verify_payouts
        self.max_batch: int | None = None
        self.stats: Counter = Counter()
        self.due_unsettled = 0
        self.lag_blocks = 0
        self.log = logs.get("keeper.settlement")
        txm.on_confirmed.update({"settle-expired": self._settled, "void-policy": self._voided})
        txm.on_release.update({"settle-expired": self._release, "void-policy": self._release})
        txm.on_orphaned.update({"settle-expired": self._reopen, "void-policy": self._reopen})

    async def tick(self, burn_height: int, due: list[DueExpiry]) -> None:
        """Acts on ``due`` (``self.source.due(burn_height)``, read once per step by the daemon)."""
        if self.max_batch is None:
            self.max_batch = int(clarity.to_plain(await self.txm.client.call_read(self.d.registry, "get-max-batch")))
        claimed = {r[0] for r in await self.pool.fetch(_CLAIMED_SQL)}
        self.due_unsettled = sum(len(e.unsettled_ids) for e in due)
        self.lag_blocks = max((burn_height - e.expiry for e in due), default=0)
        lagging = {f"expiry {e.expiry}" for e in due}
        for kind, subject in list(self.alerts.open):  # settled since (or before a restart): the alert clears
            if kind == "settlement-lag" and subject not in lagging:
                await self.alerts.resolve(kind, subject)
        try:
            for e in due:
                await self._lag_alert(e, burn_height)
                ids = [i for i in e.unsettled_ids if i not in claimed and i not in e.voidable_ids]
                if ids and e.btc_price_height is not None and e.stx_price_height is not None:
                    for k in range(0, len(ids), self.max_batch):
                        await self._send_settle(e, ids[k:k + self.max_batch])
                for pid in e.voidable_ids:
                    if pid not in claimed:
                        await self._send_void(e, pid)
        except Busy as exc:
            self.log.info("settlement_waits", why=str(exc))

    async def _lag_alert(self, e: DueExpiry, burn_height: int) -> None:
        subject = f"expiry {e.expiry}"
        if burn_height - e.expiry > self.settle_lag_blocks:
            await self.alerts.raise_("settlement-lag", subject, "due policies unsettled beyond the lag threshold",
                                     unsettled=len(e.unsettled_ids), lag_blocks=burn_height - e.expiry,
                                     price_heights=[e.btc_price_height, e.stx_price_height])
        else:
            await self.alerts.resolve("settlement-lag", subject)

    async def _send_settle(self, e: DueExpiry, ids: list[int]) -> None:
        args = [U(e.expiry), U(e.btc_price_height), U(e.stx_price_height), clarity.List([U(i) for i in ids])]
        row = await self.txm.submit("settle-expired", self.d.registry, "settle-expired", args,
                                    intent=Intent("settle", e.expiry, ids, e.btc_price_height, e.stx_price_height))
        if row:
            await audit(self.pool, "decision", signer=self.txm.address, txid=row["txid"], intent_id=row["intent_id"],
                        inputs={"action": "settle", "expiry": e.expiry, "policy_ids": ids,
                                "btc_price_height": e.btc_price_height, "stx_price_height": e.stx_price_height})

    async def _send_void(self, e: DueExpiry, pid: int) -> None:
        hb, hs = e.void_hints
        row = await self.txm.submit("void-policy", self.d.registry, "void-policy", [U(pid), U(hb), U(hs)],
                                    intent=Intent("void", e.expiry, [pid], hb, hs))
        if row:
            await audit(self.pool, "decision", signer=self.txm.address, txid=row["txid"], intent_id=row["intent_id"],
                        inputs={"action": "void", "expiry": e.expiry, "policy_ids": [pid], "hints": [hb, hs]})

    # ---- results -----------------------------------------------------------------------------------------
    async def _intent(self, row: dict) -> dict | None:
        if row.get("intent_id") is None:
            return None
        r = await self.pool.fetchrow("SELECT * FROM keeper.intents WHERE id = $1", row["intent_id"])
        return dict(r) if r else None

    async def _finish(self, intent: dict, status: str, results: dict, txid: str, tx_status: str) -> None:
        closed = [int(p) for p, r in results.items() if r["outcome"] != "retry"]
        if hasattr(self.source, "forget"):
            self.source.forget(closed, retry=len(closed) < len(results) or status == "retry")
        await self.pool.execute("UPDATE keeper.intents SET status = $2, results = $3, updated_at = now() WHERE id = $1",
                                intent["id"], status, json.dumps(results))
        await audit(self.pool, "result", signer=self.txm.address, txid=txid, intent_id=intent["id"],
                    inputs={"kind": intent["kind"], "expiry": intent["expiry"], "results": results},
                    outcome=f"{tx_status}:{status}")

    async def _settled(self, row: dict, tx_status: str, result: Any) -> None:
        intent = await self._intent(row)
        if intent is None:
            return
        if tx_status != "success" or not isinstance(result, clarity.ResponseOk):
            self.stats[f"tx:{tx_status}"] += 1
            await self._finish(intent, "retry", {}, row["txid"], tx_status)
            return
        results = {str(pid): outcome(item) for pid, item in zip(intent["policy_ids"], result.value.items, strict=True)}
        for pid, r in results.items():
            self.stats[f"item:{r['outcome']}"] += 1
            if r["outcome"] == "settled":
                self.stats["policies_settled"] += 1
                self.stats["settled_itm" if r["payout"] > 0 else "settled_otm"] += 1
                if self.verify_payouts:
                    await self._verify(int(pid))
            elif r.get("code") in WRONG_ID:
                await self.alerts.raise_("settle-item", f"policy {pid}", "settle-expired refused the id",
                                         code=r["code"], expiry=intent["expiry"])
        retry = [p for p, r in results.items() if r["outcome"] == "retry"]
        await self._finish(intent, "retry" if len(retry) == len(results) else "done", results, row["txid"], tx_status)

    async def _voided(self, row: dict, tx_status: str, result: Any) -> None:
        intent = await self._intent(row)
        if intent is None:
            return
        pid = str(intent["policy_ids"][0])
        if tx_status == "success":
            self.stats["policies_voided"] += 1
            await self._finish(intent, "done", {pid: {"outcome": "voided"}}, row["txid"], tx_status)
            return
        code = _err_code(result)
        done = code == int(RegistryError.ALREADY_SETTLED)  # closed by someone else meanwhile
        await self._finish(intent, "done" if done else "retry", {pid: {"outcome": "closed" if done else "retry",
                                                                      "code": code}}, row["txid"], tx_status)

    async def _verify(self, pid: int) -> None:
        """The chain's payout against the Python formula, and the shortfall the fund covered."""
        p = clarity.to_plain(await self.txm.client.call_read(self.d.registry, "get-policy", [U(pid)]))
        if not p or not str(p["status"]).startswith("settled") or not int(p["settlement-price"]):
            # the chain at the tip no longer shows the settlement the transaction's result reported: a reorg
            # between the two reads (the reorg check reopens the intent); nothing to compare with
            self.stats["verify:not-settled-at-tip"] += 1
            self.log.info("payout_unverified", policy_id=pid, status=p["status"] if p else None)
            return
        terms = payout_terms(p["token"], int(p["strike"]), int(p["amount"]), int(p["settlement-price"]),
                             int(p["settlement-collateral-price"]), int(p["collateral"]))
        if terms.payout != int(p["payout"]):
            self.stats["mismatch:payout"] += 1
            await self.alerts.raise_("payout-mismatch", f"policy {pid}", "chain payout differs from payout_terms",
                                     chain=int(p["payout"]), python=terms.payout)
        if terms.shortfall:
            cover = int(p["fund-cover"])
            self.stats["shortfalls"] += 1
            self.stats[f"shortfall:{p['token']}"] += terms.shortfall
            self.stats[f"fund_cover:{p['token']}"] += cover
            if cover > terms.shortfall:
                self.stats["mismatch:cover"] += 1

    async def _release(self, row: dict, why: str) -> None:
        if row.get("intent_id") is not None:
            await self.pool.execute("UPDATE keeper.intents SET status = 'retry', updated_at = now() WHERE id = $1",
                                    row["intent_id"])
            await audit(self.pool, "intent-released", txid=row["txid"], intent_id=row["intent_id"], outcome=why)

    async def _reopen(self, row: dict, why: str) -> None:
        if row.get("intent_id") is not None:
            await self.pool.execute("UPDATE keeper.intents SET status = 'sent', results = NULL, updated_at = now() "
                                    "WHERE id = $1", row["intent_id"])
            await audit(self.pool, "intent-reopened", txid=row["txid"], intent_id=row["intent_id"], outcome=why)


def _err_code(result: Any) -> int | None:
    if isinstance(result, clarity.ResponseErr) and isinstance(result.value, clarity.UInt):
        return int(result.value.value)
    return None
