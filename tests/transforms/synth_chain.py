"""Scripted chains from the scale-data generator (benchmarks/synth_policies.py) for the transforms tests that
replay them block by block and through a fork: a generator that keeps each block's observer requests and names
the blocks after ``fork_at`` apart (a run with ``fork_at`` writes a competing branch), and the replay helpers."""

from __future__ import annotations

import sys
from pathlib import Path

from indexer.ingest import Writer
from indexer.replay import replay_file

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import synth_policies as synth  # noqa: E402


class BranchingGenerator(synth.Generator):
    """``blocks``: each height's requests (TSV lines); ``fork_at``: blocks above it get other hashes."""

    def __init__(self, out, *, fork_at: int | None = None, **kw) -> None:
        super().__init__(out, **kw)
        self.fork_at = fork_at
        self.blocks: dict[int, list[str]] = {}

    @property
    def on_branch(self) -> bool:
        """The block being written is above the fork (only when ``fork_at`` is set)."""
        return self.fork_at is not None and self.h > self.fork_at

    def write(self, path: str, payload: dict) -> None:
        start = self.out.tell()
        super().write(path, payload)
        self.out.seek(start)
        self.blocks.setdefault(self.h, []).append(self.out.read())

    def block_hash(self, h: int) -> str:
        return synth.h32("block", h, "fork") if self.fork_at is not None and h > self.fork_at else super().block_hash(h)


def write(path: Path, blocks: dict[int, list[str]], heights, first_id: int = 0) -> Path:
    """The requests of ``heights`` as a TSV, renumbered from ``first_id`` + 1 (ids only grow, as the indexer's)."""
    with path.open("w") as f:
        n = first_id
        for h in heights:
            for line in blocks[h]:
                n += 1
                f.write(f"{n}\t{line.split(chr(9), 1)[1]}")
    return path


async def replay(db_url: str, path: Path) -> None:
    writer = await Writer.open(db_url)
    try:
        stats = await replay_file(writer, path, progress=False)
    finally:
        await writer.close()
    assert stats["dead_letters"] == 0, stats
