"""``bithedge api serve --workers 2`` as a process on a real database: both workers answer on the one port,
``/metrics`` sums them, a key's rate limit holds across the workers (its burst once, not once per worker), SIGTERM
stops all of them cleanly, and a worker that dies takes the service down (for the supervisor to restart)."""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import asyncpg
from prometheus_client.parser import text_string_to_metric_families

from api import keys
from bithedge.database import role_url

BURST = 5


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, headers: dict[str, str] | None = None, *, method: str = "GET", read: bool = True
         ) -> tuple[int, bytes]:
    """One request on a new connection (the kernel picks the worker per connection)."""
    try:
        request = urllib.request.Request(url, headers=headers or {}, method=method)
        with urllib.request.urlopen(request, timeout=30) as r:
            return r.status, r.read() if read else b""
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def _serve(db_url: str, port: int) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": role_url(db_url, "bithedge_api"), "BITHEDGE_LOG_LEVEL": "warning",
           "BITHEDGE_API_RATE_BURST_S": str(BURST * 500), "BITHEDGE_API_DB_POOL_SIZE": "2"}
    proc = subprocess.Popen([sys.executable, "-m", "bithedge", "api", "serve", "--workers", "2", "--port", str(port)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    for _ in range(900):
        try:
            if _get(f"http://127.0.0.1:{port}/health")[0] == 200:
                return proc
        except OSError:
            pass
        assert proc.poll() is None, proc.stdout.read()
        time.sleep(0.1)
    proc.kill()
    raise AssertionError("the API did not answer")


def _workers(port: int, n: int = 40) -> set[int]:
    return {json.loads(_get(f"http://127.0.0.1:{port}/health")[1])["pid"] for _ in range(n)}


def _parent(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.wait()


async def _key(db_url: str, rate_per_s: float | None = None) -> str:
    conn = await asyncpg.connect(db_url)
    try:
        return (await keys.create(conn, "workers", ["read"], rate_per_s=rate_per_s)).key
    finally:
        await conn.close()


def test_two_workers_share_the_port_metrics_and_rate_limit_and_stop_on_sigterm(db_url) -> None:
    key = asyncio.run(_key(db_url, 0.002))  # nothing refills during the test: the burst and no more gets through
    port = _port()
    proc = _serve(db_url, port)
    try:
        pids = _workers(port)
        assert len(pids) == 2 and all(_parent(p) == proc.pid for p in pids)
        by_worker: dict[int, list[int]] = {}
        for _ in range(40):  # on one connection: which worker it is, then a read there
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            try:
                conn.request("GET", "/health")
                pid = json.loads(conn.getresponse().read())["pid"]
                conn.request("GET", "/v1/pools", headers={"x-api-key": key})
                answer = conn.getresponse()
                answer.read()
                by_worker.setdefault(pid, []).append(answer.status)
            finally:
                conn.close()
        statuses = [s for answers in by_worker.values() for s in answers]
        assert set(by_worker) == pids, by_worker  # both workers were asked
        # the analytics are not built here (503), but the limit is taken before the handler runs
        assert statuses.count(429) == 40 - BURST and set(statuses) == {429, 503}, by_worker
        families = {f.name: f for f in text_string_to_metric_families(_get(f"http://127.0.0.1:{port}/metrics")[1].decode())}
        served = {s.labels["pid"] for s in families["bithedge_api_worker"].samples if s.value == 1}
        assert served == {str(p) for p in pids}
        limited = [s.value for s in families["bithedge_api_requests"].samples
                   if s.name == "bithedge_api_requests_total" and s.labels == {"route": "/v1/pools", "status": "429"}]
        assert limited == [40 - BURST]  # one scrape, both workers' counts
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0
        assert not any(_alive(p) for p in pids)
    finally:
        _stop(proc)


def test_a_stream_token_from_one_worker_opens_the_stream_on_every_worker(db_url) -> None:
    key = asyncio.run(_key(db_url))
    port = _port()
    proc = _serve(db_url, port)
    try:
        assert len(_workers(port)) == 2
        status, body = _get(f"http://127.0.0.1:{port}/v1/stream/token", {"x-api-key": key}, method="POST")
        assert status == 201, body
        token = json.loads(body)["token"]
        # 20 connections: both workers take some (the odds of one taking all are 2^-19)
        assert {_get(f"http://127.0.0.1:{port}/v1/stream?token={token}", read=False)[0] for _ in range(20)} == {200}
        assert _get(f"http://127.0.0.1:{port}/v1/stream?token={token[:-2]}xx", read=False)[0] == 401
    finally:
        _stop(proc)


def test_a_worker_that_dies_stops_the_service(db_url) -> None:
    port = _port()
    proc = _serve(db_url, port)
    try:
        pids = _workers(port)
        assert len(pids) == 2
        dead, other = sorted(pids)
        os.kill(dead, signal.SIGKILL)
        assert proc.wait(60) == 1
        assert not _alive(other)
    finally:
        _stop(proc)
