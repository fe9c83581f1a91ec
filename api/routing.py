"""Typed endpoints: a handler's signature *is* its contract.

A handler is ``async def name(ctx: Ctx, *, query: Q, path: P, body: B) -> R`` where each of ``query``, ``path``
and ``body`` is optional and annotated with a pydantic model, and ``R`` is the response model. ``RouteTable``
reads those annotations once: requests are validated into the models, the returned value is serialised through
``R``, and ``api.openapi`` documents exactly the same models, so the document cannot drift from the code.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
import types
import typing
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from api.cache import max_age
from api.problems import Problem
from api.views import Encoded

Scope = Literal["read", "quote", "admin"]
Method = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]


class QueryModel(BaseModel):
    """Base of query-string models: unknown parameters are an error (a typo is not silently ignored)."""

    model_config = ConfigDict(extra="forbid")


class PathModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BodyModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


@dataclass
class Ctx:
    """What a handler gets besides its validated inputs."""

    request: web.Request
    #: the authenticated caller (``api.auth.Principal``); the anonymous principal on public routes
    principal: Any
    #: response status and extra headers a handler may set (e.g. 201, Location)
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    #: what the audit row of a quote/admin action records besides who, what and the status (e.g. the quote id)
    audit: dict[str, Any] = field(default_factory=dict)

    @property
    def state(self) -> Any:
        """The application's ``api.state.ApiState`` (settings, pool, metrics…)."""
        return app_state(self.request)

    @property
    def db(self) -> Any:
        """The asyncpg pool: ``await ctx.db.fetch(sql, *params)`` (parameters only, never formatted SQL)."""
        return self.state.pool

    @property
    def reads(self) -> Any:
        """The analytics reads' pool: numerics arrive as exact decimal strings (``api.views.encode_row``'s rows)."""
        return self.state.reads


Handler = Callable[..., Awaitable[Any]]
#: the audit detail of the request being handled (quote and admin actions)
AUDIT: web.RequestKey[dict[str, Any]] = web.RequestKey("bithedge_api_audit", dict)


@dataclass(frozen=True)
class Route:
    method: Method
    path: str
    handler: Handler
    summary: str
    description: str
    tag: str
    #: scope the caller needs; ``None``: public (no key needed, not rate limited per key)
    scope: Scope | None
    query: type[BaseModel] | None
    path_model: type[BaseModel] | None
    body: type[BaseModel] | None
    #: the return annotation; ``None`` for raw routes
    response: Any
    #: the documented success status (a handler sets ``ctx.status`` to match when it is not 200)
    status: int = 200
    #: raw routes return an aiohttp response themselves (SSE, metrics, HTML); value: (media type, description)
    raw: tuple[str, str] | None = None
    #: the JSON Schema of a raw answer (for SSE: of one event); default: a string
    raw_schema: dict[str, Any] | None = None
    #: ``Cache-Control`` of a 200 answer; GET JSON answers also carry an ETag
    cache: str | None = None
    #: extra documented error statuses (beyond 400/401/403/429 the framework adds)
    errors: tuple[int, ...] = ()
    #: whether the route is under /v1 and documented (health and docs routes are not versioned)
    documented: bool = True

    @property
    def operation_id(self) -> str:
        return self.handler.__name__

    @property
    def adapter(self) -> TypeAdapter:
        return _adapter(self.response)


_ADAPTERS: dict[Any, TypeAdapter] = {}


def _adapter(tp: Any) -> TypeAdapter:
    if tp not in _ADAPTERS:
        _ADAPTERS[tp] = TypeAdapter(tp)
    return _ADAPTERS[tp]


Lifespan = Callable[[web.Application], AsyncIterator[None]]


