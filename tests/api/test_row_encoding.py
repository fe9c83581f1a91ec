"""The fast path of the view reads (the reads' pool's numerics as text, ``api.views.encode_row`` + ``Encoded``)
writes exactly the bytes pydantic's serialisation of the declared row models writes from asyncpg's own decoding
(``Decimal``), for every row of every view the API reads."""

from __future__ import annotations

import importlib

import asyncpg
from pydantic import TypeAdapter

from api.app import ROUTE_MODULES
from api.listing import View
from api.state import open_pool
from api.views import Encoded, encode_row, plain_text, select_list
from bithedge.database import role_url
from tests.api.conftest import api_settings


def _views() -> list[View]:
    out: dict[tuple[str, str], View] = {}
    for name in ROUTE_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError:
            continue
        for v in vars(module).values():
            if isinstance(v, View):
                out[(v.relation, v.model.__name__)] = v
    return list(out.values())


async def test_encoded_rows_are_byte_for_byte_the_models_json(analytics_db) -> None:
    views = _views()
    assert {"analytics.policies", "analytics.pool_history", "analytics.pools"} <= {v.relation for v in views}
    url = role_url(analytics_db.url, "bithedge_api")
    conn = await asyncpg.connect(url)
    reads = await open_pool(api_settings(api_db_pool_size=1), url, numerics_as_text=True)
    compared = fractional = 0
    try:
        for view in views:
            sql = f"SELECT {select_list(view.model)} FROM {view.relation} ORDER BY 1, 2, 3 LIMIT 2000"
            rows, texts = await conn.fetch(sql), await reads.fetch(sql)
            many = TypeAdapter(list[view.model])
            assert Encoded([encode_row(view.model, r) for r in texts]).json() == \
                many.dump_json([view.model(**dict(r)) for r in rows]), view.relation
            compared += len(rows)
            fractional += sum(isinstance(v, str) and "." in v for r in texts for v in r.values())
    finally:
        await conn.close()
        await reads.close()
    assert compared > 1000 and fractional > 0  # ratios and prices with decimals were among them


def test_numeric_text_is_written_as_its_decimal() -> None:
    from decimal import Decimal

    from api.views import _plain

    for s in ("0", "1250000", "-7", "12.50", "12.00", "-0.00", "0.000100", "-3.14", "100.0", "NaN", "Infinity",
              "-Infinity", "340282366920938463463374607431768211455"):
        assert plain_text(s) == _plain(Decimal(s)), s


async def test_a_policy_page_and_a_policy_answer_as_the_models_say(reader) -> None:
    from api.policies import Policy, PolicyDetail
    from api.types import Page

    page = await reader.get("/v1/policies?limit=7")
    assert page.status == 200
    parsed = TypeAdapter(Page[Policy]).validate_json(await page.read())
    assert len(parsed.items) == 7 and parsed.next_cursor
    one = await reader.get(f"/v1/policies/{parsed.items[0].policy_id}")
    body = await one.read()
    detail = PolicyDetail.model_validate_json(body)
    assert detail.policy == parsed.items[0] and detail.pool_events
    assert body == detail.model_dump_json().encode()  # the model's own serialisation, byte for byte
    assert (await page.read()) == parsed.model_dump_json().encode()
    assert (await reader.get(f"/v1/policies?limit=7&cursor={parsed.next_cursor}")).status == 200


def test_timestamps_and_dates_are_written_as_pydantic_writes_them() -> None:
    from datetime import UTC, date, datetime, timedelta, timezone

    from api.platform import Day
    from api.policies import Policy

    for at in (datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), datetime(2026, 1, 2, 3, 4, 5, 120000, tzinfo=UTC),
               datetime(2026, 1, 2, 3, 4, 5, 1, tzinfo=timezone(timedelta(hours=-5)))):
        values = [at if f == "created_at" else None for f in Policy.__row_fields__]
        assert Encoded(encode_row(Policy, values)).json() == \
            Policy(**dict(zip(Policy.__row_fields__, values, strict=True))).model_dump_json().encode()
    day = [date(2026, 2, 28) if f == "day" else None for f in Day.__row_fields__]
    assert Encoded(encode_row(Day, day)).json() == \
        Day(**dict(zip(Day.__row_fields__, day, strict=True))).model_dump_json().encode()
