"""Risk: per-pool stress at fixed shocks (``analytics.pool_risk``), the exposure grid
(``analytics.exposure_grid``) and the payout under any shocks (``analytics.stress_payout``)."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, Field

from api.listing import View, present
from api.policies import Token
from api.routing import Ctx, QueryModel, RouteTable
from api.types import SignedTokenAmount, TokenAmount
from api.views import decimal_string, row_model

routes = RouteTable("risk", "Pool risk, exposure and stress")

PoolRisk = row_model("pool_risk", "PoolRisk")
ExposureCell = row_model("exposure_grid", "ExposureCell")
POOL_RISK = View("analytics.pool_risk", PoolRisk, {})
EXPOSURE = View("analytics.exposure_grid", ExposureCell, {})

class ExposureQuery(QueryModel):
    token: Token | None = Field(default=None, description="Only this collateral token.")


class StressQuery(QueryModel):
    btc_shock: Decimal = Field(ge=Decimal("-0.99"), le=Decimal("10"), max_digits=8, decimal_places=6,
                               description="Signed fraction BTC moves from its latest price (-0.3 = -30 %).")
    stx_shock: Decimal = Field(ge=Decimal("-0.99"), le=Decimal("10"), max_digits=8, decimal_places=6,
                               description="Signed fraction STX moves from its latest price.")


class StressedPool(BaseModel):
    """What settling every open policy of one pool would pay at the shocked prices."""

    token: str = Field(description="Collateral token.")
    tier: str = Field(description="Provider tier (with the token: the pool).")
    open_policies: int = Field(description="Unsettled policies.")
    payout: TokenAmount = Field(description="Payout if every open policy settled at the shocked prices.")
    assets: TokenAmount = Field(description="Pool assets.")
    free_after_payout: SignedTokenAmount = Field(description="Free assets after paying it and unlocking the rest.")
    adequacy: decimal_string("ratio") | None = Field(description="assets / payout (null: nothing to pay).")


@routes.get("/v1/risk/pools", cache="max-age=5")
async def pool_risk(ctx: Ctx) -> list[PoolRisk]:
    """Per pool: payout now and under BTC shocks of -10/-20/-30/-50 %, adequacy, coverage."""
    return await POOL_RISK.all(ctx.reads, order="token, tier")


@routes.get("/v1/risk/exposure", cache="max-age=5")
async def exposure_grid(ctx: Ctx, *, query: ExposureQuery) -> list[ExposureCell]:
    """Open policies by moneyness × time to expiry, per token."""
    return await EXPOSURE.all(ctx.reads, present(("token = {}", query.token)),
                              order="token, moneyness_bucket, expiry_bucket")


@routes.get("/v1/risk/stress", cache="max-age=5")
async def stress(ctx: Ctx, *, query: StressQuery) -> list[StressedPool]:
    """Per pool: the payout if BTC and STX moved by the given fractions from their latest prices."""
    rows = await ctx.db.fetch(
        "SELECT token, tier, open_policies, payout, assets, free_after_payout, adequacy "
        "FROM analytics.stress_payout($1, $2) ORDER BY token, tier", query.btc_shock, query.stx_shock)
    return [StressedPool(**dict(r)) for r in rows]
