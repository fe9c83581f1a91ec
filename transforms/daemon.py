"""``bithedge transforms serve``: keep the analytics within a block of raw.

Wakes on ``NOTIFY bithedge_raw`` (sent by the indexer after each commit) or, as a fallback, when a slow poll
sees ``raw.chain_tip`` move; waits ``debounce`` for the rest of a burst; runs the incremental marts in-process
(the views are built once at start-up); after each good run records it, sends ``NOTIFY bithedge_analytics``
(JSON: the Stacks and burn heights the marts include, the run's duration) and updates the metrics. A failed
run leaves the last good marts in place (each mart commits alone, and a failed one rolls back) and is retried
with exponential backoff. Every ``reconcile_s`` (once the first build is done) it reconciles the marts with
the node (``transforms.reconcile.run``), records the run in ``transforms.reconcile_runs`` and sets
``bithedge_transforms_reconcile_mismatches``; a run that fails or cannot compare is logged and retried at the
next interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from bithedge import channels, logs
from bithedge.ops_http import serve_ops
from transforms.runner import LEAN, Dbt, Outcome, record_run

RAW_CHANNEL = channels.RAW
ANALYTICS_CHANNEL = channels.ANALYTICS
_PROGRESS_SQL = ("SELECT (SELECT min(included_height) FROM marts.build_state), "
                 "(SELECT min(included_burn_height) FROM marts.build_state), "
                 "(SELECT block_height FROM raw.chain_tip), "
                 "(SELECT extract(epoch FROM now() - updated_at) FROM raw.chain_tip)")


@dataclass
class DaemonConfig:
    url: str
    work_dir: Path
    host: str = "127.0.0.1"
    port: int = 3900
    debounce_s: float = 0.1
    poll_s: float = 5.0
    retry_max_s: float = 60.0
    threads: int = 2
    deployer: str | None = None
    node_url: str | None = None
    #: seconds between reconciler runs; 0 (or no node_url): never
    reconcile_s: float = 0.0
    #: how long one reconciler run waits for the marts to include the node's tip
    reconcile_wait_s: float = 60.0


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.run_seconds = Histogram(
            "bithedge_transforms_run_seconds", "Duration of one incremental dbt run", registry=self.registry,
            buckets=(0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30, 60))
        self.runs = Counter("bithedge_transforms_runs", "dbt runs by outcome", ["outcome"], registry=self.registry)
        self.failures = Counter("bithedge_transforms_failures", "Failed dbt runs", registry=self.registry)
        self.lag_blocks = Gauge("bithedge_transforms_lag_blocks", "Raw tip height minus the height the marts include",
                                registry=self.registry)
        self.lag_seconds = Gauge("bithedge_transforms_lag_seconds",
                                 "Seconds since the raw tip was written, while the marts lag behind it",
                                 registry=self.registry)
        self.included_height = Gauge("bithedge_transforms_included_height",
                                     "Stacks height every mart includes", registry=self.registry)
        self.reconcile_mismatches = Gauge("bithedge_transforms_reconcile_mismatches",
                                          "Mismatches the latest reconciler comparison found", registry=self.registry)
        self.reconcile_runs = Counter("bithedge_transforms_reconcile_runs", "Reconciler runs by outcome",
                                      ["outcome"], registry=self.registry)


class TransformDaemon:
    def __init__(self, cfg: DaemonConfig) -> None:
        self.cfg = cfg
        self.log = logs.get("transforms")
        self.metrics = Metrics()
        self.dbt = Dbt(cfg.url, work_dir=cfg.work_dir, deployer=cfg.deployer, threads=cfg.threads)
        self.wake = asyncio.Event()
        self.built = asyncio.Event()  # the first good run is done
        self.stopping = asyncio.Event()
        self.deployed = False
        self.last: Outcome | None = None
        self.included: tuple[int | None, int | None] = (None, None)
        self._wakers: list[asyncio.Task] = []
        self._builder: asyncio.Task | None = None
        self._runner: web.AppRunner | None = None
        self.port = cfg.port

    # ---- lifecycle ---------------------------------------------------------------------------------
    async def start(self) -> int:
        self._runner, self.port = await serve_ops(self.cfg.host, self.cfg.port, health=self._health,
                                                  ready=self._ready, metrics=self._metrics)
        self.wake.set()  # build once at start-up
        self._wakers = [asyncio.create_task(self._listen()), asyncio.create_task(self._poll())]
        self._builder = asyncio.create_task(self._build_loop())
        if self.cfg.reconcile_s > 0 and self.cfg.node_url:
            self._wakers.append(asyncio.create_task(self._reconcile_loop()))
        self.log.info("transforms_started", port=self.port)
        return self.port

    async def stop(self) -> None:
        """Stop waking, let a run in progress finish (dbt cannot be interrupted mid-model safely), close."""
        self.stopping.set()
        self.wake.set()
        for t in self._wakers:
            t.cancel()
        await asyncio.gather(*self._wakers, *([self._builder] if self._builder else []), return_exceptions=True)
        if self._runner:
            await self._runner.cleanup()
        self.log.info("transforms_stopped")

    # ---- waking ------------------------------------------------------------------------------------
    async def _listen(self) -> None:
        backoff = 1.0
        while not self.stopping.is_set():
            try:
                async with await psycopg.AsyncConnection.connect(self.cfg.url, autocommit=True) as conn:
                    await conn.execute(f"LISTEN {RAW_CHANNEL}")
                    backoff = 1.0
                    self.wake.set()  # anything missed while not listening
                    async for _ in conn.notifies():
                        self.wake.set()
            except Exception as exc:  # noqa: BLE001 - reconnect whatever broke the connection
                self.log.warning("listen_failed", error=repr(exc), retry_s=backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.cfg.retry_max_s)

    async def _poll(self) -> None:
        seen = None
        while not self.stopping.is_set():
            try:
                async with await psycopg.AsyncConnection.connect(self.cfg.url, autocommit=True) as conn:
                    while not self.stopping.is_set():
                        cur = await conn.execute("SELECT last_request_id FROM raw.chain_tip")
                        now = (await cur.fetchone())[0]
                        if now != seen:
                            seen = now
                            self.wake.set()
                        await asyncio.sleep(self.cfg.poll_s)
            except Exception as exc:  # noqa: BLE001 - the fallback must outlive anything the database does
                self.log.warning("poll_failed", error=repr(exc))
                await asyncio.sleep(self.cfg.poll_s)

    # ---- building ----------------------------------------------------------------------------------
    async def _build_loop(self) -> None:
        failures = 0
        while not self.stopping.is_set():
            await self.wake.wait()
            await asyncio.sleep(self.cfg.debounce_s)  # let the rest of a burst land
            self.wake.clear()
            if self.stopping.is_set():  # checked after the clear: stop() sets wake too
                return
            out = await asyncio.to_thread(self._run_once)
            if out.success:
                failures = 0
                self.built.set()
                await self._after_success(out)
            else:
                failures += 1
                self.metrics.failures.inc()
                wait = min(self.cfg.retry_max_s, 2.0 ** (failures - 1))
                self.log.error("run_failed", command=out.command, errors=out.errors[:5], retry_s=wait)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stopping.wait(), wait)
                self.wake.set()

    def _run_once(self) -> Outcome:
        """In a worker thread: the first good run deploys every model (the views), later ones the marts."""
        started = time.time()
        if self.deployed:
            out = self.dbt.refresh_marts()
        else:  # on a chain indexed before the daemon first ran, this writes the marts whole
            out = self.dbt.writing_whole(lambda: self.dbt.run("run", *LEAN))
        self.metrics.runs.labels("success" if out.success else "error").inc()
        if out.success:
            self.deployed = True
            self.metrics.run_seconds.observe(out.duration_s)
        try:
            record_run(self.cfg.url, out, started)
        except psycopg.Error as exc:
            self.log.warning("record_run_failed", error=str(exc))
        self.last = out
        return out

    async def _after_success(self, out: Outcome) -> None:
        try:
            async with await psycopg.AsyncConnection.connect(self.cfg.url, autocommit=True) as conn:
                cur = await conn.execute(_PROGRESS_SQL)
                height, burn, tip, age = await cur.fetchone()
                self.included = (height, burn)
                payload = json.dumps({"stacks_height": height, "burn_height": burn,
                                      "duration_s": round(out.duration_s, 3)})
                await conn.execute("SELECT pg_notify(%s, %s)", (ANALYTICS_CHANNEL, payload))
        except psycopg.Error as exc:
            self.log.warning("notify_failed", error=str(exc))
            return
        lag = max((tip or 0) - (height or 0), 0)
        self.metrics.lag_blocks.set(lag)
        self.metrics.lag_seconds.set(float(age or 0) if lag else 0.0)
        if height is not None:
            self.metrics.included_height.set(height)
        self.log.info("run", command=out.command, seconds=round(out.duration_s, 3), stacks_height=height,
                      burn_height=burn, lag_blocks=lag)

    # ---- reconciling -------------------------------------------------------------------------------
    async def _reconcile_loop(self) -> None:
        await self.built.wait()
        while not self.stopping.is_set():
            await self._reconcile_once()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), self.cfg.reconcile_s)

    async def _reconcile_once(self) -> None:
        from transforms import reconcile

        try:
            result = await reconcile.run(self.cfg.url, self.cfg.node_url, self.cfg.deployer,
                                         wait_s=self.cfg.reconcile_wait_s)
        except Exception as exc:  # noqa: BLE001 - a reconciler failure must never take the daemon down
            self.metrics.reconcile_runs.labels("error").inc()
            self.log.error("reconcile_failed", error=f"{type(exc).__name__}: {exc}")
            return
        if result.error:
            self.metrics.reconcile_runs.labels("skipped").inc()
            self.log.warning("reconcile_skipped", error=result.error)
            return
        self.metrics.reconcile_runs.labels("mismatch" if result.mismatches else "ok").inc()
        self.metrics.reconcile_mismatches.set(len(result.mismatches))
        log = self.log.warning if result.mismatches else self.log.info
        log("reconcile", stacks_height=result.stacks_height, burn_height=result.burn_height, checked=result.checked,
            mismatches=len(result.mismatches), first=[m.as_json() for m in result.mismatches[:5]])

    # ---- HTTP --------------------------------------------------------------------------------------
    def _status(self) -> dict:
        last = self.last
        return {
            "deployed": self.deployed,
            "last_run": None if last is None else {
                "command": last.command, "success": last.success, "duration_s": round(last.duration_s, 3)},
            "stacks_height": self.included[0],
            "burn_height": self.included[1],
        }

    async def _health(self, _: web.Request) -> web.Response:
        return web.json_response({"status": "ok", **self._status()})

    async def _ready(self, _: web.Request) -> web.Response:
        ready = self.deployed and self.last is not None and self.last.success
        return web.json_response({"ready": ready, **self._status()}, status=200 if ready else 503)

    async def _metrics(self, _: web.Request) -> web.Response:
        return web.Response(body=generate_latest(self.metrics.registry), headers={"Content-Type": CONTENT_TYPE_LATEST})


async def serve(cfg: DaemonConfig) -> None:
    """Run until SIGINT/SIGTERM."""
    daemon = TransformDaemon(cfg)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await daemon.start()
    await stop.wait()
    await daemon.stop()
