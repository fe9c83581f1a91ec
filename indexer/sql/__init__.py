"""The indexer's named SQL: ``queries["name"]`` is the statement ``-- name: name`` of ``queries.sql``.

Every block in the file is ``-- name: x``, one description line, one ``-- params:`` line (asyncpg's ``$N``
placeholders are positional, so that line names them), then the statement. Templates (``live_write*``,
``set_tip``) have ``{slots}`` the caller fills with :meth:`str.format`.
"""

from __future__ import annotations

import re
from pathlib import Path

_BLOCK = re.compile(r"^-- name: (?P<name>[a-z_]+)\n-- (?P<description>[^\n]+)\n-- params: (?P<params>[^\n]+)\n"
                    r"(?P<sql>.*?)(?=^-- name: |\Z)", re.M | re.S)


def load(text: str) -> dict[str, str]:
    """Every named statement of a queries file; a block without its description or params line is an error."""
    out: dict[str, str] = {}
    for m in _BLOCK.finditer(text):
        name = m["name"]
        sql = m["sql"].strip().removesuffix(";").strip()
        if name in out or not sql:
            raise ValueError(f"queries.sql: query {name!r} is {'repeated' if name in out else 'empty'}")
        out[name] = sql
    declared = re.findall(r"^-- name: (.*)$", text, re.M)
    if len(declared) != len(out):
        raise ValueError(f"queries.sql: {len(declared) - len(out)} block(s) lack the description or params line")
    return out


queries = load((Path(__file__).with_name("queries.sql")).read_text(encoding="utf-8"))
