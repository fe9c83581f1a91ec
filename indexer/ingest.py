"""The one write path. Live observer requests, TSV replay, rebuild and backfill all end here.

:meth:`Writer.write` takes a batch of requests (one for a live delivery, hundreds for replay), prepares them
(:mod:`indexer.prepare`), plans them (:mod:`indexer.plan`: fork choice, rows and flips) and commits, in ONE
transaction: their ``raw.observer_requests`` rows, every new block with its transactions and events, the
canonical flips a reorg causes, burn blocks, mempool rows, dead letters, reorg log rows, ``raw.chain_tip``, an
optional checkpoint and a ``bithedge_raw`` notification. Rows go in with COPY.

Exactly-once rests on three things: only one writer at a time (a Postgres advisory lock held for
the writer's lifetime), an in-memory view of every known block that mirrors the committed state
(reloaded whenever a transaction fails), and checkpoints committed with the rows they cover.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

import asyncpg

from bithedge import logs
from indexer.chain import BurnChain, Chain
from indexer.decode import json_text
from indexer.payloads import ParsedBlock
from indexer.plan import BatchResult, Plan, plan
from indexer.prepare import Request, prepare
from indexer.rows import (
    BLOCK_COLUMNS,
    BURN_COLUMNS,
    DEAD_LETTER_COLUMNS,
    EVENT_COLUMNS,
    REORG_COLUMNS,
    REQUEST_COLUMNS,
    TX_COLUMNS,
    WRITER_COLUMNS,
    DeadLetterRow,
    ReorgRow,
    RequestRow,
    TipRow,
)
from indexer.sql import queries as Q

log = logs.get("indexer.ingest")

WRITER_LOCK_KEY = 0x6269_7468_6964_7872  # "bithidxr": one raw-table writer per database

# Blocks kept in memory below the tip (~140 bytes each); anything older is read back when a block needs it.
CHAIN_WINDOW = 50_000
# A live block bigger than this (transactions + events) goes through the COPY path instead.
ONE_STATEMENT_MAX_ROWS = 5000

_SET_TIP = Q["set_tip"].format(tip_columns=", ".join(TipRow._fields),
                               tip_values=", ".join(f"${i}" for i in range(1, len(TipRow._fields) + 1)))
_TIP_COLUMNS = ", ".join(TipRow._fields)


class WriterBusy(RuntimeError):
    """Another process holds the writer lock for this database."""


def notify_payload(tip: TipRow) -> str:
    """The ``bithedge_raw`` notification: the canonical Stacks tip height and burn height after a write."""
    return json_text({"block_height": tip.block_height, "burn_block_height": tip.burn_block_height})


class Writer:
    """The single writer of the raw tables. Use :meth:`open`; close with :meth:`close`."""

    def __init__(self, conn: asyncpg.Connection, chain_window: int = CHAIN_WINDOW) -> None:
        self.conn = conn
        self.chain_window = chain_window
        self.chain = Chain()
        self.burns = BurnChain()
        self.tip = TipRow()
        # run after each commit with (BatchResult, the batch's requests), e.g. metrics
        self.listeners: list[Callable[[BatchResult, Sequence[Request]], None]] = []
        self._column_types: dict[str, dict[str, str]] = {}  # raw table -> column -> SQL type (array casts)

    @classmethod
    async def open(cls, dsn: str, *, wait_for_lock: bool = False, chain_window: int = CHAIN_WINDOW) -> Writer:
        conn = await asyncpg.connect(dsn)
        try:
            if wait_for_lock:
                await conn.execute(Q["writer_lock_wait"], WRITER_LOCK_KEY)
            elif not await conn.fetchval(Q["writer_lock_try"], WRITER_LOCK_KEY):
                raise WriterBusy("another indexer writer (serve, replay, rebuild or backfill) is running "
                                 "against this database; stop it first")
            w = cls(conn, chain_window)
            await w.reload()
            for table, column, sql_type in await conn.fetch(Q["array_column_types"]):
                w._column_types.setdefault(table, {})[column] = sql_type
            return w
        except BaseException:
            await conn.close()
            raise

    async def close(self) -> None:
        if not self.conn.is_closed():
            await self.conn.close()  # also releases the advisory lock

    async def reload(self) -> None:
        """Rebuild the in-memory view from the committed tables (after a failed transaction too)."""
        top = await self.conn.fetchval(Q["canonical_top"])
        low = max(0, top - self.chain_window) if top is not None else 0
        self.chain = Chain.from_rows(await self.conn.fetch(Q["chain_window"], low), low)
        self.burns = BurnChain.from_rows(await self.conn.fetch(Q["burn_blocks"]))
        t = await self.conn.fetchrow(Q["chain_tip"])
        self.tip = TipRow(*(t[k] for k in TipRow._fields))

    async def knows(self, index_block_hash: bytes) -> bool:
        """Whether a block is stored: in the in-memory window, or (older) in ``raw.blocks``."""
        return index_block_hash in self.chain or await self.conn.fetchval(Q["block_stored"], index_block_hash)

    async def _read_history(self, pb: ParsedBlock) -> None:
        """Merge the stored blocks fork choice will look at for ``pb`` when they are outside the window."""
        chain = self.chain
        chain.merge(await self.conn.fetch(Q["chain_history"], pb.index_block_hash, pb.parent_index_block_hash,
                                          pb.block_height, chain.history_top(pb.block_height, pb.nakamoto)))

    # --- the write path ------------------------------------------------------------------------

    async def write(self, requests: Sequence[Request], *, checkpoint: tuple[str, int, dict] | None = None,
                    store_requests: bool = True) -> BatchResult:
        for r in requests:
            prepare(r)
        try:
            # fork choice and outcomes (updates the in-memory view); no I/O unless a block reaches below the window
            p = await plan(requests, self.chain, self.burns, self.tip, self._read_history)
            if self._one_statement_ok(p, requests, store_requests):
                await self._write_one_statement(p, requests[0], checkpoint)
            else:
                async with self.conn.transaction():
                    await self._write_steps(p, requests, checkpoint, store_requests)
        except BaseException:
            await self._recover()
            raise
        self.tip = p.tip
        self.chain.trim(self.chain_window)
        for fn in self.listeners:
            fn(p.res, requests)
        return p.res

    async def _recover(self) -> None:
        try:
            if not self.conn.is_closed():
                await self.reload()
        except Exception:  # the connection is gone; the caller sees the original error
            log.warning("writer_reload_failed")

    async def _write_steps(self, p: Plan, requests: Sequence[Request], checkpoint, store_requests: bool) -> None:
        """The general path, inside the caller's transaction: COPY per table, flips in the safe order
        (orphan before the new canonical rows go in, restore after: one canonical block per height)."""
        conn = self.conn
        need_ids = [r for r in requests if r.request_id is None]
        if need_ids:
            ids = await conn.fetchval(Q["next_request_ids"], len(need_ids))
            for r, i in zip(need_ids, ids, strict=True):
                r.request_id = i
        if store_requests:
            await self._copy("observer_requests", REQUEST_COLUMNS, [(r.request_id,) + r.row() for r in requests])
        else:  # rebuild: the rows exist; record what this pass made of them
            await conn.executemany(Q["set_outcomes"], [(r.request_id, r.outcome) for r in requests])

        if p.orphan:
            await conn.execute(Q["set_canonical"], p.orphan, False)
        if p.new_blocks:
            await self._copy_blocks(p)
        if p.restore:
            await conn.execute(Q["set_canonical"], p.restore, True)

        if p.burn_orphan:
            await conn.execute(Q["set_burn_canonical"], p.burn_orphan, False)
        if p.new_burns:
            await self._copy("burn_blocks", BURN_COLUMNS, [pb.row + (c, r.request_id) for (pb, r), c
                                                           in zip(p.new_burns, p.burn_flags, strict=True)])
        if p.burn_restore:
            await conn.execute(Q["set_burn_canonical"], p.burn_restore, True)
        # Mempool rows: one statement per batch, not one per row (a replayed export holds a mempool transaction
        # for every mined one). The first sighting wins, as does the first drop.
        if p.mempool:
            await conn.execute(Q["insert_mempool"], [t for t, _, _ in p.mempool], [raw for _, raw, _ in p.mempool],
                               [r.received_at for _, _, r in p.mempool], [r.request_id for _, _, r in p.mempool])
        if p.drops:
            first: dict[bytes, tuple] = {}
            for d in p.drops:
                first.setdefault(d[0], d)
            await conn.execute(Q["drop_mempool"], *(list(col) for col in zip(*first.values(), strict=True)))
        if p.dead:
            await self._copy("dead_letters", DEAD_LETTER_COLUMNS,
                             [DeadLetterRow(d.request.request_id, d.request.path, d.reason, d.detail) for d in p.dead])
        if p.reorgs:
            await self._copy("reorgs", REORG_COLUMNS,
                             [ReorgRow(g.depth, g.restored, g.fork_height, g.old_tip, g.new_tip, g.request.request_id)
                              for g in p.reorgs])
        p.res.last_request_id = max((r.request_id for r in requests), default=None)
        await conn.execute(_SET_TIP, *p.tip, p.res.last_request_id)
        if checkpoint is not None:
            name, position, info = checkpoint
            await conn.execute(Q["set_checkpoint"], name, position, json_text(info))
        await conn.execute(Q["notify_raw"], notify_payload(p.tip))

    async def _copy(self, table: str, columns: tuple[str, ...], records: list[tuple]) -> None:
        await self.conn.copy_records_to_table(table, schema_name="raw", columns=columns, records=records)

    async def _copy_blocks(self, p: Plan) -> None:
        blocks, txs, events = [], [], []
        for (pb, r), c in zip(p.new_blocks, p.block_flags, strict=True):
            tail = (c, r.request_id)
            blocks.append(pb.row + tail)
            txs.extend([row + tail for row in pb.txs])
            events.extend([row + tail for row in pb.events])
        await self._copy("blocks", BLOCK_COLUMNS, blocks)
        if txs:
            await self._copy("transactions", TX_COLUMNS, txs)
        if events:
            await self._copy("events", EVENT_COLUMNS, events)

    def _one_statement_ok(self, p: Plan, requests: Sequence[Request], store_requests: bool) -> bool:
        if len(requests) != 1 or not store_requests or requests[0].request_id is not None:
            return False
        if p.flips or p.mempool or p.drops:
            return False  # flips need their order (unique canonical height); mempool rows are rare
        return sum(len(pb.events) + len(pb.txs) for pb, _ in p.new_blocks) <= ONE_STATEMENT_MAX_ROWS

    async def _write_one_statement(self, p: Plan, req: Request, checkpoint) -> None:
        """The ``live_write`` template: request row, block, transactions, events, burn block, dead letter, tip,
        checkpoint and notification in one statement. Only used when nothing flips, so the parts' order is free."""
        args: list = []

        def arg(value, cast: str = "") -> str:
            args.append(value)
            return f"${len(args)}{cast}"

        def values(row: tuple) -> str:
            return ", ".join(arg(v) for v in row)

        request = values(req.row())
        parts = []
        for i, ((pb, _r), c) in enumerate(zip(p.new_blocks, p.block_flags, strict=True)):
            parts.append(Q["live_write_block"].format(i=i, columns=", ".join(BLOCK_COLUMNS), values=values(pb.row),
                                                      canonical=arg(c)))
            for name, table, rows, columns in (("t", "transactions", pb.txs, TX_COLUMNS),
                                               ("e", "events", pb.events, EVENT_COLUMNS)):
                if rows:
                    types = self._column_types[table]
                    # one array per parsed column; the writer's columns come from the SELECT list
                    arrays = ", ".join(arg(list(col), f"::{types[n]}[]")
                                       for n, col in zip(columns[:-len(WRITER_COLUMNS)], zip(*rows, strict=True),
                                                         strict=True))
                    parts.append(Q["live_write_rows"].format(name=f"{name}{i}", table=table, columns=", ".join(columns),
                                                             arrays=arrays, canonical=arg(c)))
        for i, ((pb, _r), c) in enumerate(zip(p.new_burns, p.burn_flags, strict=True)):
            parts.append(Q["live_write_burn"].format(i=i, columns=", ".join(BURN_COLUMNS), values=values(pb.row),
                                                     canonical=arg(c)))
        for d in p.dead:
            parts.append(Q["live_write_dead_letter"].format(path=arg(req.path), reason=arg(d.reason),
                                                            detail=arg(d.detail)))
        if checkpoint is not None:
            name, position, info = checkpoint
            parts.append(Q["live_write_checkpoint"].format(name=arg(name), position=arg(position),
                                                           info=arg(json_text(info))))
        sql = Q["live_write"].format(request_columns=", ".join(RequestRow._fields), request=request,
                                     parts="\n".join(parts), tip_columns=_TIP_COLUMNS, tip=values(p.tip),
                                     notify=arg(notify_payload(p.tip)))
        req.request_id = await self.conn.fetchval(sql, *args)
        p.res.last_request_id = req.request_id

    # --- dead letters outside a batch (the database refused a payload's rows) ------------------

    async def dead_letter(self, req: Request, reason: str, detail: str, *, existing: bool = False) -> int:
        """Store the request and its dead letter in their own transaction; returns the request id.
        ``existing``: the request row is already there (rebuild), only the dead letter is added."""
        async with self.conn.transaction():
            if existing and req.request_id is not None:
                rid = req.request_id
                await self.conn.execute(Q["mark_dead_request"], rid)
            else:
                body = req.body.encode("utf-8", "surrogateescape") if isinstance(req.body, str) else req.body
                rid = await self.conn.fetchval(
                    Q["insert_dead_request"], req.received_at, req.path, body,
                    req.truncated_size if req.truncated_size is not None else len(body),
                    req.truncated_size is not None, req.source, req.source_id)
            await self.conn.execute(Q["insert_dead_letter"], rid, req.path, reason, detail)
            await self.conn.execute(Q["notify_raw"], notify_payload(self.tip))
        req.request_id, req.outcome = rid, "dead_letter"
        for fn in self.listeners:
            fn(BatchResult(dead_letters=1, last_request_id=rid), [req])
        return rid

    async def set_checkpoint(self, name: str, position: int, info: dict) -> None:
        await self.conn.execute(Q["set_checkpoint"], name, position, json_text(info))

    async def checkpoint(self, name: str) -> tuple[int, dict] | None:
        """(position, info) of a checkpoint, None if it was never set."""
        row = await self.conn.fetchrow(Q["checkpoint"], name)
        return None if row is None else (row["position"], json.loads(row["info"] or "{}"))


# SQLSTATE classes that mean "this data can never be written", as opposed to a connection or server problem.
_PERMANENT_CLASSES = ("22", "23", "42", "54")


def is_permanent_db_error(exc: BaseException) -> bool:
    state = getattr(exc, "sqlstate", None)
    return isinstance(exc, asyncpg.PostgresError) and bool(state) and state[:2] in _PERMANENT_CLASSES
