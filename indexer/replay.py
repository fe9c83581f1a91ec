"""Replay TSV exports and rebuild the raw tables from ``raw.observer_requests``, through the one write path.

Both batch requests (many blocks per transaction, COPY writes) and commit a checkpoint with every batch,
so a crash resumes where the last commit ended: nothing is lost, nothing is written twice.
Decoding can run in a worker process while the main process writes (``workers``).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

from tqdm import tqdm

from bithedge import logs
from indexer import tsv
from indexer.ingest import Writer, is_permanent_db_error, notify_payload
from indexer.prepare import Prepared, Request, prepare
from indexer.rows import TipRow
from indexer.sql import queries as Q

log = logs.get("indexer.replay")



class BodiesCleared(RuntimeError):
    """Rebuild needs every stored body, and the retention job has cleared some."""


@contextlib.asynccontextmanager
async def asynchronous_commits(writer: Writer):
    """``synchronous_commit = off`` for this session while replay or rebuild runs: a commit returns before
    its WAL reaches disk. Safe here because every batch commits its checkpoint in the same transaction:
    a server crash can only lose whole trailing batches together with their checkpoint, and the next run
    re-reads them from the source (the TSV file, or raw.observer_requests). Never used by ``serve``, whose
    200 promises a durable commit."""
    before = await writer.conn.fetchval(Q["synchronous_commit"])
    await writer.conn.execute(Q["set_synchronous_commit"], "off")
    try:
        yield
    finally:
        if not writer.conn.is_closed():
            with contextlib.suppress(Exception):
                await writer.conn.execute(Q["set_synchronous_commit"], before)


def _batches(requests: Iterable[Request], max_requests: int, max_events: int) -> Iterator[list[Request]]:
    batch: list[Request] = []
    weight = 0
    for r in requests:
        batch.append(r)
        # the payload size is a cheap proxy for the number of rows it will produce
        weight += 1 + len(r.body) // 400
        if len(batch) >= max_requests or weight >= max_events:
            yield batch
            batch, weight = [], 0
    if batch:
        yield batch


def _prepare_batch(batch: list[Request]) -> list[Request]:
    return [prepare(r) for r in batch]


def _prepare_remote(batch: list[Request]) -> list[tuple]:
    """In a decoder process: only what :func:`prepare` adds travels back, not the bodies the main process
    still holds (pickling them back cost the writer as much CPU as encoding the COPY rows)."""
    out = []
    for r in batch:
        p = prepare(r).prepared
        same = p.payload_text is r.body
        out.append((p.parsed, same, None if same else p.payload_text, p.store_body))
    return out


def _merge(batch: list[Request], prepared: list[tuple]) -> list[Request]:
    for r, (parsed, same, text, store_body) in zip(batch, prepared, strict=True):
        r.prepared = Prepared(parsed, r.body if same else text, store_body)
    return batch


async def _pipeline(batches: Iterator[list[Request]], workers: int):
    """Yield prepared batches; with workers, decode batch N+1 in another process while N is written."""
    if workers <= 0:
        for b in batches:
            yield _prepare_batch(b)
        return
    loop = asyncio.get_running_loop()
    with concurrent.futures.ProcessPoolExecutor(max_workers=workers) as pool:
        pending: list[tuple[list[Request], asyncio.Future]] = []
        it = iter(batches)
        done = False
        while True:
            while not done and len(pending) < workers + 1:
                try:
                    b = next(it)
                except StopIteration:
                    done = True
                    break
                pending.append((b, loop.run_in_executor(pool, _prepare_remote, b)))
            if not pending:
                return
            b, fut = pending.pop(0)
            yield _merge(b, await fut)


async def write_batch(writer: Writer, batch: list[Request], checkpoint, store_requests: bool = True):
    """Write a batch; if the database refuses its rows, write one request at a time so only the bad one
    becomes a dead letter."""
    try:
        return await writer.write(batch, checkpoint=checkpoint, store_requests=store_requests)
    except Exception as exc:
        if not is_permanent_db_error(exc):
            raise
        if len(batch) == 1:
            req = batch[0]
            log.error("dead_letter", path=req.path, request_id=req.request_id, error=str(exc))
            if store_requests:
                req.request_id = None
            await writer.dead_letter(req, "database_rejected", f"{type(exc).__name__}: {exc}",
                                     existing=not store_requests)
            if checkpoint is not None:
                await writer.set_checkpoint(*checkpoint)
            return None
        for i, req in enumerate(batch):
            if store_requests:
                req.request_id = None
            await write_batch(writer, [req], checkpoint if i == len(batch) - 1 else None, store_requests)
        return None


async def replay_file(writer: Writer, path: Path, *, batch_requests: int = 500, batch_events: int = 20000,
                      workers: int = 0, progress: bool = True) -> dict:
    path = Path(path)
    name = f"replay:{path.name}"
    source = f"tsv:{path.name}"
    cp = await writer.checkpoint(name)
    after = None if cp is None else cp[0]
    total = tsv.count_rows(path)
    stats = {"file": str(path), "requests": 0, "blocks": 0, "events": 0, "duplicates": 0, "dead_letters": 0,
             "resumed_after_id": after}

    def requests() -> Iterator[Request]:
        for row in tsv.read(path, after_id=after):
            yield Request(row.path, row.payload, row.received_at, source=source, source_id=row.id)

    bar = tqdm(total=total, desc=path.name, unit="req", disable=not progress, file=sys.stderr, leave=True)
    if after is not None:
        bar.set_postfix_str(f"resuming after id {after}")
    async with asynchronous_commits(writer):
        async for batch in _pipeline(_batches(requests(), batch_requests, batch_events), workers):
            last = batch[-1].source_id
            res = await write_batch(writer, batch, (name, last, {"file": str(path)}))
            stats["requests"] += len(batch)
            if res is not None:
                stats["blocks"] += res.blocks
                stats["events"] += res.events
                stats["duplicates"] += res.duplicates
                stats["dead_letters"] += res.dead_letters
            bar.update(len(batch))
    bar.close()
    return stats


async def rebuild(writer: Writer, *, restart: bool = False, batch_requests: int = 500, batch_events: int = 20000,
                  progress: bool = True) -> dict:
    """Re-derive every raw table from raw.observer_requests (needs TRUNCATE on raw: the migration owner)."""
    conn = writer.conn
    cleared = await conn.fetchval(Q["cleared_bodies"])
    if cleared:
        raise BodiesCleared(f"{cleared} stored request bodies were cleared by the retention job "
                            "(BITHEDGE_INDEXER_BODY_RETENTION_DAYS); rebuild needs every body, so it does not start")
    cp = await writer.checkpoint("rebuild")
    fresh = restart or cp is None or bool(cp[1].get("done"))
    if fresh:
        async with conn.transaction():
            await conn.execute(Q["rebuild_reset"])
            await conn.execute(Q["notify_raw"], notify_payload(TipRow()))
        await writer.reload()
        after = 0
    else:
        after = cp[0]
    total = await conn.fetchval(Q["rebuild_remaining"], after)
    bar = tqdm(total=total, desc="rebuild", unit="req", disable=not progress, file=sys.stderr)
    stats = {"requests": 0, "blocks": 0, "events": 0, "dead_letters": 0, "resumed_after_id": None if fresh else after}
    async with asynchronous_commits(writer):
        while True:
            rows = await conn.fetch(Q["rebuild_batch"], after, batch_requests)
            if not rows:
                break
            batch = []
            for r in rows:
                if r["body"] is not None and not r["body_truncated"]:
                    body: bytes | str = bytes(r["body"])
                else:
                    body = r["payload"] if r["payload"] is not None else b""
                batch.append(Request(r["path"], body, r["received_at"], request_id=r["id"],
                                     truncated_size=r["body_size"] if r["body_truncated"] else None))
            after = rows[-1]["id"]
            batch = _prepare_batch(batch)
            res = await write_batch(writer, batch, ("rebuild", after, {"done": False}), store_requests=False)
            stats["requests"] += len(batch)
            if res is not None:
                stats["blocks"] += res.blocks
                stats["events"] += res.events
                stats["dead_letters"] += res.dead_letters
            bar.update(len(batch))
    bar.close()
    await writer.set_checkpoint("rebuild", after, {"done": True})
    return stats
