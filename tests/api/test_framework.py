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


async def test_metrics_count_each_route_and_status_and_time_each_route(make_client) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    client = await make_client()
    for path in ("/health", "/health", "/health", "/v1/nope", "/v1/nope"):
        await (await client.get(path)).read()
    families = {f.name: f for f in text_string_to_metric_families(await (await client.get("/metrics")).text())}
    counted = {(s.labels["route"], s.labels["status"]): s.value for s in families["bithedge_api_requests"].samples
               if s.name == "bithedge_api_requests_total"}
    assert counted[("/health", "200")] == 3 and counted[("unmatched", "404")] == 2
    timed = {s.labels["route"]: s.value for s in families["bithedge_api_request_seconds"].samples
             if s.name == "bithedge_api_request_seconds_count"}
    assert timed["/health"] == 3 and timed["unmatched"] == 2


def test_etag_is_a_weak_digest_of_the_body() -> None:
    from api.routing import etag_of

    tag = etag_of(b'{"items":[]}')
    assert tag == etag_of(b'{"items":[]}') and tag.startswith('W/"') and len(tag) == 28  # the same in every process
    assert etag_of(b'{"items":[1]}') != tag


def test_a_principal_checked_once_is_still_checked_by_its_checksum() -> None:
    import pytest
    from pydantic import TypeAdapter, ValidationError

    from api.types import StacksPrincipal

    principal = TypeAdapter(StacksPrincipal)
    good = "ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM"
    bad = good[:-1] + ("N" if good[-1] != "N" else "P")
    for _ in range(2):  # the second time from the cache of checked principals; a refusal is never kept
        assert principal.validate_python(good) == good
        with pytest.raises(ValidationError, match="not a Stacks principal"):
            principal.validate_python(bad)
