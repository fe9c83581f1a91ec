"""``GET /v1/freshness``: how current the analytics are (``analytics.freshness``)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from api.problems import Problem
from api.routing import Ctx, RouteTable

routes = RouteTable("freshness", "How current the analytics are")


class Freshness(BaseModel):
    raw_stacks_height: int | None = Field(description="The indexer's canonical tip (Stacks height).")
    raw_burn_height: int | None = Field(description="Its burn height.")
    raw_block_at: datetime | None = Field(description="Its block time.")
    marts_stacks_height: int | None = Field(description="Stacks height every mart includes.")
    marts_burn_height: int | None = Field(description="Its burn height.")
    lag_blocks: int | None = Field(description="Raw tip minus the marts' height (Stacks blocks).")
    lag_seconds: float | None = Field(description="Seconds the oldest block the marts lack has been in raw.")
    built_at: datetime | None = Field(description="Latest mart build.")
    last_success_at: datetime | None = Field(description="Latest successful transforms run.")
    last_run_outcome: str | None = Field(description="`success` or `error`.")
    quarantined_events: int | None = Field(description="Print events the transforms could not read.")


_SQL = ("SELECT raw_stacks_height, raw_burn_height, raw_block_at, marts_stacks_height, marts_burn_height, lag_blocks, "
        "lag_seconds::float8 AS lag_seconds, built_at, last_success_at, last_run_outcome, quarantined_events "
        "FROM analytics.freshness")


@routes.get("/v1/freshness", cache="max-age=1", errors=(503,))
async def get_freshness(ctx: Ctx) -> Freshness:
    """How current the analytics are."""
    row = await ctx.db.fetchrow(_SQL)
    if row is None:
        raise Problem(503, "Service Unavailable", "the analytics are not built yet")
    return Freshness(**dict(row))
