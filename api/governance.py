"""Parameters, tiers, proposals and votes (``analytics.parameters``, ``parameter_history``, ``tiers``,
``tier_history``, ``proposals``, ``votes``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from api.listing import View, present
from api.pagination import PageQuery
from api.routing import Ctx, PathModel, QueryModel, RouteTable
from api.types import Page
from api.views import row_model

routes = RouteTable("governance", "Protocol parameters, tiers, proposals and votes")

Parameter = row_model("parameters", "Parameter")
ParameterChange = row_model("parameter_history", "ParameterChange")
Tier = row_model("tiers", "Tier")
TierChange = row_model("tier_history", "TierChange")
Proposal = row_model("proposals", "Proposal")
Vote = row_model("votes", "Vote")

PARAMETERS = View("analytics.parameters", Parameter, {})
EVENT = (("stacks_block_height", "bigint"), ("event_index", "bigint"))
PARAMETER_HISTORY = View("analytics.parameter_history", ParameterChange, {"event": EVENT})
TIERS = View("analytics.tiers", Tier, {})
TIER_HISTORY = View("analytics.tier_history", TierChange, {"event": EVENT})
PROPOSALS = View("analytics.proposals", Proposal, {"proposal_id": (("proposal_id", "bigint"),)})
VOTES = View("analytics.votes", Vote, {"vote": (("stacks_height", "bigint"), ("voter", "text"))})

ParameterKey = Field(default=None, pattern=r"^[a-z0-9.-]{1,64}$", description="Only this parameter key.")
TierKind = Literal["buyer", "provider"]


class HistoryQuery(PageQuery):
    order: Literal["asc", "desc"] = "desc"


class ParameterHistoryQuery(HistoryQuery):
    key: str | None = ParameterKey


class TierQuery(QueryModel):
    kind: TierKind | None = Field(default=None, description="Only buyer or provider tiers.")


class TierHistoryQuery(HistoryQuery):
    kind: TierKind | None = Field(default=None, description="Only buyer or provider tiers.")


class ProposalQuery(PageQuery):
    state: Literal["active", "defeated", "queued", "executable", "executed", "cancelled"] | None = Field(
        default=None, description="Only proposals in this state.")
    order: Literal["asc", "desc"] = "desc"


class ProposalPath(PathModel):
    proposal_id: int = Field(ge=0, le=2**63 - 1, description="Proposal id.")


@routes.get("/v1/parameters", cache="max-age=5")
async def list_parameters(ctx: Ctx) -> list[Parameter]:
    """Every protocol parameter now, with its bounds."""
    return await PARAMETERS.all(ctx.reads, order="key")


@routes.get("/v1/parameters/history", cache="max-age=5")
async def parameter_history(ctx: Ctx, *, query: ParameterHistoryQuery) -> Page[ParameterChange]:
    """Every parameter change (admin or governance); newest first by default."""
    return await PARAMETER_HISTORY.page(ctx.reads, query, present(("key = {}", query.key)), ordering="event",
                                        descending=query.order == "desc")


@routes.get("/v1/tiers", cache="max-age=5")
async def list_tiers(ctx: Ctx, *, query: TierQuery) -> list[Tier]:
    """Every buyer and provider tier now."""
    return await TIERS.all(ctx.reads, present(("tier_kind = {}", query.kind)), order="tier_kind, tier")


@routes.get("/v1/tiers/history", cache="max-age=5")
async def tier_history(ctx: Ctx, *, query: TierHistoryQuery) -> Page[TierChange]:
    """Every tier change with the whole tier after it; newest first by default."""
    return await TIER_HISTORY.page(ctx.reads, query, present(("tier_kind = {}", query.kind)), ordering="event",
                                   descending=query.order == "desc")


@routes.get("/v1/proposals", cache="max-age=2")
async def list_proposals(ctx: Ctx, *, query: ProposalQuery) -> Page[Proposal]:
    """Governance proposals with their votes so far and state; newest first by default."""
    return await PROPOSALS.page(ctx.reads, query, present(("state = {}", query.state)), ordering="proposal_id",
                                descending=query.order == "desc")


@routes.get("/v1/proposals/{proposal_id}", cache="max-age=2")
async def get_proposal(ctx: Ctx, *, path: ProposalPath) -> Proposal:
    """One proposal."""
    return await PROPOSALS.one(ctx.reads, [("proposal_id = {}", path.proposal_id)], "proposal")


@routes.get("/v1/proposals/{proposal_id}/votes", cache="max-age=2")
async def list_votes(ctx: Ctx, *, path: ProposalPath, query: PageQuery) -> Page[Vote]:
    """The votes on one proposal, in the order they were cast."""
    return await VOTES.page(ctx.reads, query, [("proposal_id = {}", path.proposal_id)], ordering="vote")
