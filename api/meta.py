"""Service routes: ``/health`` (the process answers), ``/ready`` (the database answers and the analytics are
built), ``/metrics``, ``/openapi.json`` and the ``/docs`` page (Swagger UI from the packaged
``flask_swagger_ui`` assets: nothing is fetched from a CDN)."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import asyncpg
from aiohttp import web
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from pydantic import BaseModel, Field

from api.routing import Ctx, RouteTable

routes = RouteTable("service", "Health, readiness, metrics and this document")

DOCS_ASSETS = "/docs/assets"
_DOCS_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>BitHedge API</title>
<link rel="stylesheet" href="{assets}/swagger-ui.css"></head>
<body><div id="ui"></div><script src="{assets}/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({{url: "/openapi.json", dom_id: "#ui"}});</script></body></html>
"""


def swagger_ui_dist() -> Path:
    """Swagger UI 5 (renders OpenAPI 3.1), from the installed flask-swagger-ui wheel (flask is not imported)."""
    spec = importlib.util.find_spec("flask_swagger_ui")
    if spec is None or spec.origin is None:
        raise RuntimeError("flask-swagger-ui is not installed (it is in requirements.lock)")
    return Path(spec.origin).parent / "dist"


class Health(BaseModel):
    status: str = Field(description="`ok` whenever the process answers.")
    pid: int = Field(description="The process that answered (one of them with `--workers`).")


class Readiness(BaseModel):
    ready: bool
    database: bool = Field(description="The database answered.")
    analytics: bool = Field(description="The transforms have built the analytics views.")
    stacks_height: int | None = Field(description="Stacks height every mart includes.")


@routes.get("/health", scope=None, documented=False)
async def health(ctx: Ctx) -> Health:
    """The process is up."""
    return Health(status="ok", pid=os.getpid())


@routes.get("/ready", scope=None, documented=False)
async def ready(ctx: Ctx) -> Readiness:
    """The database answers and the analytics are built (503 otherwise)."""
    database = analytics = False
    height = None
    try:
        database = await ctx.db.fetchval("SELECT true")
        row = await ctx.db.fetchrow("SELECT marts_stacks_height FROM analytics.freshness")
        analytics = row is not None
        height = row["marts_stacks_height"] if row else None
    except (asyncpg.PostgresError, OSError):
        pass
    ok = bool(database and analytics)
    ctx.status = 200 if ok else 503
    return Readiness(ready=ok, database=bool(database), analytics=analytics, stacks_height=height)


@routes.get("/metrics", scope=None, documented=False, raw=(CONTENT_TYPE_LATEST, "Prometheus metrics"))
async def metrics(ctx: Ctx) -> web.Response:
    """Prometheus metrics."""
    return web.Response(body=ctx.state.metrics.exposition(),
                        headers={"Content-Type": CONTENT_TYPE_LATEST})


@routes.get("/openapi.json", scope=None, documented=False, raw=("application/json", "This document"))
async def openapi(ctx: Ctx) -> web.Response:
    """The OpenAPI 3.1 document."""
    return web.json_response(ctx.state.extras["openapi"], headers={"Cache-Control": "no-cache"})


@routes.get("/docs", scope=None, documented=False, raw=("text/html", "Swagger UI"))
async def docs(ctx: Ctx) -> web.Response:
    """Interactive documentation."""
    return web.Response(text=_DOCS_HTML.format(assets=DOCS_ASSETS), content_type="text/html")


@routes.get(DOCS_ASSETS + "/{name}", scope=None, documented=False, raw=("application/octet-stream", "An asset"))
async def docs_asset(ctx: Ctx) -> web.StreamResponse:
    """One Swagger UI file."""
    name = ctx.request.match_info["name"]
    path = swagger_ui_dist() / name
    if "/" in name or name.startswith(".") or not path.is_file():
        raise web.HTTPNotFound()
    return web.FileResponse(path, headers={"Cache-Control": "public, max-age=86400"})
