"""``api.openapi``: query and path models become parameters, also when several routes share one model."""

from __future__ import annotations

import json
import re

from pydantic import BaseModel, Field

from api.openapi import build_document
from api.routing import BodyModel, Ctx, PathModel, QueryModel, RouteTable


class IdPath(PathModel):
    id: int = Field(ge=1, description="Item id.")


class Window(QueryModel):
    since: int | None = Field(default=None, ge=0, description="From this height.")


class Holder(BodyModel):
    """A body that embeds a query model: the model must stay a component for the body's reference."""

    window: Window


class Item(BaseModel):
    id: int


def _table() -> RouteTable:
    t = RouteTable("items")

    @t.get("/v1/items/{id}")
    async def get_item(ctx: Ctx, *, path: IdPath, query: Window) -> Item: ...

    @t.delete("/v1/items/{id}", scope="admin")
    async def delete_item(ctx: Ctx, *, path: IdPath) -> Item: ...

    @t.post("/v1/items/{id}/archive", scope="admin")
    async def archive_item(ctx: Ctx, *, path: IdPath) -> Item: ...

    @t.get("/v1/items")
    async def list_items(ctx: Ctx, *, query: Window) -> list[Item]: ...

    @t.post("/v1/holders", scope="admin")
    async def make_holder(ctx: Ctx, *, body: Holder) -> Item: ...

    return t


def _dangling(doc: dict) -> list[str]:
    names = re.findall(r'"#/components/schemas/([^"]+)"', json.dumps(doc))
    return sorted({n for n in names if n not in doc["components"]["schemas"]})


def test_a_path_model_shared_by_three_routes_documents_each_one() -> None:
    doc = build_document([_table()], anonymous_reads=False)
    for path, method in (("/v1/items/{id}", "get"), ("/v1/items/{id}", "delete"), ("/v1/items/{id}/archive", "post")):
        params = {p["name"]: p for p in doc["paths"][path][method]["parameters"]}
        assert params["id"]["in"] == "path" and params["id"]["required"] is True
        assert params["id"]["schema"] == {"type": "integer", "minimum": 1}
        assert params["id"]["description"] == "Item id."
    get_params = {p["name"]: p for p in doc["paths"]["/v1/items/{id}"]["get"]["parameters"]}
    assert get_params["since"]["in"] == "query" and get_params["since"]["required"] is False
    assert "IdPath" not in doc["components"]["schemas"]  # only parameters use it
    assert _dangling(doc) == []


def test_a_model_inlined_as_parameters_stays_a_component_while_a_body_refers_to_it() -> None:
    doc = build_document([_table()], anonymous_reads=False)
    schemas = doc["components"]["schemas"]
    assert "Window" in schemas and schemas["Holder"]["properties"]["window"] == {"$ref": "#/components/schemas/Window"}
    list_params = doc["paths"]["/v1/items"]["get"]["parameters"]
    assert [p["name"] for p in list_params] == ["since"]
    assert _dangling(doc) == []


def test_the_served_document_has_no_dangling_reference() -> None:
    from api.app import route_tables

    doc = build_document(route_tables(), anonymous_reads=True)
    assert _dangling(doc) == []
    assert not any(name.endswith("Path") for name in doc["components"]["schemas"])
