"""Request preparation: parse and validate one observer request, CPU only (safe in a worker process).

A :class:`Request` is what arrived (path, exact body, time, where it came from). :func:`prepare` attaches
one :class:`Prepared` value: the parsed payload (or the :class:`~indexer.payloads.PayloadError` that makes it
a dead letter) and what ``raw.observer_requests`` stores of the body. The writer then records the outcome
and the request id it stored the request under.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

from indexer import payloads
from indexer.decode import json_text
from indexer.payloads import Parsed, PayloadError
from indexer.rows import RequestRow

_NEEDS_BODY = re.compile(r"\\u0000|\\u[dD][89a-fA-F][0-9a-fA-F]{2}")

# Observer paths whose payloads become rows; every other path is stored verbatim only.
PARSERS = {
    "/new_block": payloads.parse_block,
    "/new_burn_block": payloads.parse_burn_block,
    "/new_mempool_tx": payloads.parse_mempool,
    "/drop_mempool_tx": payloads.parse_drop,
}


class Prepared(NamedTuple):
    parsed: Parsed | PayloadError | None  # None: a path that is stored verbatim only
    payload_text: str | None  # what goes into observer_requests.payload (jsonb)
    store_body: bool  # keep the exact bytes in observer_requests.body


@dataclass(slots=True)
class Request:
    """One observer request on its way in. ``body`` is the exact text/bytes received (the first bytes only when
    ``truncated_size``, the size received, is set)."""

    path: str
    body: bytes | str
    received_at: datetime
    source: str = "observer"
    source_id: int | None = None
    request_id: int | None = None  # given for rebuild (the row exists); otherwise set by the writer
    truncated_size: int | None = None
    prepared: Prepared | None = None  # set by prepare()
    outcome: str = ""  # set by the writer: block | burn_block | duplicate | stored | dead_letter

    @property
    def parsed(self) -> Parsed | PayloadError | None:
        return self.prepared.parsed

    def row(self) -> RequestRow:
        """Its ``raw.observer_requests`` row (after ``id``)."""
        body, prepared = self.body, self.prepared
        stored = (body.encode("utf-8", "surrogateescape") if isinstance(body, str) else body) \
            if prepared.store_body else None
        return RequestRow(self.received_at, self.path, prepared.payload_text, stored,
                          self.truncated_size if self.truncated_size is not None else len(body),
                          self.truncated_size is not None, self.source, self.source_id, self.outcome)


def now() -> datetime:
    return datetime.now(UTC)


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
    """Attach :class:`Prepared` to ``req`` (once) and return it."""
    if req.prepared is None:
        req.prepared = _prepare(req)
    return req


def _prepare(req: Request) -> Prepared:
    if req.truncated_size is not None:
        return Prepared(PayloadError(f"body of {req.truncated_size} bytes exceeds the size limit", "too_large"),
                        None, True)
    body = req.body
    try:
        obj = payloads.parse_body(body)
    except PayloadError as exc:
        return Prepared(exc, None, True)
    text = body if isinstance(body, str) else body.decode("utf-8", "replace")
    store_body = "\\u" in text and _NEEDS_BODY.search(text) is not None
    payload_text = json_text(_scrub(obj)) if store_body else text
    parser = PARSERS.get(req.path)
    if parser is None:
        return Prepared(None, payload_text, store_body)
    try:
        parsed: Parsed | PayloadError = parser(obj)
    except PayloadError as exc:
        parsed = exc
    except (RecursionError, TypeError, KeyError, AttributeError, OverflowError) as exc:
        parsed = PayloadError(f"{type(exc).__name__}: {exc}")
    return Prepared(parsed, payload_text, store_body)
