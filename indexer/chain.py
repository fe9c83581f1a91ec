"""Which blocks are canonical: the fork-choice rules, in memory, for the single writer.

The writer loads every block's (hash, height, parent, canonical) at start (about 150 bytes per block),
asks :meth:`Chain.add` what changes when a block arrives, and writes those flips in the same
transaction as the block. Rules (stacks-formats.md §1.3, §2.2):

* pre-Nakamoto: longest chain wins, first seen wins a tie;
* Nakamoto (signer-approved, ``signer_signature`` present): the newest block is the tip, even when that
  moves the tip backwards; the abandoned branch is orphaned;
* a block whose canonical child already exists (a gap filled late, e.g. by backfill) joins the chain.

The canonical set is always "the ancestors of the tip", with at most one block per height; orphaned
and restored blocks are reported so their transactions and events flip with them. Nothing is deleted.
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
    def __init__(self) -> None:
        self.nodes: dict[bytes, Node] = {}
        self.by_height: dict[int, bytes] = {}  # canonical block at each height
        self.tip: bytes | None = None

    @classmethod
    def from_rows(cls, rows) -> Chain:
        """Rows of (index_block_hash, block_height, parent_index_block_hash, canonical)."""
        chain = cls()
        best = None
        for h, height, parent, canonical in rows:
            h, parent = bytes(h), bytes(parent)
            chain.nodes[h] = Node(height, parent, canonical)
            if canonical:
                chain.by_height[height] = h
                if best is None or height > best:
                    best = height
        if best is not None:
            chain.tip = chain.by_height[best]
        return chain

    def __contains__(self, h: bytes) -> bool:
        return h in self.nodes

    def __len__(self) -> int:
        return len(self.nodes)

    @property
    def tip_height(self) -> int | None:
        return None if self.tip is None else self.nodes[self.tip].height

    def is_canonical(self, h: bytes) -> bool:
        n = self.nodes.get(h)
        return bool(n and n.canonical)

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
            node = self.nodes.get(cur)
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
