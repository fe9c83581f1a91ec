"""Pools (``analytics.pools``), their history, and liquidity providers (``analytics.providers``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from api.listing import View, present
from api.pagination import PageQuery
from api.policies import Token
from api.routing import Ctx, PathModel, RouteTable
from api.types import Page, StacksPrincipal
from api.views import row_model

routes = RouteTable("pools", "Liquidity pools and providers")

Pool = row_model("pools", "Pool")
PoolEvent = row_model("pool_history", "PoolEvent")
Position = row_model("providers", "Position")

POOLS = View("analytics.pools", Pool, {})
HISTORY = View("analytics.pool_history", PoolEvent, {
    "event": (("stacks_block_height", "bigint"), ("event_index", "bigint")),
})
PROVIDERS = View("analytics.providers", Position, {
    "provider": (("provider", "text"), ("token", "text"), ("tier", "text")),
})


class PoolPath(PathModel):
    token: Token = Field(description="Collateral token.")
    tier: str = Field(pattern=r"^[a-z0-9-]{1,32}$", description="Provider tier (with the token: the pool).")


class PoolHistoryQuery(PageQuery):
    from_burn_height: int | None = Field(default=None, ge=0, description="Events at or after this burn height.")
    to_burn_height: int | None = Field(default=None, ge=0, description="Events at or before this burn height.")
    order: Literal["asc", "desc"] = "desc"


class ProviderPath(PathModel):
    address: StacksPrincipal = Field(description="Liquidity provider.")


class ProviderQuery(PageQuery):
    token: Token | None = Field(default=None, description="Only positions in this token's pools.")


@routes.get("/v1/pools", cache="max-age=2")
async def list_pools(ctx: Ctx) -> list[Pool]:
    """Every pool now."""
    return await POOLS.all(ctx.reads, order="token, tier")


@routes.get("/v1/pools/{token}/{tier}", cache="max-age=2", errors=(404,))
async def get_pool(ctx: Ctx, *, path: PoolPath) -> Pool:
    """One pool now."""
    return await POOLS.one(ctx.reads, [("token = {}", path.token), ("tier = {}", path.tier)], "pool")


@routes.get("/v1/pools/{token}/{tier}/history", cache="max-age=2")
async def pool_history(ctx: Ctx, *, path: PoolPath, query: PoolHistoryQuery) -> Page[PoolEvent]:
    """Every change of one pool with its totals after it; newest first by default."""
    filters = present(("token = {}", path.token), ("tier = {}", path.tier),
                      ("burn_height >= {}", query.from_burn_height), ("burn_height <= {}", query.to_burn_height))
    return await HISTORY.page(ctx.reads, query, filters, ordering="event", descending=query.order == "desc")


@routes.get("/v1/providers", cache="max-age=2")
async def list_providers(ctx: Ctx, *, query: ProviderQuery) -> Page[Position]:
    """Every provider's position in every pool, by provider."""
    return await PROVIDERS.page(ctx.reads, query, present(("token = {}", query.token)), ordering="provider")


@routes.get("/v1/providers/{address}", cache="max-age=2")
async def get_provider(ctx: Ctx, *, path: ProviderPath) -> list[Position]:
    """One address's positions across pools (empty when it never provided)."""
    return await PROVIDERS.all(ctx.reads, [("provider = {}", path.address)], order="token, tier")
