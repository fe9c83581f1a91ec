"""Transaction manager: one Postgres-backed nonce ledger per signer, usable by any backend signer.

The discipline (pymaker / auction-keeper's): the ledger, not the node, hands out nonces, so two transactions
never share one; it is seeded from the node and reconciled with it on start (and after a database restore)
before anything is sent. Every transaction is signed and stored (``keeper.transactions``, unique
``(address, nonce)``) before it is broadcast, so a crash at any point leaves it tracked: a restart broadcasts
what was signed and follows what was sent.

Each :meth:`TxManager.poll` (once per Stacks block) follows every open transaction by txid, never by a rejection
message (``ConflictingNonceInMempool`` can mean the node already has it): in ``analytics.contract_calls`` (the
canonical calls, ``keeper.confirmations``) for the heights the transforms include, on the node for the rest:

- mined → ``confirmed`` with its status and result; the kind's handler reads the result;
- pending for ``bump_after_blocks`` → re-signed at the same nonce with the fee × 1.125 (replace-by-fee),
  capped by ``max_fee`` and by ``max_spend_per_hour`` of committed fees; pending for ``stuck_blocks`` → alert;
- unknown to the node (dropped, pruned, lost in a node restart) → the same signed bytes are broadcast again,
  unless the node's confirmed nonce is past it: then another transaction used the nonce (``superseded``);
- a confirmed transaction no longer canonical within ``reorg_depth`` blocks (a reorg orphaned it: its txid left
  ``analytics.contract_calls`` or moved to another block, or the node's block at its height changed) → back to
  pending and broadcast again; one re-mined in another block has its result read again.

Node rejections: ``BadNonce`` resyncs (a lower expected nonce is a gap: the ledger's transactions below are sent
again, and a nonce nobody holds is filled with a 1 µSTX transfer), ``TooMuchChaining`` waits (and the ledger keeps
at most ``max_in_flight`` unconfirmed, default 20 of the node's 25), ``NotEnoughFunds`` alerts and pauses the
signer until its balance is back above ``min_balance``, ``FeeTooLow`` re-signs at the fee asked; a transaction
the node will never accept (e.g. a bad argument) gives its nonce to a fill transfer so nothing stalls behind it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg

from bithedge import logs
from keeper.confirmations import ANALYTICS, NODE, Canonical, CanonicalCalls, Mined, hex0x
from keeper.keys import Signer
from keeper.store import Alerts, audit
from stacks import clarity
from stacks.address import c32_address
from stacks.rpc import (
    BadNonce,
    ConflictingNonceInMempool,
    FeeTooLow,
    NotEnoughFunds,
    RpcError,
    StacksClient,
    TooMuchChaining,
    TransactionRejected,
)
from stacks.transaction import PostConditionMode, make_contract_call, make_token_transfer

#: fee bump: ×1.125 (the smallest replace-by-fee step stacks-node and the devnet accept is any increase)
BUMP_NUM, BUMP_DEN = 9, 8
#: recipient of nonce-fill transfers: the all-zero hash160 (nobody holds its key)
FILL_SINK = c32_address(26, bytes(20))
OPEN = ("signed", "pending")


class Busy(Exception):
    """Nothing can be sent for this signer now (in-flight limit, spend cap, paused); try again later."""


@dataclass
class TxConfig:
    max_in_flight: int = 20
    fee: int = 3000
    max_fee: int = 1_000_000
    max_spend_per_hour: int = 100_000_000
    bump_after_blocks: int = 3
    stuck_blocks: int = 10
    reorg_depth: int = 10
    min_balance: int = 10_000_000
    dry_run: bool = False


@dataclass
class Intent:
    """What a settlement transaction carries; stored with it in one database transaction (exactly once)."""

    kind: str
    expiry: int
    policy_ids: list[int]
    btc_price_height: int | None = None
    stx_price_height: int | None = None


#: handler(row, tx_status, result) for a mined transaction; release(row, why) when its nonce went to another tx
Handler = Callable[[dict, str, Any], Awaitable[None]]
Release = Callable[[dict, str], Awaitable[None]]


@dataclass
class SignerState:
    balance: int | None = None
    confirmed_nonce: int | None = None
    node_next_nonce: int | None = None
    pending: int = 0
    oldest_pending_blocks: int = 0
    bumps: int = 0
    paused: bool = False


class TxManager:
    def __init__(self, pool: asyncpg.Pool, client: StacksClient, signer: Signer, cfg: TxConfig, alerts: Alerts,
                 *, on_confirmed: dict[str, Handler] | None = None, on_release: dict[str, Release] | None = None,
                 on_orphaned: dict[str, Release] | None = None, canonical: CanonicalCalls | None = None) -> None:
        self.pool, self.client, self.signer, self.cfg, self.alerts = pool, client, signer, cfg, alerts
        self.canonical = canonical  # None: the node API alone
        self.address = signer.address
        self.on_confirmed = on_confirmed or {}
        self.on_release = on_release or {}
        self.on_orphaned = on_orphaned or {}
        self.state = SignerState()
        self.reconciled = False
        self.tip = 0
        self.log = logs.get("keeper.txs").bind(signer=signer.address, role=signer.role)

    # ---- the ledger ------------------------------------------------------------------------------------
    async def reconcile(self) -> None:
        """Seed or re-align the ledger with the node before sending: the next nonce is past both what the
        ledger handed out and what the node has seen (confirmed or in its mempool)."""
        nonces = await self.client.nonces(self.address)
        account = await self.client.account(self.address)
        node_next = int(nonces["possible_next_nonce"])
        async with self.pool.acquire() as conn, conn.transaction():
            top = await conn.fetchval("SELECT max(nonce) FROM keeper.transactions WHERE address = $1", self.address)
            ledger_next = -1 if top is None else top + 1
            nxt = max(node_next, ledger_next)
            await conn.execute(
                "INSERT INTO keeper.signers (address, label, next_nonce, node_nonce, reconciled_at, balance) "
                "VALUES ($1, $2, $3, $4, now(), $5) ON CONFLICT (address) DO UPDATE SET next_nonce = $3, "
                "node_nonce = $4, reconciled_at = now(), balance = $5, updated_at = now()",
                self.address, self.signer.role, nxt, node_next, account.balance)
            if ledger_next >= 0 and node_next > ledger_next:  # sent with this key elsewhere, or an old backup
                await audit(conn, "nonce-adopted", signer=self.address,
                            inputs={"ledger_next": ledger_next, "node_next": node_next})
            paused = await conn.fetchval("SELECT paused FROM keeper.signers WHERE address = $1", self.address)
        self.state.paused = bool(paused)
        self.state.balance, self.state.confirmed_nonce, self.state.node_next_nonce = account.balance, account.nonce, node_next
        self.reconciled = True
        self.log.info("ledger_reconciled", next_nonce=nxt, node_next_nonce=node_next, ledger_next_nonce=ledger_next)

    async def submit(self, kind: str, contract_id: str, function: str, args: list, *,
                     intent: Intent | None = None) -> dict | None:
        """Sign at the next ledger nonce, store, broadcast. With an ``intent``, it is stored in the same database
        transaction, and nothing is sent (None) when that intent is already in flight or done. Raises
        :class:`Busy` when the signer cannot send now."""
        if not self.reconciled:
            raise Busy("ledger not reconciled with the node yet")
        if self.cfg.dry_run:
            self.log.info("dry_run_would_send", kind=kind, function=function, args=[clarity.to_repr(a) for a in args])
            return None
        async with self.pool.acquire() as conn, conn.transaction():
            signer = await conn.fetchrow("SELECT next_nonce, paused FROM keeper.signers WHERE address = $1 FOR UPDATE",
                                         self.address)
            if signer["paused"]:
                raise Busy("signer paused (not enough funds)")
            inflight = await conn.fetchval("SELECT count(*) FROM keeper.transactions WHERE address = $1 AND "
                                           "status = ANY($2)", self.address, list(OPEN))
            if inflight >= self.cfg.max_in_flight:
                raise Busy(f"{inflight} transactions in flight (limit {self.cfg.max_in_flight})")
            await self._check_spend(conn, self.cfg.fee)
            intent_id = None
            if intent is not None:
                intent_id = await conn.fetchval(
                    "INSERT INTO keeper.intents (kind, expiry, policy_ids, btc_price_height, stx_price_height, status) "
                    "VALUES ($1, $2, $3, $4, $5, 'sent') ON CONFLICT (kind, expiry, policy_ids) DO UPDATE SET "
                    "status = 'sent', attempts = keeper.intents.attempts + 1, results = NULL, "
                    "btc_price_height = EXCLUDED.btc_price_height, stx_price_height = EXCLUDED.stx_price_height, "
                    "updated_at = now() WHERE keeper.intents.status = 'retry' RETURNING id",
                    intent.kind, intent.expiry, intent.policy_ids, intent.btc_price_height, intent.stx_price_height)
                if intent_id is None:
                    return None
            nonce = signer["next_nonce"]
            tx = self._sign(contract_id, function, args, nonce, self.cfg.fee)
            row = await conn.fetchrow(
                "INSERT INTO keeper.transactions (address, nonce, kind, intent_id, contract_id, function_name, "
                "function_args, fee, txid, raw_tx, status) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'signed') "
                "RETURNING *", self.address, nonce, kind, intent_id, contract_id, function,
                json.dumps([clarity.to_json(a) for a in args]), self.cfg.fee, "0x" + tx.txid, tx.serialize())
            await conn.execute("UPDATE keeper.signers SET next_nonce = $2, updated_at = now() WHERE address = $1",
                               self.address, nonce + 1)
            await audit(conn, "sign", signer=self.address, txid=row["txid"], intent_id=intent_id,
                        inputs={"kind": kind, "nonce": nonce, "fee": self.cfg.fee, "function": function,
                                "args": [clarity.to_repr(a) for a in args]})
        row = dict(row)
        await self._broadcast(row)
        return row

    def _sign(self, contract_id: str | None, function: str | None, args: list, nonce: int, fee: int):
        if contract_id is None:  # a nonce fill
            return make_token_transfer(recipient=FILL_SINK, amount=1, sender_key=self.signer.key, nonce=nonce, fee=fee,
                                       mainnet=False, post_condition_mode=PostConditionMode.ALLOW)
        # settlement pays out of the vault and the fund: those transfers are the contracts', not the signer's
        return make_contract_call(contract=contract_id, function_name=function, function_args=args,
                                  sender_key=self.signer.key, nonce=nonce, fee=fee, mainnet=False,
                                  post_condition_mode=PostConditionMode.ALLOW)

    async def _check_spend(self, conn: asyncpg.Connection, extra: int) -> None:
        spent = await conn.fetchval(
            "SELECT coalesce(sum(fee), 0) FROM keeper.transactions WHERE address = $1 "
            "AND coalesce(broadcast_at, created_at) > now() - interval '1 hour'", self.address)
        if spent + extra > self.cfg.max_spend_per_hour:
            await self.alerts.raise_("spend-cap", self.address, "fees committed in the last hour reach the cap",
                                     spent=int(spent), cap=self.cfg.max_spend_per_hour)
            raise Busy(f"spend cap: {spent} µSTX committed in the last hour")

    # ---- broadcasting ----------------------------------------------------------------------------------
    async def _set(self, row: dict, **cols: Any) -> None:
        sets = ", ".join(f"{k} = ${i + 2}" for i, k in enumerate(cols))
        await self.pool.execute(f"UPDATE keeper.transactions SET {sets} WHERE id = $1", row["id"], *cols.values())
        row.update(cols)

    async def _broadcast(self, row: dict) -> None:
        try:
            await self.client.broadcast(bytes(row["raw_tx"]))
        except ConflictingNonceInMempool:
            # the node holds a transaction at this nonce: ours (sent before a crash) or an earlier fee version
            await self._mark_sent(row, "ConflictingNonceInMempool")
        except BadNonce as exc:
            expected = exc.expected
            await self._set(row, error="BadNonce")
            if expected is not None and expected < row["nonce"]:
                await self._fill_gap(expected, row["nonce"])
            elif row["status"] == "signed":  # the nonce is used: poll finds out by txid by whom
                await self._set(row, status="pending")
        except TooMuchChaining:
            await self._set(row, error="TooMuchChaining")
        except NotEnoughFunds:
            await self._set(row, error="NotEnoughFunds")
            await self._pause("not enough funds for fee")
        except FeeTooLow as exc:
            await self._resign(row, max(int(exc.expected or 0), _bumped(row["fee"])), "FeeTooLow")
        except TransactionRejected as exc:
            # never valid (bad argument, unknown function, ...): its nonce goes to a fill transfer
            self.log.error("tx_rejected", txid=row["txid"], nonce=row["nonce"], reason=exc.reason)
            await self._replace_with_fill(row, exc.reason)
        except RpcError as exc:
            self.log.warning("broadcast_failed", txid=row["txid"], error=str(exc)[:200])
        else:
            await self._mark_sent(row, None)

    async def _mark_sent(self, row: dict, error: str | None) -> None:
        first = row.get("first_sent_stacks_height") or self.tip
        await self._set(row, status="pending", error=error, sent_stacks_height=self.tip, first_sent_stacks_height=first,
                        broadcast_at=_now())
        await audit(self.pool, "broadcast", signer=self.address, txid=row["txid"], intent_id=row.get("intent_id"),
                    inputs={"nonce": row["nonce"], "fee": row["fee"], "stacks_height": self.tip}, outcome=error)

    async def _pause(self, why: str) -> None:
        await self.pool.execute("UPDATE keeper.signers SET paused = true, paused_reason = $2, updated_at = now() "
                                "WHERE address = $1", self.address, why)
        self.state.paused = True
        await self.alerts.raise_("signer-empty", self.address, f"{self.signer.role} signer paused: {why}",
                                 balance=self.state.balance)

    async def _resign(self, row: dict, fee: int, why: str) -> None:
        """The same nonce and call at a higher fee; the earlier version's txid stays tracked."""
        args = [clarity.from_json(a) for a in (json.loads(row["function_args"]) if isinstance(row["function_args"], str)
                                              else row["function_args"])]
        tx = self._sign(row["contract_id"], row["function_name"], args, row["nonce"], fee)
        async with self.pool.acquire() as conn, conn.transaction():
            await self._check_spend(conn, fee - row["fee"])
            earlier = [*row["earlier_txids"], row["txid"]]
            await conn.execute("UPDATE keeper.transactions SET fee = $2, txid = $3, raw_tx = $4, earlier_txids = $5, "
                               "bumps = bumps + 1, broadcast_at = now() WHERE id = $1",
                               row["id"], fee, "0x" + tx.txid, tx.serialize(), earlier)
            await audit(conn, "bump", signer=self.address, txid="0x" + tx.txid, intent_id=row.get("intent_id"),
                        inputs={"nonce": row["nonce"], "old_fee": row["fee"], "fee": fee, "why": why,
                                "replaces": row["txid"]})
        row.update(fee=fee, txid="0x" + tx.txid, raw_tx=tx.serialize(), earlier_txids=earlier,
                   bumps=row["bumps"] + 1)
        self.state.bumps += 1
        await self._broadcast(row)

    async def _replace_with_fill(self, row: dict, why: str) -> None:
        kind = row["kind"]
        tx = self._sign(None, None, [], row["nonce"], row["fee"])
        await self.pool.execute(
            "UPDATE keeper.transactions SET kind = 'nonce-fill', contract_id = NULL, function_name = NULL, "
            "function_args = '[]', txid = $2, raw_tx = $3, earlier_txids = earlier_txids || txid, error = $4, "
            "intent_id = NULL WHERE id = $1", row["id"], "0x" + tx.txid, tx.serialize(), why)
        await audit(self.pool, "replace-with-fill", signer=self.address, txid="0x" + tx.txid,
                    intent_id=row.get("intent_id"), inputs={"nonce": row["nonce"], "why": why, "was": row["txid"]})
        if kind in self.on_release and row["status"] != "superseded":  # a superseded tx released its intent already
            await self.on_release[kind](dict(row), why)
        row.update(kind="nonce-fill", contract_id=None, function_name=None, function_args="[]", txid="0x" + tx.txid,
                   raw_tx=tx.serialize(), intent_id=None)
        await self._broadcast(row)

    async def _fill_gap(self, lo: int, hi: int) -> None:
        """The node expects ``lo`` but the ledger is at ``hi``: send the ledger's transactions for the nonces in
        between again, in order, and fill any nonce the ledger never used with a 1 µSTX transfer."""
        rows = {r["nonce"]: dict(r) for r in await self.pool.fetch(
            "SELECT * FROM keeper.transactions WHERE address = $1 AND nonce >= $2 AND nonce < $3",
            self.address, lo, hi)}
        for nonce in range(lo, hi):
            row = rows.get(nonce)
            if row is None:
                tx = self._sign(None, None, [], nonce, self.cfg.fee)
                row = dict(await self.pool.fetchrow(
                    "INSERT INTO keeper.transactions (address, nonce, kind, fee, txid, raw_tx, status) "
                    "VALUES ($1, $2, 'nonce-fill', $3, $4, $5, 'signed') ON CONFLICT (address, nonce) DO NOTHING "
                    "RETURNING *", self.address, nonce, self.cfg.fee, "0x" + tx.txid, tx.serialize()) or {})
                if not row:
                    continue
                await audit(self.pool, "nonce-fill", signer=self.address, txid=row["txid"], inputs={"nonce": nonce})
            elif row["status"] == "superseded":  # its intent was released: the nonce only needs filling now
                await self._replace_with_fill(row, "gap at a superseded nonce")
                continue
            elif row["status"] == "confirmed":  # the node lost it: orphaned deeper than reorg_depth
                await self._orphaned(row)
                continue
            await self._broadcast(row)

    # ---- following -------------------------------------------------------------------------------------
    async def poll(self, tip: int) -> None:
        """Once per Stacks block: follow every open transaction, and recently confirmed ones for reorgs."""
        self.tip = tip
        account = await self.client.account(self.address)
        nonces = await self.client.nonces(self.address)
        self.state.balance, self.state.confirmed_nonce = account.balance, account.nonce
        self.state.node_next_nonce = int(nonces["possible_next_nonce"])
        await self._check_balance()
        rows = [dict(r) for r in await self.pool.fetch(
            "SELECT * FROM keeper.transactions WHERE address = $1 AND (status = ANY($2) OR (status = 'confirmed' "
            "AND confirmed_stacks_height > $3)) ORDER BY nonce", self.address, list(OPEN), tip - self.cfg.reorg_depth)]
        canon = await self._read_canonical(rows)
        recent = [r for r in rows if r["status"] == "confirmed"]
        by_canon = [r for r in recent if _is_call(r) and canon is not None and canon.covers(r["confirmed_stacks_height"])]
        for row in by_canon:  # the canonical flags: still the same call in the same block?
            if not _same_block(canon.calls.get(row["confirmed_txid"]), row):
                await self._orphaned(row, ANALYTICS)
        # the node's canonical block too (one call): the transforms may have built before a reorg the node saw
        by_node = [r for r in recent if r["status"] == "confirmed"]
        if by_node and await self._reorged(by_node):
            for row in by_node:
                found = await self._lookup(row, None)
                if found is None or found[0] != "mined" or not _same_block(found[2], row):
                    await self._orphaned(row, NODE)
        oldest = 0
        for row in rows:
            if row["status"] == "confirmed":
                continue
            if row["status"] == "signed":
                await self._broadcast(row)
                continue
            found = await self._lookup(row, canon)
            if found and found[0] == "mined":
                await self._confirmed(row, found[2])
            elif found:
                oldest = max(oldest, tip - (row["first_sent_stacks_height"] or tip))
                await self._pending(row)
            elif row["nonce"] < account.nonce:
                await self._superseded(row)
            else:
                await self.alerts.raise_("tx-dropped", row["txid"], "transaction unknown to the node; sent again",
                                         nonce=row["nonce"])
                await self._broadcast(row)
        open_count = sum(1 for r in rows if r["status"] in OPEN)
        self.state.pending, self.state.oldest_pending_blocks = open_count, oldest

    async def _read_canonical(self, rows: list[dict]) -> Canonical | None:
        """One read of analytics.contract_calls for every version of ``rows`` (None: the node API alone)."""
        if self.canonical is None or not rows:
            return None
        txids = {t for r in rows for t in (r["txid"], r.get("confirmed_txid"), *r["earlier_txids"]) if t}
        return await self.canonical.read(sorted(txids), self.tip)

    async def _reorged(self, recent: list[dict]) -> bool:
        """Whether a reorg may have orphaned a recently confirmed transaction: one call, the canonical block at the
        highest height they were confirmed at (if it is the same block, every lower one is too)."""
        top = max(recent, key=lambda r: r["confirmed_stacks_height"])
        block = await self.client.block(top["confirmed_stacks_height"])
        return block is None or hex0x(block.get("index_block_hash")) != top["confirmed_block_hash"]

    async def _check_balance(self) -> None:
        low = self.state.balance is not None and self.state.balance < self.cfg.min_balance
        if low:
            await self.alerts.raise_("balance-low", self.address, f"{self.signer.role} signer balance below threshold",
                                     balance=self.state.balance, threshold=self.cfg.min_balance)
            return
        await self.alerts.resolve("balance-low", self.address)
        if self.state.paused:
            await self.pool.execute("UPDATE keeper.signers SET paused = false, paused_reason = NULL, "
                                    "updated_at = now() WHERE address = $1", self.address)
            self.state.paused = False
            await self.alerts.resolve("signer-empty", self.address)
            self.log.info("signer_resumed", balance=self.state.balance)

    async def _lookup(self, row: dict, canon: Canonical | None) -> tuple[str, str, Any] | None:
        """("mined", txid, Mined) for the version the chain holds, ("pending", txid, tx) if only the mempool has
        one, None when the node knows none of its versions. The canonical calls answer first; the node answers
        for what they do not hold (a block the transforms have not reached, or no longer canonical)."""
        versions = (row["txid"], *reversed(row["earlier_txids"]))
        if canon is not None and _is_call(row) and (mined := canon.find(versions)) is not None:
            return "mined", mined.txid, mined
        pending = None
        for txid in versions:
            tx = await self.client.transaction(txid)
            if tx is None:
                continue
            if tx.get("tx_status") != "pending":
                return "mined", txid, Mined.from_node(txid, tx)
            pending = pending or ("pending", txid, tx)
        return pending

    async def _confirmed(self, row: dict, m: Mined) -> None:
        status, result, txid = m.status, m.result, m.txid
        # the result is read before the row says confirmed: a crash in between reads it again (the handlers are
        # idempotent), never leaves a confirmed transaction whose result nobody read
        handler = self.on_confirmed.get(row["kind"])
        if handler:
            await handler(row, status, result)
        await self._set(row, status="confirmed", tx_status=status, result=json.dumps(clarity.to_json(result)),
                        confirmed_txid=txid, confirmed_stacks_height=m.stacks_height, confirmed_block_hash=m.block_hash,
                        confirmed_burn_height=m.burn_height, confirmed_at=_now(), error=None)
        await audit(self.pool, "confirm", signer=self.address, txid=txid, intent_id=row.get("intent_id"),
                    inputs={"nonce": row["nonce"], "fee": row["fee"], "stacks_height": m.stacks_height,
                            "source": m.source}, outcome=status)
        await self.alerts.resolve("tx-stuck", row["txid"])
        await self.alerts.resolve("tx-dropped", row["txid"])

    async def _pending(self, row: dict) -> None:
        waited = self.tip - (row["sent_stacks_height"] or self.tip)
        if self.tip - (row["first_sent_stacks_height"] or self.tip) >= self.cfg.stuck_blocks:
            await self.alerts.raise_("tx-stuck", row["txid"], "transaction pending beyond the stuck threshold",
                                     nonce=row["nonce"], fee=row["fee"], bumps=row["bumps"])
        if waited < self.cfg.bump_after_blocks:
            return
        fee = min(_bumped(row["fee"]), self.cfg.max_fee)
        if fee <= row["fee"]:
            await self.alerts.raise_("tx-stuck", row["txid"], "fee at the cap and still pending", nonce=row["nonce"],
                                     fee=row["fee"])
            return
        try:
            await self._resign(row, fee, f"pending {waited} blocks")
        except Busy as exc:
            self.log.warning("bump_refused", txid=row["txid"], why=str(exc))

    async def _orphaned(self, row: dict, seen_by: str = NODE) -> None:
        await self._set(row, status="pending", tx_status=None, result=None, confirmed_txid=None,
                        confirmed_stacks_height=None, confirmed_burn_height=None, confirmed_at=None,
                        sent_stacks_height=self.tip)
        await audit(self.pool, "orphaned", signer=self.address, txid=row["txid"], intent_id=row.get("intent_id"),
                    inputs={"nonce": row["nonce"], "seen_by": seen_by})
        self.log.warning("tx_orphaned", txid=row["txid"], nonce=row["nonce"], seen_by=seen_by)
        if row["kind"] in self.on_orphaned:
            await self.on_orphaned[row["kind"]](row, "orphaned by a reorg")
        await self._broadcast(row)

    async def _superseded(self, row: dict) -> None:
        await self._set(row, status="superseded", error="nonce used by another transaction")
        await audit(self.pool, "superseded", signer=self.address, txid=row["txid"], intent_id=row.get("intent_id"),
                    inputs={"nonce": row["nonce"]})
        await self.alerts.raise_("nonce-used-elsewhere", f"{self.address}:{row['nonce']}",
                                 "a transaction not sent by this keeper used the nonce", txid=row["txid"])
        if row["kind"] in self.on_release:
            await self.on_release[row["kind"]](row, "superseded")

    async def nonce_gap(self) -> int:
        """Ledger next nonce minus the node's possible next nonce at the last poll: > 0 while transactions the
        ledger signed are not at the node."""
        nxt = await self.pool.fetchval("SELECT next_nonce FROM keeper.signers WHERE address = $1", self.address)
        return (nxt or 0) - (self.state.node_next_nonce or 0)


def _is_call(row: dict) -> bool:
    """A contract call (analytics.contract_calls holds those; a nonce fill is an STX transfer)."""
    return row.get("contract_id") is not None


def _same_block(m: Mined | None, row: dict) -> bool:
    """``m`` is the confirmed version of ``row`` in the block it was confirmed in (a re-mined one has a new block:
    its result is read again)."""
    return (m is not None and m.txid == row["confirmed_txid"]
            and (m.block_hash is None or row["confirmed_block_hash"] is None or m.block_hash == row["confirmed_block_hash"]))


def _bumped(fee: int) -> int:
    return -(-fee * BUMP_NUM // BUMP_DEN)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
