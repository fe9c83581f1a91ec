"""Schema-driven fuzzing (schemathesis over /openapi.json) of a real server on loopback, on the populated
analytics: every documented operation, a few generated requests each, 0 server errors and 0 responses that
differ from the document (status codes, content types, headers, bodies)."""

from __future__ import annotations

import asyncio
import threading

import asyncpg
import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings

from api import keys
from api.app import create_app
from bithedge.database import role_url
from tests.api.conftest import api_settings

schemathesis = pytest.importorskip("schemathesis")
from schemathesis.checks import (  # noqa: E402
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance, negative_data_rejection]
EXAMPLES = 8
#: a stream answer ends only when the client stops reading it, so fewer of those
STREAM_EXAMPLES = 2


class ServerThread:
    """The app on its own event loop in a thread: schemathesis calls it synchronously over loopback."""

    def __init__(self, app: web.Application) -> None:
        self.app, self.port = app, 0
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.runner = web.AppRunner(self.app, access_log=None)
        self.loop.run_until_complete(self.runner.setup())
        self.loop.run_until_complete(web.TCPSite(self.runner, "127.0.0.1", 0).start())
        self.port = self.runner.addresses[0][1]
        self.ready.set()
        self.loop.run_forever()
        self.loop.run_until_complete(self.runner.cleanup())

    def __enter__(self) -> str:
        self.thread.start()
        assert self.ready.wait(60)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc: object) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(30)


@pytest.fixture
async def admin_key(analytics_db) -> str:
    conn = await asyncpg.connect(analytics_db.url)
    try:
        return (await keys.create(conn, "fuzz", ["admin"])).key
    finally:
        await conn.close()


async def test_every_operation_answers_as_documented(analytics_db, admin_key) -> None:
    app = create_app(api_settings(api_rate_per_s=10_000.0), db_url=role_url(analytics_db.url, "bithedge_api"))
    with ServerThread(app) as base:
        await asyncio.to_thread(_fuzz, base, admin_key)


def _fuzz(base: str, key: str) -> None:
    schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
    headers = {"x-api-key": key}
    failures: list[str] = []
    operations = [op.ok() for op in schema.get_all_operations()]
    assert len(operations) >= 25, [o.label for o in operations]
    for op in operations:
        examples = STREAM_EXAMPLES if op.path == "/v1/stream" else EXAMPLES

        @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(case=op.as_strategy())
        def run(case) -> None:
            case.call_and_validate(base_url=base, headers=headers, checks=CHECKS)

        try:
            run()
        except Exception as exc:  # noqa: BLE001 - collect every operation's failure, then report them all
            failures.append(f"{op.label}: {exc}"[:2000])
    assert not failures, "\n\n".join(failures)
