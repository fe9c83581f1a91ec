"""Which blocks are canonical: the fork-choice rules for Stacks blocks (:class:`Chain`) and burn blocks
(:class:`BurnChain`), in memory, for the single writer. Both report what a new block did as a :class:`Change`.

The writer keeps a window of recent blocks' (hash, height, parent, canonical) in memory (about 140 bytes
per block), asks :meth:`Chain.add` what changes when a block arrives, and writes those flips in the same
transaction as the block. Every stored block at or above :attr:`Chain.low` is in memory; a block that
reaches below it (a deep fork, an old duplicate, a gap filled late) makes :meth:`Chain.needs_history`
true, and the writer merges the rows the rules will look at from the database first
(:meth:`Chain.merge`), so reorgs of any depth see the same chain as if everything were loaded.
Stacks rules:

* pre-Nakamoto: longest chain wins, first seen wins a tie;
* Nakamoto (signer-approved, ``signer_signature`` present): the newest block is the tip, even when that
  moves the tip backwards; the abandoned branch is orphaned;
* a block whose canonical child already exists (a gap filled late, e.g. by backfill) joins the chain.

The canonical set is always "the ancestors of the tip", with at most one block per height; orphaned
and restored blocks are reported so their transactions and events flip with them. Nothing is deleted.

Burn blocks (Bitcoin): a burn block delivered, new or again, is the burn tip at its height, so every canonical
burn block at or above its height is orphaned. A re-delivery of a block that is already canonical changes
nothing. Burn blocks are few (one per ~10 minutes), so all of them stay in memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class Node:
    height: int
    parent: bytes
    canonical: bool


@dataclass(slots=True)
class Change:
    """What one new block did to the canonical set (``None`` from :meth:`Chain.add` means duplicate)."""

    canonical: bool  # the new block's own flag right after it arrived
    restored: list[bytes] = field(default_factory=list)  # existing blocks that became canonical
    orphaned: list[bytes] = field(default_factory=list)  # blocks that stopped being canonical
    fork_height: int | None = None
    old_tip: bytes | None = None
    new_tip: bytes | None = None

    @property
    def reorg_depth(self) -> int:
        return len(self.orphaned)


class Chain:
    def __init__(self, low: int = 0) -> None:
        self.nodes: dict[bytes, Node] = {}
        self.by_height: dict[int, bytes] = {}  # canonical block at each height
        self.tip: bytes | None = None
        self.low = low  # every stored block at or above this height is in memory

    @classmethod
    def from_rows(cls, rows, low: int = 0) -> Chain:
        """Rows of (index_block_hash, block_height, parent_index_block_hash, canonical): at least every
        stored block at or above ``low``."""
        chain = cls(low)
        chain.merge(rows)
        return chain

    def merge(self, rows) -> None:
        """Add stored blocks (rows as in :meth:`from_rows`) that are not in memory yet."""
        nodes, by_height = self.nodes, self.by_height
        for h, height, parent, canonical in rows:
            h = bytes(h)
            if h in nodes:
                continue
            nodes[h] = Node(height, bytes(parent), canonical)
            if canonical:
                by_height[height] = h
                if self.tip is None or height > nodes[self.tip].height:
                    self.tip = h

    def needs_history(self, h: bytes, height: int, parent: bytes) -> bool:
        """Whether :meth:`add` of this block could look at stored blocks that are not in memory: it is not
        in memory and sits just above or below :attr:`low` (an old duplicate, a gap filled below the
        window), or its branch leaves memory below :attr:`low` before meeting the canonical chain, or
        meets it below :attr:`low`. A parent missing at or above :attr:`low` is a real gap (not stored)."""
        if h in self.nodes:
            return False
        if height - 1 < self.low:
            return True
        cur, below = parent, height
        while True:
            node = self.nodes.get(cur)
            if node is None or node.height >= below:  # not stored (or a corrupt link): a gap below `below`
                return below - 1 < self.low
            if node.canonical:
                return node.height + 1 < self.low
            cur, below = node.parent, node.height

    def history_top(self, height: int, nakamoto: bool) -> int:
        """For a block that :meth:`needs_history`: the (exclusive) top height of the stored canonical blocks
        to read. Up to :attr:`low` when it may become the tip (everything above the fork point may be
        orphaned); otherwise up to its child's height, the most a gap fill below the tip touches."""
        tip_height = self.tip_height
        if tip_height is None or nakamoto or height > tip_height:
            return self.low
        return min(self.low, height + 2)

    def trim(self, window: int) -> int:
        """Forget blocks more than ``window`` heights below the tip (with some slack, so the scan runs once
        per ``window // 4`` blocks, not per block). Returns how many were dropped."""
        if self.tip is None:
            return 0
        new_low = self.nodes[self.tip].height - window
        if new_low - self.low <= max(1, window // 4):
            return 0
        drop = [h for h, n in self.nodes.items() if n.height < new_low]
        for h in drop:
            n = self.nodes.pop(h)
            if n.canonical and self.by_height.get(n.height) == h:
                del self.by_height[n.height]
        self.low = new_low
        return len(drop)

    def __contains__(self, h: bytes) -> bool:
        return h in self.nodes

    def __len__(self) -> int:
        return len(self.nodes)

    @property
    def tip_height(self) -> int | None:
        return None if self.tip is None else self.nodes[self.tip].height

    def add(self, h: bytes, height: int, parent: bytes, nakamoto: bool = False) -> Change | None:
        if h in self.nodes:
            return None
        self.nodes[h] = Node(height, parent, False)
        old_tip = self.tip
        if old_tip is None or nakamoto or height > self.nodes[old_tip].height:
            change = self._canonicalize(h, upper=None)
            change.old_tip, change.new_tip = old_tip, h
            return change
        child = self.by_height.get(height + 1)
        if child is not None and self.nodes[child].parent == h:
            change = self._canonicalize(h, upper=height)
            change.old_tip = change.new_tip = old_tip
            return change
        return Change(canonical=False, old_tip=old_tip, new_tip=old_tip)

    def _canonicalize(self, start: bytes, upper: int | None) -> Change:
        """Make ``start`` and its non-canonical ancestors canonical; orphan whatever they displace.

        ``upper=None``: ``start`` is the new tip, so every canonical block above the fork point and off
        the new path is orphaned (for Nakamoto that includes blocks higher than the new tip).
        ``upper=H``: only heights up to H are touched (a gap filled below the existing chain).
        """
        path: list[bytes] = []
        cur = start
        node = self.nodes.get(cur)
        while node is not None and not node.canonical:
            path.append(cur)
            cur = node.parent
            parent = self.nodes.get(cur)
            # a parent is always lower; a link that is not (corrupt data) is a gap, so the walk always ends
            node = parent if parent is not None and parent.height < node.height else None
        if node is not None:
            fork_height = node.height
        else:  # reached a gap: the missing parent is at the height below the lowest path block, so whatever
            # we hold at that height is not it; below that, nothing is known and nothing changes
            fork_height = self.nodes[path[-1]].height - 2
        on_path = {self.nodes[p].height: p for p in path}
        top = upper
        if top is None:
            top = self.nodes[start].height
            if self.tip is not None:
                top = max(top, self.nodes[self.tip].height)
        orphaned = []
        for height in range(fork_height + 1, top + 1):
            current = self.by_height.get(height)
            if current is not None and on_path.get(height) != current:
                self.nodes[current].canonical = False
                del self.by_height[height]
                orphaned.append(current)
        for p in path:
            n = self.nodes[p]
            n.canonical = True
            self.by_height[n.height] = p
        if upper is None:
            self.tip = start
        restored = [p for p in path if p != start]
        return Change(canonical=True, restored=restored, orphaned=orphaned, fork_height=fork_height)


@dataclass(slots=True)
class BurnNode:
    height: int
    canonical: bool


class BurnChain:
    def __init__(self) -> None:
        self.nodes: dict[bytes, BurnNode] = {}
        self.by_height: dict[int, bytes] = {}  # canonical burn block at each height
        self.tip: bytes | None = None

    @classmethod
    def from_rows(cls, rows) -> BurnChain:
        """Rows of (burn_block_hash, burn_block_height, canonical): every stored burn block."""
        chain = cls()
        for h, height, canonical in rows:
            h = bytes(h)
            chain.nodes[h] = BurnNode(height, canonical)
            if canonical:
                chain.by_height[height] = h
                if chain.tip is None or height > chain.nodes[chain.tip].height:
                    chain.tip = h
        return chain

    def __contains__(self, h: bytes) -> bool:
        return h in self.nodes

    def canonical(self, h: bytes) -> bool:
        return self.nodes[h].canonical

    def add(self, h: bytes, height: int) -> Change | None:
        """Deliver a burn block; ``None`` when it is already canonical. A known, non-canonical block is
        restored (``restored == [h]``)."""
        node = self.nodes.get(h)
        if node is not None and node.canonical:
            return None
        if node is None:
            node = self.nodes[h] = BurnNode(height, False)
            restored = []
        else:
            restored = [h]
        old_tip = self.tip
        top = self.nodes[old_tip].height if old_tip is not None else height - 1
        orphaned = []
        for other_height in range(height, top + 1):
            other = self.by_height.pop(other_height, None)
            if other is not None:
                self.nodes[other].canonical = False
                orphaned.append(other)
        node.canonical = True
        self.by_height[height] = h
        self.tip = h
        return Change(canonical=True, restored=restored, orphaned=orphaned, fork_height=height - 1,
                      old_tip=old_tip, new_tip=h)
