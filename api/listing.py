"""Reading a view: constant SQL with ``$n`` parameters, filters chosen by code, orderings from a whitelist, and
keyset pages (``api.pagination``).

A ``View`` knows its relation, its row model and its orderings; a handler passes the filters that apply as
``(fragment, value)`` pairs whose fragment is a constant of the code with ``{}`` where the parameter goes
(``("owner = {}", query.owner)``). Nothing a client sends is ever placed into SQL text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import asyncpg
from pydantic import BaseModel

from api import pagination
from api.problems import not_found
from api.views import Encoded, encode_row, select_list

#: a keyset column: its name and the SQL type its cursor value is cast to (the cursor carries text or integers)
Key = tuple[str, Literal["bigint", "text", "date"]]
Filter = tuple[str, Any]


def present(*filters: Filter) -> list[Filter]:
    """The filters whose value the client gave (a ``None`` value: that filter is off)."""
    return [(fragment, value) for fragment, value in filters if value is not None]


@dataclass(frozen=True)
class View:
    relation: str
    model: type[BaseModel]
    #: ordering name -> its key columns (unique together, so the order is total and pages are stable)
    orderings: dict[str, tuple[Key, ...]]

    def _where(self, filters: Sequence[Filter], params: list[Any]) -> list[str]:
        out = []
        for fragment, value in filters:
            params.append(value)
            out.append(fragment.format(f"${len(params)}"))
        return out

    async def page(self, db: asyncpg.Pool, query: pagination.PageQuery, filters: Sequence[Filter] = (), *,
                   ordering: str, descending: bool = False) -> Encoded:
        """One keyset page, as the JSON of ``Page[model]``."""
        keys = self.orderings[ordering]
        name = f"{ordering}.{'desc' if descending else 'asc'}"
        after = pagination.decode(query.cursor, name, [int if cast == "bigint" else str for _, cast in keys])
        params: list[Any] = []
        where = self._where(filters, params)
        if after is not None:
            holes = []
            for value, (_, cast) in zip(after, keys, strict=True):
                params.append(value)
                holes.append(f"${len(params)}::{'text::date' if cast == 'date' else cast}")
            cols = ", ".join(c for c, _ in keys)
            where.append(f"({cols}) {'<' if descending else '>'} ({', '.join(holes)})")
        direction = " DESC" if descending else ""
        params.append(query.limit + 1)
        sql = (f"SELECT {select_list(self.model)} FROM {self.relation}"
               + (f" WHERE {' AND '.join(where)}" if where else "")
               + f" ORDER BY {', '.join(c + direction for c, _ in keys)} LIMIT ${len(params)}")
        rows = await db.fetch(sql, *params)
        items, cursor = pagination.page(rows, query.limit, name,
                                        lambda r: [r[c] if cast == "bigint" else str(r[c]) for c, cast in keys])
        return Encoded({"items": [encode_row(self.model, r) for r in items], "next_cursor": cursor})

    async def _rows(self, db: asyncpg.Pool, filters: Sequence[Filter], order: str) -> list[asyncpg.Record]:
        params: list[Any] = []
        where = self._where(filters, params)
        sql = (f"SELECT {select_list(self.model)} FROM {self.relation}"
               + (f" WHERE {' AND '.join(where)}" if where else "") + f" ORDER BY {order}")
        return await db.fetch(sql, *params)

    async def _row(self, db: asyncpg.Pool, filters: Sequence[Filter], what: str) -> asyncpg.Record:
        params: list[Any] = []
        where = self._where(filters, params)
        row = await db.fetchrow(f"SELECT {select_list(self.model)} FROM {self.relation} WHERE {' AND '.join(where)}",
                                *params)
        if row is None:
            raise not_found(what)
        return row

    async def all(self, db: asyncpg.Pool, filters: Sequence[Filter] = (), *, order: str) -> list[BaseModel]:
        """Every row (small views: pools, tiers, parameters), in ``order`` (a constant of the code)."""
        return [self.model(**dict(r)) for r in await self._rows(db, filters, order)]

    async def one(self, db: asyncpg.Pool, filters: Sequence[Filter], what: str) -> BaseModel:
        return self.model(**dict(await self._row(db, filters, what)))
