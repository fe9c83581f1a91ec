"""Read stacks-blockchain-api ``event_observer_requests`` exports: ``id \\t timestamp \\t path \\t json``.

Postgres ``COPY ... (FORMAT TEXT)`` files, optionally gzip. Rows come out in ascending id order with
duplicate ids dropped (the importer dedupes on id). Column 4 is tried as JSON first and COPY-TEXT
escapes are undone only when that fails.
"""

from __future__ import annotations

import gzip
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path


@dataclass(slots=True)
class Row:
    id: int
    received_at: datetime
    path: str
    payload: str


def _open_binary(path: Path):
    """The file's bytes, gunzipped when it starts with the gzip magic."""
    with open(path, "rb") as f:
        magic = f.read(2)
    return gzip.open(path, "rb") if magic == b"\x1f\x8b" else open(path, "rb")


def _open(path: Path):
    return io.TextIOWrapper(_open_binary(path), encoding="utf-8", errors="surrogateescape", newline="\n")


_ESC = re.compile(r"\\(x[0-9a-fA-F]{1,2}|[0-7]{1,3}|.)", re.S)
_SIMPLE = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}


def copy_unescape(text: str) -> str:
    def sub(m: re.Match) -> str:
        s = m.group(1)
        if s[0] == "x" and len(s) > 1:
            return chr(int(s[1:], 16))
        if s[0].isdigit() and s[0] in "01234567":
            return chr(int(s, 8))
        return _SIMPLE.get(s, s)

    return _ESC.sub(sub, text)


def payload_text(raw: str) -> str:
    """The JSON text of column 4 (COPY-unescaped only when needed)."""
    if "\\" not in raw:
        return raw
    try:
        json.loads(raw)
        return raw
    except ValueError:
        return copy_unescape(raw)


def parse_timestamp(text: str) -> datetime:
    t = text.strip()
    try:
        dt = datetime.fromisoformat(t.replace(" ", "T", 1))
    except ValueError:
        return datetime.now(UTC)
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def _split(line: str) -> tuple[int, str, str, str] | None:
    line = line.rstrip("\n").rstrip("\r")
    if not line:
        return None
    parts = line.split("\t", 3)
    if len(parts) != 4:
        raise ValueError(f"not a 4-column row: {line[:80]!r}")
    return int(parts[0]), parts[1], parts[2], parts[3]


_SCANS: dict[tuple, tuple[int, bool]] = {}


def _scan(path: Path) -> tuple[int, bool]:
    """(non-blank rows, ids ascending) in ONE pass over the bytes, without decoding them (a 1 GB export is
    then read as text once, for its rows). Remembered per (path, size, mtime)."""
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    hit = _SCANS.get(key)
    if hit is not None:
        return hit
    count, ascending, last = 0, True, None
    with _open_binary(path) as f:
        for line in f:
            if not line.strip():
                continue
            count += 1
            if ascending:
                i = int(line[: line.index(b"\t")])
                if last is not None and i < last:
                    ascending = False
                last = i
    _SCANS.clear()
    _SCANS[key] = (count, ascending)
    return count, ascending


def _ids_sorted(path: Path) -> bool:
    return _scan(path)[1]


def read(path: Path | str, after_id: int | None = None) -> Iterator[Row]:
    """Rows with id > after_id, ascending, each id once."""
    path = Path(path)
    if _ids_sorted(path):
        with _open(path) as f:
            parts = (_split(line) for line in f)
            yield from _rows((p for p in parts if p is not None), after_id)
    else:
        with _open(path) as f:
            parts = [p for p in (_split(line) for line in f) if p is not None]
        parts.sort(key=lambda p: p[0])
        yield from _rows(iter(parts), after_id)


def _rows(parts, after_id: int | None) -> Iterator[Row]:
    last = after_id
    for i, ts, p, payload in parts:
        if last is not None and i <= last:
            continue
        last = i
        yield Row(i, parse_timestamp(ts), p, payload_text(payload))


def count_rows(path: Path | str) -> int:
    return _scan(Path(path))[0]
