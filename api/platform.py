"""Platform-wide numbers: daily statistics (``analytics.platform_daily``) and how current the analytics are
(``analytics.freshness``)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field

from api.listing import View, present
from api.pagination import PageQuery
from api.problems import Problem
from api.routing import Ctx, RouteTable
from api.types import Page
from api.views import row_model

routes = RouteTable("platform", "Platform statistics and freshness")

Day = row_model("platform_daily", "Day")
# the run's error text is for operators (it can quote SQL), not for API clients
Freshness = row_model("freshness", "Freshness", drop=("last_run_error",))
DAYS = View("analytics.platform_daily", Day, {"day": (("day", "date"),)})
FRESHNESS = View("analytics.freshness", Freshness, {})


class DailyQuery(PageQuery):
    day_from: dt.date | None = Field(default=None, description="From this UTC day (inclusive).")
    day_to: dt.date | None = Field(default=None, description="To this UTC day (inclusive).")
    order: Literal["asc", "desc"] = "desc"


@routes.get("/v1/platform/daily", cache="max-age=10")
async def platform_daily(ctx: Ctx, *, query: DailyQuery) -> Page[Day]:
    """Per UTC day: policies written and settled, premium, payouts, loss ratio, activity, TVL."""
    return await DAYS.page(ctx.reads, query, present(("day >= {}", query.day_from), ("day <= {}", query.day_to)),
                           ordering="day", descending=query.order == "desc")


@routes.get("/v1/freshness", cache="max-age=1", errors=(503,))
async def get_freshness(ctx: Ctx) -> Freshness:
    """How current the analytics are: raw tip, the heights the marts include, lag, the last run."""
    rows = await FRESHNESS.all(ctx.reads, order="built_at")
    if not rows:
        raise Problem(503, "Service Unavailable", "the analytics are not built yet")
    return rows[0]