class RouteTable:
    """The routes of one module. ``api.app`` mounts every module's ``routes``; ``lifespan`` registers an aiohttp
    cleanup context (start-up code before its ``yield``, shutdown after) for background work a module needs."""

    def __init__(self, tag: str, description: str = "") -> None:
        self.tag = tag
        self.description = description
        self.routes: list[Route] = []
        self.lifespans: list[Lifespan] = []

    def get(self, path: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.route("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.route("POST", path, **kw)

    def delete(self, path: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.route("DELETE", path, **kw)

    def route(self, method: Method, path: str, *, scope: Scope | None = "read", summary: str | None = None,
              status: int = 200, raw: tuple[str, str] | None = None, raw_schema: dict[str, Any] | None = None,
              cache: str | None = None, errors: tuple[int, ...] = (), documented: bool = True) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            hints = typing.get_type_hints(handler, include_extras=True)
            params = inspect.signature(handler).parameters
            unknown = set(params) - {"ctx", "query", "path", "body"}
            if unknown:
                raise TypeError(f"{handler.__name__}: unknown parameters {sorted(unknown)}")
            doc = inspect.getdoc(handler) or ""
            first, _, rest = doc.partition("\n")
            self.routes.append(Route(
                method=method, path=path, handler=handler, summary=summary or first.strip(),
                description=rest.strip(), tag=self.tag, scope=scope,
                query=hints.get("query") if "query" in params else None,
                path_model=hints.get("path") if "path" in params else None,
                body=hints.get("body") if "body" in params else None,
                response=None if raw else hints["return"], status=status, raw=raw, raw_schema=raw_schema, cache=cache, errors=errors,
                documented=documented))
            return handler
        return register

    def lifespan(self, fn: Lifespan) -> Lifespan:
        self.lifespans.append(fn)
        return fn


# ---- request → handler → response -----------------------------------------------------------------------------
def _invalid(where: str, exc: ValidationError) -> Problem:
    errors = [{"loc": [where, *e["loc"]], "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
    return Problem(400, "Invalid Input", f"{len(errors)} invalid {where} input(s)", type="urn:bithedge:invalid-input",
                   errors=errors)


def _query_dict(route: Route, request: web.Request) -> dict[str, Any]:
    assert route.query is not None
    repeated = _repeated(route.query)
    out: dict[str, Any] = {}
    for key in request.query.keys():
        if key in out:
            continue
        values = request.query.getall(key)
        out[key] = values if key in repeated else (values[0] if len(values) == 1 else values)
    return out


@functools.cache
def _repeated(model: type[BaseModel]) -> frozenset[str]:
    """The query parameters of ``model`` that are lists (each repetition one item); read once per model."""
    return frozenset(name for name, info in model.model_fields.items()
                     if typing.get_origin(_strip(info.annotation)) in (list, tuple, set))


def _strip(tp: Any) -> Any:
    """``list[X] | None`` → ``list[X]`` (to see whether a query parameter repeats)."""
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    if typing.get_origin(tp) in (typing.Union, types.UnionType) and len(args) == 1:
        return args[0]
    return tp


async def _body(route: Route, request: web.Request) -> BaseModel:
    assert route.body is not None
    if request.content_type != "application/json":
        raise Problem(415, "Unsupported Media Type", "send the body as application/json")
    raw = await request.read()
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise Problem(400, "Invalid Input", f"body is not JSON: {exc}", type="urn:bithedge:invalid-input") from None
    try:
        return route.body.model_validate(data)
    except ValidationError as exc:
        raise _invalid("body", exc) from None


def etag_of(body: bytes) -> str:
    # SHA-1 runs on the CPU's SHA extensions through OpenSSL: half blake2b's time (13 against 25 µs for a
    # 25 kB page of policies), and every 200 of a GET pays it
    return 'W/"' + hashlib.sha1(body, usedforsecurity=False).hexdigest()[:24] + '"'


def _answer(request: web.Request, status: int, body: bytes, headers: dict[str, str]) -> web.Response:
    if status == 200 and headers.get("ETag") in [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]:
        return web.Response(status=304, headers={k: v for k, v in headers.items() if k != "Content-Type"})
    return web.Response(status=status, body=body, headers=headers)


async def call(route: Route, request: web.Request, principal: Any) -> web.StreamResponse:
    """Validate inputs, run the handler, serialise its result through the declared response model."""
    if route.method == "GET" and route.cache is not None and route.documented:
        cache = app_state(request).cache
        key = request.path_qs
        if (hit := cache.get(key)) is not None:
            return _answer(request, 200, *hit)
        lock = cache.filling(key)
        if lock.locked() and (old := cache.stale(key)) is not None:
            return _answer(request, 200, *old)  # another request is recomputing it (api.cache)
        try:
            async with lock:
                if (hit := cache.get(key)) is not None:
                    return _answer(request, 200, *hit)
                return await _call(route, request, principal, cache)
        finally:
            cache.filled(key)
    return await _call(route, request, principal, None)


async def _call(route: Route, request: web.Request, principal: Any, cache: Any) -> web.StreamResponse:
    kwargs: dict[str, Any] = {}
    try:
        if route.query is not None:
            kwargs["query"] = route.query.model_validate(_query_dict(route, request))
        elif request.query and route.documented:
            raise Problem(400, "Invalid Input", "this endpoint takes no query parameters",
                          type="urn:bithedge:invalid-input")
    except ValidationError as exc:
        raise _invalid("query", exc) from None
    if route.path_model is not None:
        try:
            kwargs["path"] = route.path_model.model_validate(dict(request.match_info))
        except ValidationError as exc:
            raise _invalid("path", exc) from None
    if route.body is not None:
        kwargs["body"] = await _body(route, request)
    ctx = Ctx(request=request, principal=principal, status=route.status, audit=request.get(AUDIT, {}))
    result = await route.handler(ctx, **kwargs)
    if route.raw is not None:
        return result
    if isinstance(result, Encoded):  # rows of the declared model, already its JSON values (api.views)
        body = result.json()
    else:
        adapter = route.adapter
        if not isinstance(result, route.response if isinstance(route.response, type) else object):
            result = adapter.validate_python(result)
        body = adapter.dump_json(result)
    headers = {"Content-Type": "application/json", **ctx.headers}
    if route.method == "GET" and ctx.status == 200 and route.documented:
        headers["ETag"] = etag_of(body)
        if route.cache:
            headers["Cache-Control"] = route.cache
        if cache is not None:
            cache.put(request.path_qs, max_age(route.cache), body, headers)
    return _answer(request, ctx.status, body, headers)


def app_state(request: web.Request) -> Any:
    from api.state import STATE  # api.state imports this module (through api.auth)

    return request.app[STATE]
