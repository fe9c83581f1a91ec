"""``create_app(settings)``: the aiohttp application, built from the route modules in ``ROUTE_MODULES``.

Each module exposes ``routes: api.routing.RouteTable``. A module listed here that is not installed yet is
skipped (the quotes, transactions and notify modules land from their own branches), like the CLI's component
commands. Everything cross-cutting is here: problem+json for every error, auth and rate limits from each route's
scope, the audit row of quote/admin actions, request size limits, CORS, metrics.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg
import structlog
from aiohttp import web

from api import keys
from api.auth import Authenticator, Principal, presented_key
from api.problems import PROBLEM_TYPE, Problem
from api.routing import AUDIT, Route, RouteTable, call
from api.state import STATE, ApiState, open_pool
from bithedge.settings import Settings

#: route modules, mounted in this order (one line each; a module that does not exist yet is skipped)
ROUTE_MODULES: tuple[str, ...] = (
    "api.meta",
    "api.platform",
    "api.policies",
    "api.pools",
    "api.oracle",
    "api.governance",
    "api.risk",
    "api.stream",
    "api.admin",
    "api.quotes",
    "api.transactions",
    "notify.routes",
)

log = structlog.get_logger("api")


def route_tables(modules: tuple[str, ...] = ROUTE_MODULES) -> list[RouteTable]:
    tables = []
    for name in modules:
        if importlib.util.find_spec(name.rsplit(".", 1)[0]) is None or importlib.util.find_spec(name) is None:
            continue
        tables.append(importlib.import_module(name).routes)
    return tables


def _problem_response(p: Problem) -> web.Response:
    return web.Response(status=p.status, body=json.dumps(p.body()).encode(),
                        headers={"Content-Type": PROBLEM_TYPE, **p.headers})


def _from_http_error(exc: web.HTTPException) -> Problem:
    detail = exc.text if exc.text and not exc.text.startswith(f"{exc.status}:") else None
    headers = {k: v for k, v in exc.headers.items() if k in ("Allow", "Retry-After")}
    return Problem(exc.status, exc.reason, detail, headers=headers)


def _cors(settings: Settings) -> frozenset[str]:
    return frozenset(o.strip() for o in settings.api_cors_origins.split(",") if o.strip())


@web.middleware
async def _errors(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                  ) -> web.StreamResponse:
    """Every error leaves as problem+json; an unexpected one is logged with its request id, never echoed."""
    state = request.app[STATE]
    route = request.match_info.route
    name = route.resource.canonical if route.resource is not None else "unmatched"
    started = time.perf_counter()
    status = 500
    try:
        if len(request.query_string) > state.settings.api_max_query_bytes:
            raise Problem(414, "URI Too Long", f"query strings are limited to {state.settings.api_max_query_bytes} bytes")
        response = await handler(request)
        status = response.status
        return response
    except Problem as p:
        status = p.status
        return _problem_response(p)
    except web.HTTPException as exc:
        status = exc.status
        if exc.status < 400:
            raise
        return _problem_response(_from_http_error(exc))
    except (asyncpg.UndefinedTableError, asyncpg.UndefinedFunctionError):
        status = 503  # the transforms have not built the analytics yet
        return _problem_response(Problem(503, "Service Unavailable", "the analytics are not built yet"))
    except asyncpg.QueryCanceledError:
        status = 503  # over BITHEDGE_API_STATEMENT_TIMEOUT_MS
        return _problem_response(Problem(503, "Service Unavailable", "the query took too long; try again later",
                                         type="urn:bithedge:query-timeout", headers={"Retry-After": "5"}))
    except Exception:
        log.exception("unhandled", method=request.method, path=request.path)
        return _problem_response(Problem(500, "Internal Server Error", "the error was logged"))
    finally:
        state.metrics.answered(name, status, time.perf_counter() - started)


def _cors_middleware(origins: frozenset[str]):  # noqa: ANN202 - an aiohttp middleware
    @web.middleware
    async def cors(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                   ) -> web.StreamResponse:
        origin = request.headers.get("Origin")
        allowed = origin is not None and ("*" in origins or origin in origins)
        if allowed and request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
            return web.Response(status=204, headers={
                "Access-Control-Allow-Origin": origin, "Vary": "Origin", "Access-Control-Max-Age": "600",
                "Access-Control-Allow-Methods": "GET, POST, DELETE",
                "Access-Control-Allow-Headers": "Authorization, Content-Type, x-api-key, Last-Event-ID"})
        response = await handler(request)
        if allowed:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Vary"] = "Origin"
            response.headers["Access-Control-Expose-Headers"] = "ETag, Retry-After"
        return response
    return cors


def _endpoint(route: Route) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def endpoint(request: web.Request) -> web.StreamResponse:
        state = request.app[STATE]
        principal: Principal | None = None
        if route.scope is not None:
            key = presented_key(request)
            # only plain GET reads skip the lookup (a stream's answer never ends, writes are checked first)
            held = state.auth.kept(state.pool, key) if route.method == "GET" and route.raw is None else None
            if held is not None and held.principal.allows(route.scope):  # a refusal is answered from the table
                assert key is not None
                principal = state.auth.authorize(held.principal, route.scope, request.remote or "")
                try:
                    response = await call(route, request, principal)
                except Exception:
                    await state.auth.confirm(state.pool, key, held, route.scope)  # a 401 now replaces it
                    raise
                await state.auth.confirm(state.pool, key, held, route.scope)
                return response
            found = await state.auth.principal(state.pool, key)
            principal = state.auth.authorize(found, route.scope, request.remote or "")
        if route.scope in ("quote", "admin") and route.method != "GET":
            return await _audited(route, request, principal)
        return await call(route, request, principal)
    return endpoint


async def _audited(route: Route, request: web.Request, principal: Principal | None) -> web.StreamResponse:
    """Quote and admin actions leave an audit row, whatever their outcome."""
    state = request.app[STATE]
    detail: dict = {}
    request[AUDIT] = detail
    status = 500
    try:
        response = await call(route, request, principal)
        status = response.status
        return response
    except Problem as p:
        status = p.status
        detail["problem"] = p.type
        raise
    finally:
        await keys.audit(state.pool, key_id=principal.key_id if principal else None,
                         actor=f"key:{principal.prefix}" if principal and principal.prefix else "anonymous",
                         action=route.operation_id, status=status, detail=detail, remote=request.remote)


def create_app(settings: Settings, *, db_url: str, modules: tuple[str, ...] = ROUTE_MODULES) -> web.Application:
    """The API application. ``db_url`` is the ``bithedge_api`` role's URL; the pool opens on start-up."""
    middlewares = [_errors]
    if origins := _cors(settings):
        middlewares.insert(0, _cors_middleware(origins))  # outermost: error answers carry the headers too
    app = web.Application(middlewares=middlewares, client_max_size=settings.api_max_body_kb * 1024)
    state = ApiState(settings=settings, db_url=db_url, auth=Authenticator(
        rate_per_s=settings.api_rate_per_s, burst_s=settings.api_rate_burst_s,
        anonymous_rate_per_s=settings.api_anonymous_rate_per_s))
    app[STATE] = state

    async def pool_ctx(app: web.Application) -> AsyncIterator[None]:
        state.pool = await open_pool(settings, db_url, state.auth.cache)
        state.reads = await open_pool(settings, db_url, state.auth.cache, numerics_as_text=True)
        state.metrics.worker.set(1)
        yield
        await state.auth.drain()
        await state.reads.close()
        await state.pool.close()

    app.cleanup_ctx.append(pool_ctx)
    tables = route_tables(modules)
    for table in tables:
        for route in table.routes:
            app.router.add_route(route.method, route.path, _endpoint(route), name=route.operation_id)
        app.cleanup_ctx.extend(table.lifespans)
    from api.openapi import build_document

    state.extras["openapi"] = build_document(tables, anonymous_reads=state.auth.anonymous_allowed)
    return app
