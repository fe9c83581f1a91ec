"""The one write path. Live observer requests, TSV replay, rebuild and backfill all end here.

:meth:`Writer.write` takes a batch of requests (one for a live delivery, hundreds for replay) and
commits, in ONE transaction: their ``raw.observer_requests`` rows, every new block with its
transactions and events, the canonical flips a reorg causes, burn blocks, mempool rows, dead letters,
reorg log rows, ``raw.chain_tip`` and an optional checkpoint. Rows go in with COPY.

Exactly-once rests on three things: only one writer at a time (a Postgres advisory lock held for
the writer's lifetime), an in-memory view of every known block that mirrors the committed state
(reloaded whenever a transaction fails), and checkpoints committed with the rows they cover.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import asyncpg

from bithedge import logs
from indexer import payloads as P
from indexer.chain import Chain
from indexer.decode import json_text

log = logs.get("indexer.ingest")

WRITER_LOCK_KEY = 0x6269_7468_6964_7872  # "bithidxr": one raw-table writer per database
BLOCK_PATHS = ("/new_block",)
STORED_ONLY = {
    "/new_microblocks", "/stackerdb_chunks", "/proposal_response", "/attachments/new",
    "/mined_block", "/mined_microblock", "/mined_nakamoto_block",
}
_NEEDS_BODY = re.compile(r"\\u0000|\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


class WriterBusy(RuntimeError):
    """Another process holds the writer lock for this database."""


@dataclass(slots=True)
class Request:
    """One observer request on its way in. ``body`` is the exact text/bytes received."""

    path: str
    body: bytes | str
    received_at: datetime
    source: str = "observer"
    source_id: int | None = None
    request_id: int | None = None  # set for rebuild (the row exists already)
    parsed: Any = None  # ParsedBlock / ParsedBurnBlock / ... or PayloadError; filled by prepare()
    payload_text: str | None = None  # what goes into observer_requests.payload (jsonb)
    store_body: bool = False  # keep the exact bytes in observer_requests.body
    truncated_size: int | None = None  # original size when body was cut (too large)
    outcome: str = ""
    prepared: bool = False


def _scrub(obj: Any) -> Any:
    """Replace what jsonb refuses (NUL, lone surrogates) in every string, recursively."""
    if isinstance(obj, str):
        return re.sub("[\x00\ud800-\udfff]", "\ufffd", obj)
    if isinstance(obj, list):
        return [_scrub(v) for v in obj]
    if isinstance(obj, dict):
        return {_scrub(k): _scrub(v) for k, v in obj.items()}
    return obj


def prepare(req: Request) -> Request:
    """Parse and validate (CPU only, no I/O); safe to run in a worker process."""
    if req.prepared:
        return req
    req.prepared = True
    if req.truncated_size is not None:
        req.parsed = P.PayloadError(f"body of {req.truncated_size} bytes exceeds the size limit", "too_large")
        req.store_body = True
        return req
    body = req.body
    try:
        obj = P.parse_body(body)
    except P.PayloadError as exc:
        req.parsed = exc
        req.store_body = True
        return req
    text = body if isinstance(body, str) else body.decode("utf-8", "replace")
    if "\\u" in text and _NEEDS_BODY.search(text):
        req.payload_text = json_text(_scrub(obj))
        req.store_body = True
    else:
        req.payload_text = text
    path = req.path
    try:
        if path == "/new_block":
            req.parsed = P.parse_block(obj)
        elif path == "/new_burn_block":
            req.parsed = P.parse_burn_block(obj)
        elif path == "/new_mempool_tx":
            req.parsed = P.parse_mempool(obj)
        elif path == "/drop_mempool_tx":
            req.parsed = P.parse_drop(obj)
        else:
            req.parsed = None  # stored verbatim only
    except P.PayloadError as exc:
        req.parsed = exc
    except (RecursionError, TypeError, KeyError, AttributeError, OverflowError) as exc:
        req.parsed = P.PayloadError(f"{type(exc).__name__}: {exc}")
    return req


@dataclass(slots=True)
class BatchResult:
    blocks: int = 0
    events: int = 0
    txs: int = 0
    duplicates: int = 0
    dead_letters: int = 0
    reorgs: list[tuple[int, int]] = field(default_factory=list)  # (depth, fork_height)
    last_request_id: int | None = None


@dataclass(slots=True)
class TipInfo:
    index_block_hash: bytes | None = None
    block_hash: bytes | None = None
    block_height: int | None = None
    block_time: int | None = None
    burn_block_hash: bytes | None = None
    burn_block_height: int | None = None
    burn_block_time: int | None = None


@dataclass(slots=True)
class _Plan:
    """What a batch writes, decided before any I/O (rows carry their Request; ids are filled when written)."""

    res: BatchResult = field(default_factory=BatchResult)
    dead: list[tuple] = field(default_factory=list)  # (Request, reason, detail)
    new_blocks: list[tuple] = field(default_factory=list)  # (ParsedBlock, Request)
    block_flags: list[bool] = field(default_factory=list)  # final canonical flag of each new block
    new_burns: list[tuple] = field(default_factory=list)  # (ParsedBurnBlock, Request)
    burn_flags: list[bool] = field(default_factory=list)
    mempool: list[tuple] = field(default_factory=list)  # (txid, raw_tx, Request)
    drops: list[tuple] = field(default_factory=list)
    reorg_rows: list[tuple] = field(default_factory=list)  # (..., Request)
    orphan: list[bytes] = field(default_factory=list)
    restore: list[bytes] = field(default_factory=list)
    b_orphan: list[bytes] = field(default_factory=list)
    b_restore: list[bytes] = field(default_factory=list)
    tip: tuple = ()


# Blocks kept in memory below the tip (~140 bytes each); anything older is read back when a block needs it.
CHAIN_WINDOW = 50_000
_WINDOW_SQL = ("SELECT index_block_hash, block_height, parent_index_block_hash, canonical FROM raw.blocks "
               "WHERE block_height >= $1")
# $1 the new block, $2 its parent, $3 its height, $4 the (exclusive) top of the canonical range to read. `up` walks
# from the parent through non-canonical blocks, always to a lower height, and stops at (includes) the first
# canonical one: the fork point.
_HISTORY_SQL = """
WITH RECURSIVE up AS (
    SELECT index_block_hash, block_height, parent_index_block_hash, canonical FROM raw.blocks
    WHERE index_block_hash = $2
  UNION ALL
    SELECT b.index_block_hash, b.block_height, b.parent_index_block_hash, b.canonical
    FROM up JOIN raw.blocks b ON b.index_block_hash = up.parent_index_block_hash
    WHERE NOT up.canonical AND b.block_height < up.block_height
)
SELECT index_block_hash, block_height, parent_index_block_hash, canonical FROM up
UNION ALL
SELECT index_block_hash, block_height, parent_index_block_hash, canonical FROM raw.blocks
WHERE index_block_hash = $1
UNION ALL
SELECT index_block_hash, block_height, parent_index_block_hash, canonical FROM raw.blocks
WHERE canonical AND block_height >= LEAST($3, (SELECT min(block_height) FROM up)) - 1 AND block_height < $4
"""

# A live block bigger than this (transactions + events) goes through the COPY path instead.
ONE_STATEMENT_MAX_ROWS = 5000

_TIP_SQL = (
    "UPDATE raw.chain_tip SET index_block_hash=$1, block_hash=$2, block_height=$3, block_time=$4, "
    "burn_block_hash=$5, burn_block_height=$6, burn_block_time=$7, "
    "last_request_id=GREATEST(last_request_id, $8), updated_at=now()")
_MEMPOOL_SQL = (
    "INSERT INTO raw.mempool_txs (txid, raw_tx, received_at, request_id) "
    "SELECT * FROM unnest($1::bytea[], $2::bytea[], $3::timestamptz[], $4::bigint[]) ON CONFLICT (txid) DO NOTHING")
_DROP_SQL = (
    "UPDATE raw.mempool_txs m SET dropped_at = d.dropped_at, drop_reason = d.reason, replaced_by = d.new_txid "
    "FROM unnest($1::bytea[], $2::timestamptz[], $3::text[], $4::bytea[]) AS d(txid, dropped_at, reason, new_txid) "
    "WHERE m.txid = d.txid AND m.dropped_at IS NULL")
_CHECKPOINT_SQL = (
    "INSERT INTO raw.checkpoints (name, position, info, updated_at) VALUES ($1, $2, $3, now()) "
    "ON CONFLICT (name) DO UPDATE SET position = EXCLUDED.position, info = EXCLUDED.info, updated_at = now()")


def _request_values(r: Request) -> tuple:
    """raw.observer_requests columns after ``id``."""
    body = r.body
    return (r.received_at, r.path, r.payload_text,
            (body.encode("utf-8", "surrogateescape") if isinstance(body, str) else body) if r.store_body else None,
            r.truncated_size if r.truncated_size is not None else len(body),
            r.truncated_size is not None, r.source, r.source_id, r.outcome)


REQUEST_COLUMNS = ("id", "received_at", "path", "payload", "body", "body_size", "body_truncated", "source",
                   "source_id", "outcome")


class Writer:
    """The single writer of the raw tables. Use :meth:`open`; close with :meth:`close`."""

    def __init__(self, conn: asyncpg.Connection, chain_window: int = CHAIN_WINDOW) -> None:
        self.conn = conn
        self.chain_window = chain_window
        self.chain = Chain()
        self.burn: dict[bytes, list] = {}  # burn_block_hash -> [height, canonical]
        self.burn_by_height: dict[int, bytes] = {}
        self.tip = TipInfo()
        self.listeners: list = []  # callables(BatchResult) run after each commit (metrics)
        self._column_types: dict[str, dict[str, str]] = {}  # raw table -> column -> SQL type (array casts)

    @classmethod
    async def open(cls, dsn: str, *, wait_for_lock: bool = False, chain_window: int = CHAIN_WINDOW) -> Writer:
        conn = await asyncpg.connect(dsn)
        try:
            if wait_for_lock:
                await conn.execute("SELECT pg_advisory_lock($1)", WRITER_LOCK_KEY)
            elif not await conn.fetchval("SELECT pg_try_advisory_lock($1)", WRITER_LOCK_KEY):
                raise WriterBusy("another indexer writer (serve, replay, rebuild or backfill) is running "
                                 "against this database; stop it first")
            w = cls(conn, chain_window)
            await w.reload()
            for table, column, sql_type in await conn.fetch(
                    "SELECT c.relname, a.attname, format_type(a.atttypid, NULL) FROM pg_attribute a "
                    "JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = 'raw' AND c.relname IN ('transactions', 'events') AND a.attnum > 0 "
                    "AND NOT a.attisdropped"):
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
        top = await self.conn.fetchval("SELECT max(block_height) FROM raw.blocks WHERE canonical")
        low = max(0, top - self.chain_window) if top is not None else 0
        rows = await self.conn.fetch(_WINDOW_SQL, low)
        self.chain = Chain.from_rows(rows, low)
        self.burn, self.burn_by_height = {}, {}
        for h, height, canonical in await self.conn.fetch(
                "SELECT burn_block_hash, burn_block_height, canonical FROM raw.burn_blocks"):
            self.burn[bytes(h)] = [height, canonical]
            if canonical:
                self.burn_by_height[height] = bytes(h)
        t = await self.conn.fetchrow("SELECT * FROM raw.chain_tip")
        self.tip = TipInfo(*(t[k] for k in ("index_block_hash", "block_hash", "block_height", "block_time",
                                              "burn_block_hash", "burn_block_height", "burn_block_time")))
        if self.tip.index_block_hash is not None:
            self.tip.index_block_hash = bytes(self.tip.index_block_hash)

    # --- the write path ------------------------------------------------------------------------

    async def write(self, requests: Sequence[Request], *, checkpoint: tuple[str, int, dict] | None = None,
                    store_requests: bool = True) -> BatchResult:
        for r in requests:
            prepare(r)
        try:
            # fork choice and outcomes (updates the in-memory view); no I/O unless a block reaches below the window
            plan = await self._plan(requests)
            if self._one_statement_ok(plan, requests, store_requests):
                # A live delivery without flips: ONE statement (its own transaction, one round trip).
                await self._write_one_statement(plan, requests[0], checkpoint)
            else:
                async with self.conn.transaction():
                    await self._write_steps(plan, requests, checkpoint, store_requests)
        except BaseException:
            await self._recover()
            raise
        result = plan.res
        self.chain.trim(self.chain_window)
        for fn in self.listeners:
            fn(result, requests)
        return result

    async def _recover(self) -> None:
        try:
            if not self.conn.is_closed():
                await self.reload()
        except Exception:  # the connection is gone; the caller sees the original error
            log.warning("writer_reload_failed")

    async def knows(self, index_block_hash: bytes) -> bool:
        """Whether a block is stored: in the in-memory window, or (older) in ``raw.blocks``."""
        if index_block_hash in self.chain:
            return True
        return bool(await self.conn.fetchval("SELECT 1 FROM raw.blocks WHERE index_block_hash = $1",
                                             index_block_hash))

    async def _read_history(self, pb: P.ParsedBlock) -> None:
        """Merge the stored blocks fork choice will look at for ``pb`` when they are outside the window: the
        block itself (a duplicate?), its non-canonical ancestry down to the canonical chain, and the
        canonical blocks from just below there up to :meth:`Chain.history_top`."""
        chain = self.chain
        chain.merge(await self.conn.fetch(_HISTORY_SQL, pb.index_block_hash, pb.parent_index_block_hash,
                                          pb.block_height, chain.history_top(pb.block_height, pb.nakamoto)))

    async def _plan(self, requests: Sequence[Request]) -> _Plan:
        """Run fork choice for the batch and decide every row and flip; no writes (and no reads unless a
        block reaches below the in-memory window). Request ids are not known yet: rows are finished
        (``request_id``) when they are written."""
        chain = self.chain
        plan = _Plan()
        res = plan.res
        initial: dict[bytes, bool] = {}  # existing blocks touched by this batch: flag before it
        burn_initial: dict[bytes, bool] = {}
        new_burn_set: set[bytes] = set()
        new_set: set[bytes] = set()
        tip = self.tip

        for r in requests:
            parsed = r.parsed
            if isinstance(parsed, P.PayloadError):
                r.outcome = "dead_letter"
                plan.dead.append((r, parsed.reason, str(parsed)))
                res.dead_letters += 1
            elif isinstance(parsed, P.ParsedBlock):
                if chain.needs_history(parsed.index_block_hash, parsed.block_height, parsed.parent_index_block_hash):
                    await self._read_history(parsed)
                change = chain.add(parsed.index_block_hash, parsed.block_height,
                                   parsed.parent_index_block_hash, parsed.nakamoto)
                if change is None:
                    r.outcome = "duplicate"
                    res.duplicates += 1
                    continue
                r.outcome = "block"
                new_set.add(parsed.index_block_hash)
                plan.new_blocks.append((parsed, r))
                for h in change.orphaned:
                    if h not in new_set:
                        initial.setdefault(h, True)
                for h in change.restored:
                    if h not in new_set:
                        initial.setdefault(h, False)
                if change.orphaned:
                    res.reorgs.append((change.reorg_depth, change.fork_height))
                    plan.reorg_rows.append((len(change.orphaned), len(change.restored), change.fork_height,
                                            change.old_tip, change.new_tip or parsed.index_block_hash, r))
                    log.warning("reorg", depth=change.reorg_depth, restored=len(change.restored),
                                fork_height=change.fork_height, new_tip="0x" + parsed.index_block_hash.hex(),
                                height=parsed.block_height, nakamoto=parsed.nakamoto)
                if chain.tip == parsed.index_block_hash:
                    tip.index_block_hash, tip.block_hash = parsed.index_block_hash, parsed.block_hash
                    tip.block_height, tip.block_time = parsed.block_height, parsed.block_time
                res.blocks += 1
                res.txs += len(parsed.txs)
                res.events += len(parsed.events)
            elif isinstance(parsed, P.ParsedBurnBlock):
                r.outcome = "burn_block"
                self._add_burn(parsed, r, burn_initial, plan.new_burns, new_burn_set, tip)
            elif isinstance(parsed, P.ParsedMempool):
                r.outcome = "stored"
                plan.mempool.extend((txid, raw, r) for txid, raw in parsed.txs)
            elif isinstance(parsed, P.ParsedDrop):
                r.outcome = "stored"
                plan.drops.extend((t, r.received_at, parsed.reason, parsed.new_txid) for t in parsed.txids)
            else:
                r.outcome = "stored"

        nodes = chain.nodes
        plan.orphan = [h for h, was in initial.items() if was and not nodes[h].canonical]
        plan.restore = [h for h, was in initial.items() if not was and nodes[h].canonical]
        plan.block_flags = [nodes[pb.index_block_hash].canonical for pb, _ in plan.new_blocks]
        burn = self.burn
        plan.b_orphan = [h for h, was in burn_initial.items() if was and not burn[h][1]]
        plan.b_restore = [h for h, was in burn_initial.items() if not was and burn[h][1]]
        plan.burn_flags = [burn[pb.burn_block_hash][1] for pb, _ in plan.new_burns]
        plan.tip = (tip.index_block_hash, tip.block_hash, tip.block_height, tip.block_time, tip.burn_block_hash,
                    tip.burn_block_height, tip.burn_block_time)
        return plan

    async def _write_steps(self, plan: _Plan, requests, checkpoint, store_requests) -> None:
        """The general path, inside the caller's transaction: COPY per table, flips in the safe order
        (orphan before the new canonical rows go in, restore after: one canonical block per height)."""
        conn = self.conn
        res = plan.res
        need_ids = [r for r in requests if r.request_id is None]
        if need_ids:
            ids = await conn.fetchval(
                "SELECT array_agg(nextval('raw.observer_requests_id_seq')) FROM generate_series(1, $1)",
                len(need_ids))
            for r, i in zip(need_ids, ids, strict=True):
                r.request_id = i

        if store_requests:
            await conn.copy_records_to_table("observer_requests", schema_name="raw", columns=REQUEST_COLUMNS,
                                             records=[(r.request_id,) + _request_values(r) for r in requests])
        else:  # rebuild: the rows exist; record what this pass made of them
            await conn.executemany("UPDATE raw.observer_requests SET outcome = $2 WHERE id = $1 AND outcome <> $2",
                                   [(r.request_id, r.outcome) for r in requests])

        if plan.orphan:
            await self._flip(plan.orphan, False)
        if plan.new_blocks:
            blocks, txs, events = [], [], []
            for (pb, r), c in zip(plan.new_blocks, plan.block_flags, strict=True):
                tail = (c, r.request_id)
                blocks.append(pb.row + tail)
                txs.extend([row + tail for row in pb.txs])
                events.extend([row + tail for row in pb.events])
            await conn.copy_records_to_table("blocks", schema_name="raw", columns=P.BLOCK_COLUMNS, records=blocks)
            if txs:
                await conn.copy_records_to_table("transactions", schema_name="raw", columns=P.TX_COLUMNS,
                                                 records=txs)
            if events:
                await conn.copy_records_to_table("events", schema_name="raw", columns=P.EVENT_COLUMNS,
                                                 records=events)
        if plan.restore:
            await self._flip(plan.restore, True)

        if plan.b_orphan:
            await conn.execute("UPDATE raw.burn_blocks SET canonical = false WHERE burn_block_hash = ANY($1)",
                               plan.b_orphan)
        if plan.new_burns:
            await conn.copy_records_to_table("burn_blocks", schema_name="raw", columns=P.BURN_COLUMNS,
                                             records=[pb.row + (c, r.request_id) for (pb, r), c
                                                      in zip(plan.new_burns, plan.burn_flags, strict=True)])
        if plan.b_restore:
            await conn.execute("UPDATE raw.burn_blocks SET canonical = true WHERE burn_block_hash = ANY($1)",
                               plan.b_restore)
        # Mempool rows: one statement per batch, not one per row (a replayed export holds a mempool transaction
        # for every mined one). The first sighting wins, as does the first drop.
        if plan.mempool:
            await conn.execute(_MEMPOOL_SQL, [t for t, _, _ in plan.mempool], [raw for _, raw, _ in plan.mempool],
                               [r.received_at for _, _, r in plan.mempool],
                               [r.request_id for _, _, r in plan.mempool])
        if plan.drops:
            first: dict[bytes, tuple] = {}
            for d in plan.drops:
                first.setdefault(d[0], d)
            await conn.execute(_DROP_SQL, *(list(col) for col in zip(*first.values(), strict=True)))
        if plan.dead:
            await conn.copy_records_to_table("dead_letters", schema_name="raw",
                                             columns=("request_id", "path", "reason", "detail"),
                                             records=[(r.request_id, r.path, reason, detail)
                                                      for r, reason, detail in plan.dead])
        if plan.reorg_rows:
            await conn.copy_records_to_table(
                "reorgs", schema_name="raw",
                columns=("depth", "restored", "fork_height", "old_tip", "new_tip", "request_id"),
                records=[row[:5] + (row[5].request_id,) for row in plan.reorg_rows])
        res.last_request_id = max((r.request_id for r in requests), default=None)
        await conn.execute(_TIP_SQL, *plan.tip, res.last_request_id)
        if checkpoint is not None:
            name, position, info = checkpoint
            await conn.execute(_CHECKPOINT_SQL, name, position, json_text(info))

    def _one_statement_ok(self, plan: _Plan, requests: Sequence[Request], store_requests: bool) -> bool:
        if len(requests) != 1 or not store_requests or requests[0].request_id is not None:
            return False
        if plan.orphan or plan.restore or plan.b_orphan or plan.b_restore or plan.mempool or plan.drops:
            return False  # flips need their order (unique canonical height); mempool rows are rare
        return sum(len(pb.events) + len(pb.txs) for pb, _ in plan.new_blocks) <= ONE_STATEMENT_MAX_ROWS

    async def _write_one_statement(self, plan: _Plan, req: Request, checkpoint) -> None:
        """Request row, block, transactions, events, burn block, dead letter, tip and checkpoint in one
        INSERT ... WITH statement: atomic on its own (an implicit transaction), so the commit and the reply
        come back in a single round trip. Only used when nothing flips, so the order of the parts is free."""
        args: list = []

        def arg(value, cast: str = "") -> str:
            args.append(value)
            return f"${len(args)}{cast}"

        parts = [f"req AS (INSERT INTO raw.observer_requests ({', '.join(REQUEST_COLUMNS[1:])}) VALUES ("
                 + ", ".join(arg(v) for v in _request_values(req)) + ") RETURNING id)"]
        rid = "(SELECT id FROM req)"
        for i, ((pb, _r), c) in enumerate(zip(plan.new_blocks, plan.block_flags, strict=True)):
            parts.append(f"b{i} AS (INSERT INTO raw.blocks ({', '.join(P.BLOCK_COLUMNS)}) VALUES ("
                         + ", ".join(arg(v) for v in pb.row) + f", {arg(c)}, {rid}))")
            for name, table, rows in (("t", "transactions", pb.txs), ("e", "events", pb.events)):
                if rows:
                    cols = P.TX_COLUMNS if table == "transactions" else P.EVENT_COLUMNS
                    types = self._column_types[table]
                    arrays = ", ".join(arg(list(col), f"::{types[n]}[]")
                                       for n, col in zip(cols, zip(*rows, strict=True), strict=False))
                    parts.append(f"{name}{i} AS (INSERT INTO raw.{table} ({', '.join(cols)}) "
                                 f"SELECT u.*, {arg(c)}::boolean, {rid} FROM unnest({arrays}) AS u)")
        for i, ((pb, _r), c) in enumerate(zip(plan.new_burns, plan.burn_flags, strict=True)):
            parts.append(f"bb{i} AS (INSERT INTO raw.burn_blocks ({', '.join(P.BURN_COLUMNS)}) VALUES ("
                         + ", ".join(arg(v) for v in pb.row) + f", {arg(c)}, {rid}))")
        for i, (_r, reason, detail) in enumerate(plan.dead):
            parts.append(f"dl{i} AS (INSERT INTO raw.dead_letters (request_id, path, reason, detail) "
                         f"VALUES ({rid}, {arg(req.path)}, {arg(reason)}, {arg(detail)}))")
        tip_args = ", ".join(arg(v) for v in plan.tip)
        parts.append(f"tip AS (UPDATE raw.chain_tip SET (index_block_hash, block_hash, block_height, block_time, "
                     f"burn_block_hash, burn_block_height, burn_block_time, last_request_id, updated_at) = "
                     f"({tip_args}, GREATEST(last_request_id, {rid}), now()))")
        if checkpoint is not None:
            name, position, info = checkpoint
            parts.append(f"cp AS (INSERT INTO raw.checkpoints (name, position, info, updated_at) VALUES "
                         f"({arg(name)}, {arg(position)}, {arg(json_text(info))}::jsonb, now()) "
                         "ON CONFLICT (name) DO UPDATE SET position = EXCLUDED.position, info = EXCLUDED.info, "
                         "updated_at = now())")
        req.request_id = await self.conn.fetchval("WITH " + ",\n".join(parts) + "\nSELECT id FROM req", *args)
        plan.res.last_request_id = req.request_id

    async def _flip(self, hashes: list[bytes], canonical: bool) -> None:
        conn = self.conn
        for table in ("blocks", "transactions", "events"):
            await conn.execute(f"UPDATE raw.{table} SET canonical = $2 WHERE index_block_hash = ANY($1)",
                               hashes, canonical)

    def _add_burn(self, pb: P.ParsedBurnBlock, req: Request, initial: dict, new: list, new_set: set,
                  tip: TipInfo) -> None:
        """A burn block (re)delivered is the burn tip at its height: orphan competitors at or above it.
        A duplicate of a block that is already canonical changes nothing."""
        h, height = pb.burn_block_hash, pb.burn_block_height
        known = self.burn.get(h)
        if known is not None and known[1]:
            return
        if known is None:
            self.burn[h] = known = [height, False]
            new.append((pb, req))
            new_set.add(h)
        else:
            initial.setdefault(h, False)
        for other_height in [x for x in self.burn_by_height if x >= height]:
            other = self.burn_by_height.pop(other_height)
            self.burn[other][1] = False
            if other not in new_set:
                initial.setdefault(other, True)
        known[1] = True
        self.burn_by_height[height] = h
        tip.burn_block_hash, tip.burn_block_height = h, height

    # --- dead letters outside a batch (the database refused a payload's rows) ------------------

    async def dead_letter(self, req: Request, reason: str, detail: str, *, existing: bool = False) -> int:
        """Store the request and its dead letter in their own transaction; returns the request id.
        ``existing``: the request row is already there (rebuild), only the dead letter is added."""
        async with self.conn.transaction():
            if existing and req.request_id is not None:
                rid = req.request_id
                await self.conn.execute("UPDATE raw.observer_requests SET outcome = 'dead_letter' WHERE id = $1", rid)
            else:
                body = req.body.encode("utf-8", "surrogateescape") if isinstance(req.body, str) else req.body
                rid = await self.conn.fetchval(
                    "INSERT INTO raw.observer_requests (received_at, path, payload, body, body_size, body_truncated,"
                    " source, source_id, outcome) VALUES ($1, $2, NULL, $3, $4, $5, $6, $7, 'dead_letter') RETURNING id",
                    req.received_at, req.path, body,
                    req.truncated_size if req.truncated_size is not None else len(body),
                    req.truncated_size is not None, req.source, req.source_id)
            await self.conn.execute(
                "INSERT INTO raw.dead_letters (request_id, path, reason, detail) VALUES ($1, $2, $3, $4)",
                rid, req.path, reason, detail)
        req.request_id, req.outcome = rid, "dead_letter"
        for fn in self.listeners:
            fn(BatchResult(dead_letters=1, last_request_id=rid), [req])
        return rid

    async def set_checkpoint(self, name: str, position: int, info: dict) -> None:
        await self.conn.execute(_CHECKPOINT_SQL, name, position, json_text(info))


def now() -> datetime:
    return datetime.now(UTC)


def monotonic_ms() -> float:
    return time.perf_counter() * 1000.0


# SQLSTATE classes that mean "this data can never be written", as opposed to a connection or server problem.
_PERMANENT_CLASSES = ("22", "23", "42", "54")


def is_permanent_db_error(exc: BaseException) -> bool:
    state = getattr(exc, "sqlstate", None)
    return isinstance(exc, asyncpg.PostgresError) and bool(state) and state[:2] in _PERMANENT_CLASSES
