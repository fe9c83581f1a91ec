"""Policies (``analytics.policies``) and expiries (``analytics.expiries``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

from pydantic import BaseModel, Field

from api.listing import View, present
from api.pagination import PageQuery
from api.problems import not_found
from api.routing import Ctx, PathModel, RouteTable
from api.types import Page, StacksPrincipal
from api.views import Encoded, encode_row, row_model

routes = RouteTable("policies", "Policies and their expiries")

Token = Literal["STX", "sBTC"]
Status = Literal["active", "expired", "settled-itm", "settled-otm", "voided"]
TierName = Field(default=None, pattern=r"^[a-z0-9-]{1,32}$")

Policy = row_model("policies", "Policy")
PolicyPoolEvent = row_model("pool_history", "PolicyPoolEvent", drop=("token", "tier", "policy_id"))
PolicyTreasuryEvent = row_model("treasury_history", "PolicyTreasuryEvent", drop=("policy_id",))
PolicyFundEvent = row_model("insurance_fund_history", "PolicyFundEvent", drop=("policy_id",))
Expiry = row_model("expiries", "Expiry")

POLICIES = View("analytics.policies", Policy, {
    "policy_id": (("policy_id", "bigint"),),
    "expiry": (("expiry", "bigint"), ("policy_id", "bigint")),
    "created": (("created_stacks_height", "bigint"), ("policy_id", "bigint")),
})
POOL_EVENTS = View("analytics.pool_history", PolicyPoolEvent, {})
TREASURY_EVENTS = View("analytics.treasury_history", PolicyTreasuryEvent, {})
FUND_EVENTS = View("analytics.insurance_fund_history", PolicyFundEvent, {})
EXPIRIES = View("analytics.expiries", Expiry, {"expiry": (("expiry", "bigint"),)})


#: a policy's histories in its detail: (view, the answer's field, order of its events)
_HISTORIES = ((POOL_EVENTS, "pool_events", "e.stacks_block_height, e.event_index"),
              (TREASURY_EVENTS, "treasury_events", "e.stacks_height, e.txid"),
              (FUND_EVENTS, "fund_events", "e.stacks_height, e.txid"))


def _history(view: View, field: str, order: str) -> str:
    """One column array per field of a history, each in the events' order (the reads' pool cannot decode
    numerics in text inside a row of the view's type, ``api.state.open_pool``)."""
    aggs = ", ".join(f'array_agg(e."{c}" ORDER BY {order}) AS "{field}.{c}"' for c in view.model.__row_fields__)
    return f"CROSS JOIN LATERAL (SELECT {aggs} FROM {view.relation} e WHERE e.policy_id = $1) {field}"


#: one policy and its lifecycle in one round trip (it was four): the policy's columns, then each history's
#: column arrays, every history by its policy_id index
POLICY_DETAIL_SQL = (
    "SELECT " + ", ".join([*(f'p."{c}"' for c in Policy.__row_fields__),
                           *(f'{f}."{f}.{c}"' for v, f, _ in _HISTORIES for c in v.model.__row_fields__)])
    + f" FROM {POLICIES.relation} p " + " ".join(_history(*h) for h in _HISTORIES) + " WHERE p.policy_id = $1")


def _events(row: Any, start: int, width: int) -> Iterable[tuple[Any, ...]]:
    """A history's events (each its values in the history's field order) from its ``width`` column arrays at
    ``start`` (an aggregate of no rows is NULL)."""
    columns = row[start:start + width]
    return () if columns[0] is None else zip(*columns, strict=True)


class PolicyQuery(PageQuery):
    owner: StacksPrincipal | None = Field(default=None, description="Only this buyer's policies.")
    status: Status | None = Field(default=None, description="User-facing status.")
    token: Token | None = Field(default=None, description="Collateral token.")
    buyer_tier: str | None = TierName
    pool_tier: str | None = TierName
    expiry_from: int | None = Field(default=None, ge=0, description="Expiry at or after this burn height.")
    expiry_to: int | None = Field(default=None, ge=0, description="Expiry at or before this burn height.")
    sort: Literal["policy_id", "expiry", "created"] = Field(default="policy_id", description="Order of the list.")
    order: Literal["asc", "desc"] = "desc"


class PolicyPath(PathModel):
    policy_id: int = Field(ge=1, le=2**63 - 1, description="Policy id.")


class PolicyDetail(BaseModel):
    """One policy and every event that touched it, oldest first."""

    policy: Policy
    pool_events: list[PolicyPoolEvent] = Field(description="Creation, settlement or void in its pool.")
    treasury_events: list[PolicyTreasuryEvent] = Field(description="The protocol fee it paid.")
    fund_events: list[PolicyFundEvent] = Field(description="Its premium share to the insurance fund; a cover.")


class ExpiryQuery(PageQuery):
    expiry_from: int | None = Field(default=None, ge=0, description="At or after this burn height.")
    expiry_to: int | None = Field(default=None, ge=0, description="At or before this burn height.")
    due: bool | None = Field(default=None, description="Only due (true) or not yet due (false) expiries.")
    order: Literal["asc", "desc"] = "asc"


@routes.get("/v1/policies", cache="max-age=2")
async def list_policies(ctx: Ctx, *, query: PolicyQuery) -> Page[Policy]:
    """Policies, filtered; newest first by default."""
    filters = present(("owner = {}", query.owner), ("status = {}", query.status), ("token = {}", query.token),
                      ("buyer_tier = {}", query.buyer_tier), ("pool_tier = {}", query.pool_tier),
                      ("expiry >= {}", query.expiry_from), ("expiry <= {}", query.expiry_to))
    return await POLICIES.page(ctx.reads, query, filters, ordering=query.sort, descending=query.order == "desc")


@routes.get("/v1/policies/{policy_id}", cache="max-age=2", errors=(404,))
async def get_policy(ctx: Ctx, *, path: PolicyPath) -> PolicyDetail:
    """One policy with its lifecycle."""
    row = await ctx.reads.fetchrow(POLICY_DETAIL_SQL, path.policy_id)
    if row is None:
        raise not_found("policy")
    at = len(Policy.__row_fields__)
    body = {"policy": encode_row(Policy, row[:at])}  # PolicyDetail's order
    for view, field, _ in _HISTORIES:
        width = len(view.model.__row_fields__)
        body[field] = [encode_row(view.model, e) for e in _events(row, at, width)]
        at += width
    return Encoded(body)


@routes.get("/v1/expiries", cache="max-age=2")
async def list_expiries(ctx: Ctx, *, query: ExpiryQuery) -> Page[Expiry]:
    """Expiry heights: policies, what is unsettled and locked, whether settlement is due."""
    filters = present(("expiry >= {}", query.expiry_from), ("expiry <= {}", query.expiry_to),
                      ("due = {}", query.due))
    return await EXPIRIES.page(ctx.reads, query, filters, ordering="expiry", descending=query.order == "desc")
