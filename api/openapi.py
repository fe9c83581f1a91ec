"""The OpenAPI 3.1 document, generated from the routes and the very models their handlers are annotated with.

pydantic writes JSON Schema 2020-12, the dialect of OpenAPI 3.1, so the models' schemas go into
``components.schemas`` unchanged; query and path models become one parameter per field.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from pydantic import BaseModel, TypeAdapter

import api
from api.problems import PROBLEM_TYPE, ProblemModel
from api.routing import Route, RouteTable

TITLE = "BitHedge API"
VERSION = "1.0.0"
REF = "#/components/schemas/{model}"
SECURITY_SCHEMES = {
    "bearer": {"type": "http", "scheme": "bearer", "description": "`Authorization: Bearer bhk_…`"},
    "apiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"},
}


def _problem(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {PROBLEM_TYPE: {"schema": {"$ref": REF.format(model="ProblemModel")}}}}


def _not_null(prop: dict[str, Any]) -> dict[str, Any]:
    """A query parameter is absent or a value, never JSON null: ``X | None = None`` documents as ``X``."""
    options = [o for o in prop.get("anyOf", ()) if o != {"type": "null"}]
    if "anyOf" in prop and len(options) == 1:
        prop = {**{k: v for k, v in prop.items() if k != "anyOf"}, **options[0]}
    if prop.get("default", ...) is None:
        del prop["default"]
    return prop


def _parameters(model: type[BaseModel], where: str, schema: dict[str, Any]) -> list[dict[str, Any]]:
    required = set(schema.get("required", ()))
    out = []
    for name, prop in schema.get("properties", {}).items():
        prop = _not_null(dict(prop))
        prop.pop("title", None)
        description = prop.pop("description", None) or model.model_fields[name].description
        param: dict[str, Any] = {"name": name, "in": where, "required": where == "path" or name in required,
                                 "schema": prop}
        if description:
            param["description"] = description
        out.append(param)
    return out


def _responses(route: Route, schemas: dict[Any, dict[str, Any]]) -> dict[str, Any]:
    ok = HTTPStatus(route.status).phrase
    if route.raw is not None:
        media, description = route.raw
        out: dict[str, Any] = {str(route.status): {"description": description,
                                                    "content": {media: {"schema": route.raw_schema or
                                                                                   {"type": "string"}}}}}
    else:
        out = {str(route.status): {"description": ok,
                                   "content": {"application/json": {"schema": schemas[route.response]}}}}
        if route.method == "GET":
            out["304"] = {"description": "Not Modified (the `If-None-Match` ETag still matches)"}
    codes = set(route.errors)
    if route.query or route.path_model or route.body:
        codes.add(400)
    if route.path_model:
        codes.add(404)
    if route.body:
        codes |= {413, 415}
    if route.scope:
        codes |= {401, 403, 429}
    for code in sorted(codes):
        out[str(code)] = _problem(HTTPStatus(code).phrase)
    out["default"] = _problem("Any other error")
    return out


def build_document(tables: list[RouteTable], *, anonymous_reads: bool) -> dict[str, Any]:
    routes = [r for t in tables for r in t.routes if r.documented]
    keys: list[tuple[Any, str, TypeAdapter]] = [("ProblemModel", "serialization", TypeAdapter(ProblemModel))]
    seen: set[tuple[Any, str]] = set()
    for r in routes:
        for tp, mode in ((r.query, "validation"), (r.path_model, "validation"), (r.body, "validation"),
                         (r.response, "serialization")):
            if tp is not None and (tp, mode) not in seen:
                seen.add((tp, mode))
                keys.append((tp, mode, TypeAdapter(tp)))
    by_key, defs = TypeAdapter.json_schemas(keys, ref_template=REF)
    components = dict(defs.get("$defs", {}))
    schemas = {k: v for (k, mode), v in by_key.items() if mode == "serialization"}

    inlined: set[str] = set()  # query and path models become parameters, not components

    def inline(tp: type[BaseModel]) -> dict[str, Any]:
        """The schema of a query or path model, to spread into parameters. Read, never removed here: the same
        model may serve several routes (or be a body elsewhere); ``_unreferenced`` drops it at the end only
        if nothing in the document still points at it."""
        ref = by_key[(tp, "validation")]
        if "$ref" not in ref:
            return ref
        name = ref["$ref"].rsplit("/", 1)[1]
        inlined.add(name)
        return components[name]

    paths: dict[str, dict[str, Any]] = {}
    for r in routes:
        op: dict[str, Any] = {"operationId": r.operation_id, "summary": r.summary, "tags": [r.tag]}
        if r.description:
            op["description"] = r.description
        params: list[dict[str, Any]] = []
        if r.path_model:
            params += _parameters(r.path_model, "path", inline(r.path_model))
        if r.query:
            params += _parameters(r.query, "query", inline(r.query))
        if params:
            op["parameters"] = params
        if r.body:
            op["requestBody"] = {"required": True,
                                 "content": {"application/json": {"schema": by_key[(r.body, "validation")]}}}
        op["responses"] = _responses(r, schemas)
        if r.scope:
            op["security"] = [{"bearer": []}, {"apiKey": []}] + ([{}] if anonymous_reads and r.scope == "read"
                                                                 else [])
            op["x-scope"] = r.scope
        paths.setdefault(r.path, {})[r.method.lower()] = op
    for name in _unreferenced(inlined, paths, components):
        del components[name]
    return {
        "openapi": "3.1.0",
        "info": {"title": TITLE, "version": VERSION, "description": (api.__doc__ or "").strip()},
        "servers": [{"url": "/"}],
        "tags": [{"name": t.tag, "description": t.description} for t in tables if any(r.documented for r in t.routes)],
        "paths": paths,
        "components": {"schemas": components, "securitySchemes": SECURITY_SCHEMES},
    }


def _refs(node: Any, out: set[str]) -> set[str]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(REF.format(model="")):
            out.add(ref.rsplit("/", 1)[1])
        for v in node.values():
            _refs(v, out)
    elif isinstance(node, list):
        for v in node:
            _refs(v, out)
    return out


def _unreferenced(inlined: set[str], paths: dict[str, Any], components: dict[str, Any]) -> set[str]:
    """The inlined models nothing points at any more: not an operation (a body, a response, a parameter's
    schema) nor any component that is kept. A model kept as a component keeps what it references."""
    candidates = set(inlined)
    while True:
        kept = {n: s for n, s in components.items() if n not in candidates}
        used = _refs(paths, set())
        for schema in kept.values():
            _refs(schema, used)
        still = candidates & used
        if not still:
            return candidates
        candidates -= still
