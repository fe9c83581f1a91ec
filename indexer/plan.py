"""Planning a batch: fork choice for every block in it, and every row and flip the writer will write.

No writes. :func:`plan` updates the writer's in-memory chains (which mirror the committed tables; the writer
reloads them if the batch then fails to commit) and reads stored history only through ``read_history``, for
a block whose rules reach below the in-memory window. Request ids are not known yet: the writer finishes
the rows when it writes them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from bithedge import logs
from indexer.chain import BurnChain, Chain, Change
from indexer.payloads import ParsedBlock, ParsedBurnBlock, ParsedDrop, ParsedMempool, PayloadError
from indexer.prepare import Request
from indexer.rows import TipRow

log = logs.get("indexer.plan")


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
class DeadLetter:
    request: Request
    reason: str
    detail: str


@dataclass(slots=True)
class Reorg:
    """A ``raw.reorgs`` row before its request id is known."""

    depth: int
    restored: int
    fork_height: int
    old_tip: bytes | None
    new_tip: bytes
    request: Request


@dataclass(slots=True)
class Flips:
    """Stored blocks a batch touched: which must be orphaned and which restored, from their flags before it."""

    initial: dict[bytes, bool] = field(default_factory=dict)
    new: set[bytes] = field(default_factory=set)

    def record(self, change: Change) -> None:
        for h in change.orphaned:
            if h not in self.new:
                self.initial.setdefault(h, True)
        for h in change.restored:
            if h not in self.new:
                self.initial.setdefault(h, False)

    def split(self, canonical: Callable[[bytes], bool]) -> tuple[list[bytes], list[bytes]]:
        """(orphan, restore) from the flags after the batch."""
        orphan = [h for h, was in self.initial.items() if was and not canonical(h)]
        restore = [h for h, was in self.initial.items() if not was and canonical(h)]
        return orphan, restore


@dataclass(slots=True)
class Plan:
    """What a batch writes; rows carry their Request until its id is known."""

    res: BatchResult = field(default_factory=BatchResult)
    dead: list[DeadLetter] = field(default_factory=list)
    new_blocks: list[tuple[ParsedBlock, Request]] = field(default_factory=list)
    block_flags: list[bool] = field(default_factory=list)  # final canonical flag of each new block
    new_burns: list[tuple[ParsedBurnBlock, Request]] = field(default_factory=list)
    burn_flags: list[bool] = field(default_factory=list)
    mempool: list[tuple[bytes, bytes, Request]] = field(default_factory=list)  # (txid, raw_tx, Request)
    drops: list[tuple] = field(default_factory=list)  # (txid, dropped_at, reason, new_txid)
    reorgs: list[Reorg] = field(default_factory=list)
    orphan: list[bytes] = field(default_factory=list)
    restore: list[bytes] = field(default_factory=list)
    burn_orphan: list[bytes] = field(default_factory=list)
    burn_restore: list[bytes] = field(default_factory=list)
    tip: TipRow = TipRow()

    @property
    def flips(self) -> bool:
        return bool(self.orphan or self.restore or self.burn_orphan or self.burn_restore)


async def plan(requests: Sequence[Request], chain: Chain, burns: BurnChain, tip: TipRow,
               read_history: Callable[[ParsedBlock], Awaitable[None]]) -> Plan:
    """Run fork choice for the batch (prepared requests) and decide every row and flip."""
    out = Plan()
    res = out.res
    blocks, burn_flips = Flips(), Flips()

    for r in requests:
        parsed = r.parsed
        if isinstance(parsed, PayloadError):
            r.outcome = "dead_letter"
            out.dead.append(DeadLetter(r, parsed.reason, str(parsed)))
            res.dead_letters += 1
        elif isinstance(parsed, ParsedBlock):
            row = parsed.row
            h = row.index_block_hash
            if chain.needs_history(h, row.block_height, row.parent_index_block_hash):
                await read_history(parsed)
            change = chain.add(h, row.block_height, row.parent_index_block_hash, row.nakamoto)
            if change is None:
                r.outcome = "duplicate"
                res.duplicates += 1
                continue
            r.outcome = "block"
            blocks.new.add(h)
            out.new_blocks.append((parsed, r))
            blocks.record(change)
            if change.orphaned:
                res.reorgs.append((change.reorg_depth, change.fork_height))
                out.reorgs.append(Reorg(len(change.orphaned), len(change.restored), change.fork_height,
                                        change.old_tip, change.new_tip or h, r))
                log.warning("reorg", depth=change.reorg_depth, restored=len(change.restored),
                            fork_height=change.fork_height, new_tip="0x" + h.hex(),
                            height=row.block_height, nakamoto=row.nakamoto)
            if chain.tip == h:
                tip = tip._replace(index_block_hash=h, block_hash=row.block_hash, block_height=row.block_height,
                                   block_time=row.block_time)
            res.blocks += 1
            res.txs += len(parsed.txs)
            res.events += len(parsed.events)
        elif isinstance(parsed, ParsedBurnBlock):
            r.outcome = "burn_block"
            row = parsed.row
            h = row.burn_block_hash
            is_new = h not in burns
            change = burns.add(h, row.burn_block_height)
            if change is None:
                continue
            if is_new:
                burn_flips.new.add(h)
                out.new_burns.append((parsed, r))
            burn_flips.record(change)
            tip = tip._replace(burn_block_hash=h, burn_block_height=row.burn_block_height)
        elif isinstance(parsed, ParsedMempool):
            r.outcome = "stored"
            out.mempool.extend((txid, raw, r) for txid, raw in parsed.txs)
        elif isinstance(parsed, ParsedDrop):
            r.outcome = "stored"
            out.drops.extend((t, r.received_at, parsed.reason, parsed.new_txid) for t in parsed.txids)
        else:
            r.outcome = "stored"

    nodes = chain.nodes
    out.orphan, out.restore = blocks.split(lambda h: nodes[h].canonical)
    out.block_flags = [nodes[pb.index_block_hash].canonical for pb, _ in out.new_blocks]
    out.burn_orphan, out.burn_restore = burn_flips.split(burns.canonical)
    out.burn_flags = [burns.canonical(pb.row.burn_block_hash) for pb, _ in out.new_burns]
    out.tip = tip
    return out
