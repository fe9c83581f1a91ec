"""Reads the shared Stacks fixtures (``<repo>/../shared/fixtures/stacks``) for tests and benchmarks.

Never copies them: callers get the hex strings found in the recorded payloads.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURES = REPO_ROOT.parent / "shared" / "fixtures" / "stacks"
VECTORS = FIXTURES / "vectors" / "stacks-wire-vectors.json"
# A Bitcoin-side burnchain operation, not a Stacks transaction (stacks-formats.md 1.5).
BURNCHAIN_OP_RAW_TX = "0x00"


@dataclass(frozen=True)
class RawItem:
    source: str  # file name, for failure messages
    kind: str  # "raw_tx", "raw_result", "raw_value" or "mempool_tx"
    hex: str
    txid: str | None = None  # recorded txid next to a raw_tx
    topic: str | None = None  # contract_event topic next to a raw_value


def available() -> bool:
    return FIXTURES.is_dir()


def _payloads() -> Iterator[tuple[str, str, object]]:
    """Yield ``(file name, observer path or '', parsed JSON body)``."""
    for path in sorted(FIXTURES.rglob("*.tsv")):
        for line in path.read_text(encoding="utf-8").splitlines():
            fields = line.split("\t", 3)
            if len(fields) == 4:
                yield path.name, fields[2], json.loads(fields[3])
    for path in sorted((FIXTURES / "event-observer").rglob("*.json")):
        yield path.name, "", json.loads(path.read_text(encoding="utf-8"))


def _walk(source: str, node: object) -> Iterator[RawItem]:
    if isinstance(node, dict):
        if isinstance(node.get("raw_tx"), str):
            yield RawItem(source, "raw_tx", node["raw_tx"], txid=node.get("txid"))
        if isinstance(node.get("raw_result"), str):
            yield RawItem(source, "raw_result", node["raw_result"])
        if isinstance(node.get("raw_value"), str):
            yield RawItem(source, "raw_value", node["raw_value"], topic=node.get("topic"))
        for child in node.values():
            yield from _walk(source, child)
    elif isinstance(node, list):
        for child in node:
            yield from _walk(source, child)


def raw_items() -> list[RawItem]:
    """Every raw tx / result / value in the recorded payloads, duplicates removed."""
    seen: set[tuple[str, str]] = set()
    items = []
    for source, path, body in _payloads():
        found = (
            (RawItem(source, "mempool_tx", tx) for tx in body)
            if path == "/new_mempool_tx" and isinstance(body, list)
            else _walk(source, body)
        )
        for item in found:
            if (item.kind, item.hex) not in seen:
                seen.add((item.kind, item.hex))
                items.append(item)
    return items


def vectors() -> dict:
    return json.loads(VECTORS.read_text(encoding="utf-8"))
