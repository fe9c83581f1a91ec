"""Admin endpoints (scope ``admin``): API keys and the audit log. Every change is audited by the framework."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from api import keys
from api.pagination import PageQuery, decode, page
from api.problems import not_found
from api.routing import BodyModel, Ctx, PathModel, RouteTable, Scope
from api.types import Page

routes = RouteTable("admin", "API keys and the audit log (admin scope)")


class KeyInfo(BaseModel):
    prefix: str = Field(description="The key's public part (`bhk_<prefix>_…`).")
    name: str
    scopes: list[Scope]
    rate_per_s: float | None = Field(description="Requests per second (null: the server default).")
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None = Field(description="Within a minute.")


class NewKeyBody(BodyModel):
    name: str = Field(min_length=1, max_length=200)
    scopes: list[Scope] = Field(min_length=1, max_length=3)
    expires_at: datetime | None = Field(default=None, description="Default: never.")
    rate_per_s: float | None = Field(default=None, gt=0, le=1e6)


class CreatedKey(KeyInfo):
    key: str = Field(description="The key itself: shown this once, never stored.")


class KeyPath(PathModel):
    prefix: str = Field(pattern=r"^[0-9a-f]{12}$")


class AuditEntry(BaseModel):
    id: int
    at: datetime
    key_id: int | None
    actor: str = Field(description="`key:<prefix>`, `cli` or `anonymous`.")
    action: str = Field(description="The endpoint's operation id, or `key.create`/`key.revoke` from the CLI.")
    status: int | None = Field(description="HTTP status of the action.")
    detail: dict[str, Any]
    remote: str | None


_KEY_COLUMNS = "prefix, name, scopes, rate_per_s, created_at, expires_at, revoked_at, last_used_at"


@routes.get("/v1/admin/keys", scope="admin")
async def list_keys(ctx: Ctx) -> list[KeyInfo]:
    """Every API key (never the keys themselves)."""
    return [KeyInfo(**dict(r)) for r in await ctx.db.fetch(f"SELECT {_KEY_COLUMNS} FROM api.keys ORDER BY id")]


@routes.post("/v1/admin/keys", scope="admin", status=201)
async def create_key(ctx: Ctx, *, body: NewKeyBody) -> CreatedKey:
    """Create a key; the response is the only time it is shown."""
    async with ctx.db.acquire() as conn:
        new = await keys.create(conn, body.name, list(body.scopes), expires_at=body.expires_at,
                                rate_per_s=body.rate_per_s, audit_as=None)
        row = await conn.fetchrow(f"SELECT {_KEY_COLUMNS} FROM api.keys WHERE id = $1", new.id)
    ctx.audit.update(prefix=new.prefix, scopes=sorted(set(body.scopes)), name=body.name)
    return CreatedKey(**dict(row), key=new.key)


@routes.delete("/v1/admin/keys/{prefix}", scope="admin", errors=(404,))
async def revoke_key(ctx: Ctx, *, path: KeyPath) -> KeyInfo:
    """Revoke a key: refused from its next request on."""
    ctx.audit["prefix"] = path.prefix
    async with ctx.db.acquire() as conn:
        if not await keys.revoke(conn, path.prefix, audit_as=None):
            raise not_found("active key with this prefix")
        return KeyInfo(**dict(await conn.fetchrow(f"SELECT {_KEY_COLUMNS} FROM api.keys WHERE prefix = $1",
                                                   path.prefix)))


@routes.get("/v1/admin/audit", scope="admin")
async def audit_log(ctx: Ctx, *, query: PageQuery) -> Page[AuditEntry]:
    """The audit log, newest first."""
    after = decode(query.cursor, "id.desc", [int])
    rows = await ctx.db.fetch(
        "SELECT id, at, key_id, actor, action, status, detail::text AS detail, remote FROM api.audit "
        "WHERE $1::bigint IS NULL OR id < $1 ORDER BY id DESC LIMIT $2", after[0] if after else None, query.limit + 1)
    items, cursor = page(rows, query.limit, "id.desc", lambda r: [r["id"]])
    return Page[AuditEntry](items=[AuditEntry(**{**dict(r), "detail": json.loads(r["detail"])}) for r in items],
                            next_cursor=cursor)
