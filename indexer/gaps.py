"""The gap reconciler: while serving, fetch missing parents of canonical blocks, and heights the node has that
we lack (when no delivery arrived for a while), from the API, through the server's write path.

It is given what it uses: a :class:`~stacks.rpc.StacksClient`, a :class:`WriterHandle` (the server's writer
under its lock, and its ingest) and callables for the node's tip and the time since the last delivery.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bithedge import logs
from indexer.backfill import block_payload
from indexer.ingest import Writer
from indexer.prepare import Request, now
from indexer.sql import queries as Q
from stacks.rpc import StacksClient

log = logs.get("indexer.gaps")

# Missing parents looked at per round (newest first) and heights fetched past our tip per round.
MISSING_PER_ROUND = 50
AHEAD_PER_ROUND = 200
ATTEMPTS = 3  # a target the API failed this often is skipped (an API that lacks it)


@dataclass
class WriterHandle:
    """The server's writer, shared under its lock (one connection serves one statement at a time)."""

    lock: asyncio.Lock
    current: Callable[[], Writer]  # the server reopens its writer after a lost connection
    ingest: Callable[[Request], Awaitable[tuple[int, dict]]]  # the server's write (lock, dead letters, 500s)

    async def missing_parents(self, limit: int) -> list[bytes]:
        async with self.lock:
            return [bytes(r[0]) for r in await self.current().conn.fetch(Q["missing_parents"], limit)]

    async def knows(self, index_block_hash: bytes) -> bool:
        async with self.lock:
            return await self.current().knows(index_block_hash)

    @property
    def tip_height(self) -> int | None:
        return self.current().tip.block_height


class GapReconciler:
    def __init__(self, client: StacksClient, writer: WriterHandle, *,
                 node_tip: Callable[[], Awaitable[tuple[int | None, str | None]]], idle: Callable[[], bool],
                 on_fill: Callable[[], None] = lambda: None, max_per_round: int = 500) -> None:
        self.client = client
        self.writer = writer
        self.node_tip = node_tip
        self.idle = idle
        self.on_fill = on_fill
        self.max_per_round = max_per_round
        self.failed: dict[str, int] = {}  # hash/height -> attempts, to back off on ones the API lacks

    async def run_once(self) -> int:
        targets: list[int | str] = ["0x" + h.hex() for h in await self.writer.missing_parents(MISSING_PER_ROUND)]
        node_tip, _ = await self.node_tip()
        ours = self.writer.tip_height
        if node_tip is not None and self.idle() and (ours is None or node_tip > ours):
            targets.extend(range((ours or -1) + 1, min(node_tip, (ours or -1) + AHEAD_PER_ROUND) + 1))
        filled = 0
        queue = list(targets)
        while queue and filled < self.max_per_round:
            t = queue.pop(0)
            key = str(t)
            if self.failed.get(key, 0) >= ATTEMPTS:
                continue
            try:
                payload = await block_payload(self.client, t)
            except Exception as exc:
                self.failed[key] = self.failed.get(key, 0) + 1
                log.info("gap_fetch_failed", target=key, error=str(exc))
                continue
            req = Request("/new_block", json.dumps(payload), now(), source="backfill")
            status, _ = await self.writer.ingest(req)
            if status == 200 and req.outcome == "block":
                filled += 1
                self.on_fill()
                log.info("gap_filled", target=key, height=payload["block_height"])
                # a hole of several blocks: walk down its parent links in this round, not one per round
                parent = str(payload.get("parent_index_block_hash") or "")
                if isinstance(t, str) and parent and not await self.writer.knows(_unhex(parent)):
                    queue.insert(0, parent)
        return filled


def _unhex(h: str) -> bytes:
    try:
        return bytes.fromhex(h.removeprefix("0x"))
    except ValueError:
        return b""
