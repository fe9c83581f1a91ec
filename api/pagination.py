"""Keyset pagination: a page is ``ORDER BY <fixed key> LIMIT n+1`` after the last row's key, never OFFSET, so
pages stay stable while rows are added and cost the same at any depth.

The cursor is the last row's key plus the name of the ordering it belongs to, base64url JSON. It is opaque to
clients but not secret; a cursor from another ordering (or a mangled one) is a 400, never a wrong page.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from typing import Any

from pydantic import Field

from api.problems import Problem
from api.routing import QueryModel

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


class PageQuery(QueryModel):
    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Rows per page.")
    cursor: str | None = Field(default=None, max_length=512, pattern=r"^[A-Za-z0-9_-]+$",
                               description="`next_cursor` of the previous page.")


def encode(ordering: str, key: Sequence[Any]) -> str:
    raw = json.dumps([ordering, *key], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode(cursor: str | None, ordering: str, types: Sequence[type]) -> list[Any] | None:
    """The key a cursor holds, checked against the ordering's column types; ``None`` for the first page."""
    if cursor is None:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError):
        data = None
    if (not isinstance(data, list) or len(data) != len(types) + 1 or data[0] != ordering
            or not all(isinstance(v, t) and not isinstance(v, bool) for v, t in zip(data[1:], types, strict=True))):
        raise Problem(400, "Invalid Input", "cursor does not belong to this list and ordering",
                      type="urn:bithedge:invalid-cursor")
    return data[1:]


def page(rows: list[Any], limit: int, ordering: str, key_of: Any) -> tuple[list[Any], str | None]:
    """Split the ``limit + 1`` rows a query fetched into the page and the cursor of the next one."""
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, encode(ordering, key_of(rows[-1]))
