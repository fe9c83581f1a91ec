"""Oracle prices (``analytics.oracle_prices``) and their statistics (``analytics.oracle_stats``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from api.listing import View, present
from api.pagination import PageQuery
from api.routing import Ctx, PathModel, RouteTable
from api.types import Page
from api.views import row_model

routes = RouteTable("oracle", "Oracle prices")

Asset = Literal["BTC", "STX"]
LatestPrice = row_model("oracle_stats", "LatestPrice", only=("asset", "latest_price", "latest_burn_height",
                                                             "age_blocks"),
                        doc="The price standing now for one asset.")
OracleStats = row_model("oracle_stats", "OracleStats")
PriceUpdate = row_model("oracle_prices", "PriceUpdate")

STATS = View("analytics.oracle_stats", OracleStats, {})
LATEST = View("analytics.oracle_stats", LatestPrice, {})
PRICES = View("analytics.oracle_prices", PriceUpdate, {
    "event": (("stacks_block_height", "bigint"), ("event_index", "bigint")),
})


class AssetPath(PathModel):
    asset: Asset = Field(description="Oracle asset.")


class PriceHistoryQuery(PageQuery):
    from_burn_height: int | None = Field(default=None, ge=0, description="Prices at or after this burn height.")
    to_burn_height: int | None = Field(default=None, ge=0, description="Prices at or before this burn height.")
    order: Literal["asc", "desc"] = "desc"


@routes.get("/v1/oracle/latest", cache="max-age=1")
async def oracle_latest(ctx: Ctx) -> list[LatestPrice]:
    """The latest price of each asset and its age."""
    return await LATEST.all(ctx.reads, order="asset")


@routes.get("/v1/oracle/stats", cache="max-age=2")
async def oracle_stats(ctx: Ctx) -> list[OracleStats]:
    """Per asset: latest price, number of prices, realized volatility (144 and 1,008 burn blocks)."""
    return await STATS.all(ctx.reads, order="asset")


@routes.get("/v1/oracle/{asset}/history", cache="max-age=2")
async def oracle_history(ctx: Ctx, *, path: AssetPath, query: PriceHistoryQuery) -> Page[PriceUpdate]:
    """Every price submitted for one asset; newest first by default."""
    filters = present(("asset = {}", path.asset), ("burn_height >= {}", query.from_burn_height),
                      ("burn_height <= {}", query.to_burn_height))
    return await PRICES.page(ctx.reads, query, filters, ordering="event", descending=query.order == "desc")
