"""The framework: typed routes, problem+json, auth by scope, the OpenAPI document and service routes."""

from __future__ import annotations


async def test_health_and_metrics_answer_without_a_key(make_client) -> None:
    client = await make_client()
    r = await client.get("/health")
    assert r.status == 200 and (await r.json())["status"] == "ok"
    r = await client.get("/metrics")
    assert r.status == 200 and "bithedge_api_requests" in await r.text()


async def test_ready_is_503_before_the_analytics_exist(make_client) -> None:
    client = await make_client()
    r = await client.get("/ready")
    body = await r.json()
    assert r.status == 503 and body["database"] is True and body["analytics"] is False


async def test_unknown_path_is_problem_json(make_client) -> None:
    client = await make_client()
    r = await client.get("/v1/nope")
    assert r.status == 404 and r.content_type == "application/problem+json"
    assert (await r.json())["status"] == 404


async def test_openapi_document_is_3_1_and_docs_assets_are_local(make_client) -> None:
    client = await make_client()
    doc = await (await client.get("/openapi.json")).json()
    assert doc["openapi"] == "3.1.0" and "ProblemModel" in doc["components"]["schemas"]
    page = await (await client.get("/docs")).text()
    assert "http" not in page.replace('"/openapi.json"', "")
    r = await client.get("/docs/assets/swagger-ui-bundle.js")
    assert r.status == 200 and len(await r.read()) > 100_000
    assert (await client.get("/docs/assets/..%2Fflask_swagger_ui.py")).status == 404
