"""The event-observer HTTP server (``bithedge indexer serve``).

Every POST, whatever its path, is stored in ``raw.observer_requests`` and answered 200 only after
its transaction committed. A stacks-node retries any non-200 forever, so:

* a payload that can never be processed (bad JSON, wrong types, truncated hex, oversized body, rows the
  database refuses) is stored in ``raw.dead_letters`` and acknowledged with 200;
* only a failure that may pass (database down, connection lost) is answered 500, and the node retries.

Requests are written one at a time (the node sends them in order, one at a time, anyway).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import time
from dataclasses import dataclass, field

from aiohttp import web

from bithedge import logs
from bithedge.settings import Settings
from indexer import retention
from indexer.gaps import GapReconciler, WriterHandle
from indexer.ingest import Writer, is_permanent_db_error
from indexer.metrics import Metrics
from indexer.prepare import Request, now
from indexer.status import collect_status
from stacks.rpc import StacksClient

log = logs.get("indexer.server")

OBSERVER_PATHS = (
    "/new_block", "/new_burn_block", "/new_mempool_tx", "/drop_mempool_tx", "/new_microblocks",
    "/stackerdb_chunks", "/proposal_response", "/attachments/new",
)
KEEP_TRUNCATED = 64 * 1024  # bytes of an oversized body kept for the dead letter


def _default(name: str):
    """A setting's default: the values below are never written twice."""
    return Settings.model_fields[name].default


@dataclass
class ServerConfig:
    dsn: str
    host: str = _default("host")
    port: int = _default("indexer_port")
    node_url: str | None = None  # for /ready and the gap reconciler (stacks_tip_height)
    api_url: str | None = None  # Hiro-style API the gap reconciler fetches missing blocks from
    api_key: str | None = field(default=None, repr=False)  # its x-api-key; a secret, kept out of reprs
    max_body_bytes: int = _default("indexer_max_body_mb") * 1024 * 1024
    ready_lag_blocks: int = _default("indexer_ready_lag_blocks")
    gap_fill: bool = _default("indexer_gap_fill")
    gap_check_s: float = _default("indexer_gap_check_s")
    body_retention_days: int | None = _default("indexer_body_retention_days")
    shutdown_timeout_s: float = _default("shutdown_timeout_s")

    @classmethod
    def from_settings(cls, s: Settings, dsn: str, **overrides) -> ServerConfig:
        """Every field from the settings; ``overrides`` (command-line options) win where not None."""
        values = dict(
            host=s.host, port=s.indexer_port, node_url=s.resolved_node_url, api_url=s.indexer_api_url,
            api_key=s.indexer_api_key.get_secret_value() if s.indexer_api_key else None,
            max_body_bytes=s.indexer_max_body_mb * 1024 * 1024, ready_lag_blocks=s.indexer_ready_lag_blocks,
            gap_fill=s.indexer_gap_fill, gap_check_s=s.indexer_gap_check_s,
            body_retention_days=s.indexer_body_retention_days, shutdown_timeout_s=s.shutdown_timeout_s)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(dsn=dsn, **values)


class IndexerServer:
    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.metrics = Metrics()
        self.writer: Writer | None = None
        self.lock = asyncio.Lock()
        self._node_tip: tuple[float, int | None, str | None] = (0.0, None, None)
        self.client: StacksClient | None = None
        self._tasks: list[asyncio.Task] = []
        self.runner: web.AppRunner | None = None
        self.last_delivery = time.monotonic()

    # --- lifecycle -------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application(client_max_size=self.config.max_body_bytes + 1)
        app.router.add_get("/health", self.health)
        app.router.add_get("/ready", self.ready)
        app.router.add_get("/metrics", self.metrics_view)
        app.router.add_get("/status", self.status_view)
        app.router.add_post("/{tail:.*}", self.observe)
        return app

    async def start(self) -> int:
        cfg = self.config
        self.writer = await self._open_writer()
        self.runner = web.AppRunner(self.app(), access_log=None, shutdown_timeout=cfg.shutdown_timeout_s)
        await self.runner.setup()
        await web.TCPSite(self.runner, cfg.host, cfg.port).start()
        port = self.runner.addresses[0][1]  # the real one when port=0
        if cfg.gap_fill and (cfg.node_url or cfg.api_url):
            self._tasks.append(asyncio.create_task(self._gap_loop()))
        if cfg.body_retention_days is not None:
            self._tasks.append(asyncio.create_task(self._retention_loop(cfg.body_retention_days)))
        log.info("indexer_listening", host=self.config.host, port=port, blocks=len(self.writer.chain),
                 tip_height=self.writer.chain.tip_height)
        return port

    async def stop(self) -> None:
        """Graceful: stop accepting, let the request being written commit and get its reply, then close."""
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        if self.runner is not None:
            await self.runner.cleanup()
        async with self.lock:
            if self.writer is not None:
                await self.writer.close()
        if self.client is not None:
            await self.client.close()
        log.info("indexer_stopped")

    def _client(self) -> StacksClient:
        """The one node/API client (the node probe and the gap reconciler), made on first use."""
        if self.client is None:
            cfg = self.config
            # retries=2: a live path; the next round (or the next /ready poll) tries again
            self.client = StacksClient(cfg.node_url or cfg.api_url, api_url=cfg.api_url or cfg.node_url,
                                       api_key=cfg.api_key, timeout=10.0, retries=2)
        return self.client

    async def _open_writer(self) -> Writer:
        w = await Writer.open(self.config.dsn)
        w.listeners.append(self.metrics.observe_batch)
        self.metrics.set_tip(w.tip.block_height, w.tip.block_time or w.tip.burn_block_time)
        return w

    # --- the observer endpoint ---------------------------------------------------------------

    async def observe(self, request: web.Request) -> web.Response:
        t0 = time.perf_counter()
        req = await self._read(request)
        status, body = await self.ingest(req)
        self.metrics.ack_latency.labels(req.path if req.path in OBSERVER_PATHS else "other").observe(
            time.perf_counter() - t0)
        self.last_delivery = time.monotonic()
        return web.json_response(body, status=status)

    async def _read(self, request: web.Request) -> Request:
        limit = self.config.max_body_bytes
        chunks, size = [], 0
        async for chunk in request.content.iter_chunked(1 << 20):
            size += len(chunk)
            if size <= limit:
                chunks.append(chunk)
            elif sum(map(len, chunks)) < KEEP_TRUNCATED:
                chunks.append(chunk)
        body = b"".join(chunks)
        if size > limit:
            return Request(request.path, body[:KEEP_TRUNCATED], now(), truncated_size=size)
        return Request(request.path, body, now())

    async def ingest(self, req: Request) -> tuple[int, dict]:
        async with self.lock:
            try:
                if self.writer is None or self.writer.conn.is_closed():
                    self.writer = await self._open_writer()
                res = await self.writer.write([req])
            except Exception as exc:
                if is_permanent_db_error(exc):
                    log.error("dead_letter", path=req.path, reason="database_rejected", error=str(exc))
                    try:
                        await self.writer.dead_letter(req, "database_rejected", f"{type(exc).__name__}: {exc}")
                    except Exception as exc2:  # the database is not taking anything: let the node retry
                        self.metrics.errors.inc()
                        return 500, {"error": f"could not store dead letter: {exc2}"}
                    return 200, {"result": "dead_letter", "error": str(exc)}
                self.metrics.errors.inc()
                log.error("write_failed", path=req.path, error=f"{type(exc).__name__}: {exc}")
                return 500, {"error": f"{type(exc).__name__}: {exc}"}
            tip = self.writer.tip
        self.metrics.set_tip(tip.block_height, tip.block_time or tip.burn_block_time)
        if req.outcome == "dead_letter":
            log.warning("dead_letter", path=req.path, request_id=req.request_id,
                        reason=getattr(req.parsed, "reason", None), error=str(req.parsed))
            return 200, {"result": "dead_letter", "error": str(req.parsed)}
        if res.blocks:
            log.info("block", height=tip.block_height, events=res.events, txs=res.txs, request_id=req.request_id)
        return 200, {"result": req.outcome}

    # --- operations --------------------------------------------------------------------------

    async def health(self, request: web.Request) -> web.Response:
        ok = self.writer is not None and not self.writer.conn.is_closed()
        return web.json_response({"status": "ok" if ok else "down"}, status=200 if ok else 503)

    async def node_tip(self) -> tuple[int | None, str | None]:
        """The node's stacks_tip_height (cached 2 s); (None, reason) when it cannot be asked."""
        at, height, error = self._node_tip
        if time.monotonic() - at < 2.0:
            return height, error
        height, error = None, None
        if not self.config.node_url:
            error = "no node URL configured"
        else:
            try:
                height = int((await self._client().info(retry=False))["stacks_tip_height"])
            except Exception as exc:
                error = f"node unreachable: {type(exc).__name__}: {exc}"
        self._node_tip = (time.monotonic(), height, error)
        our = self.writer.tip.block_height if self.writer else None
        self.metrics.set_node_tip(height, our)
        return height, error

    async def ready(self, request: web.Request) -> web.Response:
        if self.writer is None or self.writer.conn.is_closed():
            return web.json_response({"ready": False, "reason": "database connection down"}, status=503)
        node, error = await self.node_tip()
        ours = self.writer.tip.block_height
        body = {"ready": False, "tip_height": ours, "node_tip_height": node}
        if node is None:
            body["reason"] = error
            return web.json_response(body, status=503)
        lag = node - (ours if ours is not None else -1)
        body["lag_blocks"] = max(lag, 0)
        if lag > self.config.ready_lag_blocks:
            body["reason"] = f"{lag} blocks behind the node"
            return web.json_response(body, status=503)
        body["ready"] = True
        return web.json_response(body)

    async def metrics_view(self, request: web.Request) -> web.Response:
        if self.config.node_url:
            await self.node_tip()
        return web.Response(body=self.metrics.render(), content_type="text/plain", charset="utf-8")

    async def status_view(self, request: web.Request) -> web.Response:
        async with self.lock:
            status = await collect_status(self.writer.conn)
        return web.json_response(status, dumps=lambda o: json.dumps(o, default=str))

    def _idle(self) -> bool:
        """No delivery for a gap-check interval: the node may have stopped pushing."""
        return time.monotonic() - self.last_delivery > self.config.gap_check_s

    async def _gap_loop(self) -> None:
        rec = GapReconciler(self._client(), WriterHandle(self.lock, lambda: self.writer, self.ingest),
                            node_tip=self.node_tip, idle=self._idle, on_fill=self.metrics.gap_fills.inc)
        while True:
            await asyncio.sleep(self.config.gap_check_s)
            try:
                await rec.run_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("gap_reconciler_failed", error=f"{type(exc).__name__}: {exc}")

    async def _retention_loop(self, days: int) -> None:
        while True:
            try:
                cleared = 0
                while True:
                    async with self.lock:  # one batch at a time: deliveries wait for one short statement at most
                        n = await retention.clear_old_bodies(self.writer.conn, days)
                    cleared += n
                    if n < retention.BATCH:
                        break
                if cleared:
                    log.info("request_bodies_cleared", rows=cleared, older_than_days=days)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("retention_failed", error=f"{type(exc).__name__}: {exc}")
            await asyncio.sleep(retention.INTERVAL_S)


async def serve(config: ServerConfig) -> None:
    """Run until SIGINT/SIGTERM, then shut down gracefully."""
    server = IndexerServer(config)
    await server.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("indexer_shutting_down")
    await server.stop()
