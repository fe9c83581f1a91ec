"""``bithedge keeper run``: one step per new Stacks block (and a timer while the chain stalls).

A step: follow every signer's transactions (:class:`keeper.txs.TxManager`), publish prices
(:class:`keeper.publisher.Publisher`), settle and void due policies (:class:`keeper.settlement.Settler`), update
the metrics. Before the first step each signer's ledger is reconciled with the node. ``/health`` answers while
the process runs, ``/ready`` once the ledgers are reconciled and the last step succeeded, ``/metrics`` the
Prometheus metrics. SIGTERM stops after the step in progress; every transaction in flight stays in the ledger
and the next start follows it."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field

import asyncpg
from aiohttp import web
from prometheus_client import generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from bithedge import logs
from bithedge.ops_http import serve_ops
from bithedge.protocol.deployment import Deployment
from keeper.confirmations import CanonicalCalls
from keeper.expiries import AnalyticsExpiries, ChainExpiries
from keeper.keys import Signer
from keeper.metrics import Metrics
from keeper.oracle.publish import PublishRules
from keeper.publisher import Collect, Publisher
from keeper.settlement import Settler
from keeper.store import Alerts
from keeper.txs import TxConfig, TxManager
from stacks.rpc import StacksClient


@dataclass
class KeeperConfig:
    db_url: str
    node_url: str
    deployment: Deployment = field(default_factory=Deployment)
    host: str = "127.0.0.1"
    port: int = 4000
    poll_s: float = 1.0
    #: a step runs at least this often even without a new block (price rounds, alerts while the chain stalls)
    timer_s: float = 30.0
    policy_source: str = "analytics"
    #: "analytics": confirmations from analytics.contract_calls while the transforms are current, else the node
    confirm_source: str = "analytics"
    settle_lag_blocks: int = 6
    tx: TxConfig = field(default_factory=TxConfig)


class Keeper:
    def __init__(self, cfg: KeeperConfig, signers: dict[str, Signer], *, collect: Collect, rules: PublishRules,
                 client: StacksClient | None = None) -> None:
        self.cfg, self.signers = cfg, signers
        self._collect, self._rules = collect, rules
        self.client = client or StacksClient(cfg.node_url, retries=3)
        self.metrics = Metrics()
        self.log = logs.get("keeper")
        self.pool: asyncpg.Pool | None = None
        self.stopping = asyncio.Event()
        self.last_ok: float | None = None
        self.last_error: str | None = None
        self.tip = -1
        self.burn_height = -1
        self.steps = 0
        self._runner: web.AppRunner | None = None
        self.port = cfg.port

    async def open(self) -> None:
        self.pool = await asyncpg.create_pool(self.cfg.db_url, min_size=1, max_size=4)
        self.alerts = Alerts(self.pool)
        await self.alerts.load()
        canonical = CanonicalCalls(self.pool) if self.cfg.confirm_source == "analytics" else None
        self.oracle_txm = TxManager(self.pool, self.client, self.signers["oracle"], self.cfg.tx, self.alerts,
                                    canonical=canonical)
        self.settler_txm = TxManager(self.pool, self.client, self.signers["settler"], self.cfg.tx, self.alerts,
                                     canonical=canonical)
        source = (AnalyticsExpiries(self.pool) if self.cfg.policy_source == "analytics"
                  else ChainExpiries(self.client, self.cfg.deployment))
        self.settler = Settler(self.pool, self.settler_txm, source, self.cfg.deployment, self.alerts,
                               settle_lag_blocks=self.cfg.settle_lag_blocks)
        self.publisher = Publisher(self.pool, self.oracle_txm, self._collect, self._rules,
                                   self.cfg.deployment, self.alerts)

    @property
    def txms(self) -> list[TxManager]:
        return [self.oracle_txm, self.settler_txm]

    async def close(self) -> None:
        if self._runner:
            await self._runner.cleanup()
        if self.pool:
            await self.pool.close()
        await self.client.close()

    # ---- one step ------------------------------------------------------------------------------------
    async def step(self) -> None:
        started = time.perf_counter()
        info = await self.client.info()
        self.tip, self.burn_height = info["stacks_tip_height"], info["burn_block_height"]
        for txm in self.txms:
            if not txm.reconciled:
                await txm.reconcile()
            await txm.poll(self.tip)
        due = await self.settler.source.due(self.burn_height)
        # due expiries still missing a settlement price: the publishing rule makes sure one appears
        pending = [e.expiry for e in due if e.btc_price_height is None or e.stx_price_height is None]
        await self.publisher.tick(self.burn_height, self.tip, pending)
        await self.settler.tick(self.burn_height, due)
        await self._update_metrics()
        self.metrics.step_seconds.observe(time.perf_counter() - started)
        self.steps += 1
        self.last_ok, self.last_error = time.time(), None

    async def _update_metrics(self) -> None:
        m = self.metrics
        for txm in self.txms:
            who = txm.signer.role
            m.pending.labels(who).set(txm.state.pending)
            m.pending_age.labels(who).set(txm.state.oldest_pending_blocks)
            m.bumps.labels(who).set(txm.state.bumps)
            m.balance.labels(who).set(txm.state.balance or 0)
            m.paused.labels(who).set(1 if txm.state.paused else 0)
            m.nonce_gap.labels(who).set(await txm.nonce_gap())
        m.due_unsettled.set(self.settler.due_unsettled)
        m.settled.set(self.settler.stats["policies_settled"])
        for asset in self.publisher.onchain:
            m.publishes.labels(asset).set(self.publisher.stats[f"publish:{asset}"])
        m.settle_lag.set(self.settler.lag_blocks)
        m.open_alerts.set(len(self.alerts.open))
        m.decision_seconds.set(self.publisher.decision_seconds)
        m.node_seconds.set(self.publisher.node_seconds)
        m.oracle_heartbeat.set(self._rules.heartbeat_blocks)
        for asset, onchain in self.publisher.onchain.items():
            if onchain.height is not None:
                m.oracle_age.labels(asset).set(self.burn_height - onchain.height)
        for asset, rnd in self.publisher.last_rounds.items():
            for q in rnd.quotes:
                ok = q.status == "ok"
                m.source_up.labels(q.source, asset).set(1 if ok else 0)
                if q.latency_ms is not None:
                    m.source_latency.labels(q.source, asset).set(q.latency_ms / 1000)
                if ok and rnd.median and q.price_usd:
                    m.source_deviation.labels(q.source, asset).set((q.price_usd - rnd.median) * 10_000 / rnd.median)
                if not ok:
                    # the reason's kind only ("stale", "outlier", "rate-limited (HTTP 429)"): bounded label values
                    kind = str(q.reason or "unknown").split(":")[0][:40]
                    m.source_excluded.labels(q.source, asset, kind).inc()

    # ---- the daemon ----------------------------------------------------------------------------------
    async def start_http(self) -> int:
        self._runner, self.port = await serve_ops(self.cfg.host, self.cfg.port, health=self._health,
                                                  ready=self._ready, metrics=self._metrics)
        return self.port

    async def run(self) -> None:
        """Until :attr:`stopping`: a step per new Stacks block, or every ``timer_s``; errors back off."""
        backoff = 1.0
        last_tip, last_step = None, 0.0
        while not self.stopping.is_set():
            try:
                info = await self.client.info(retry=False)
                due = info["stacks_tip_height"] != last_tip or time.monotonic() - last_step >= self.cfg.timer_s
                if due:
                    await self.step()
                    last_tip, last_step = info["stacks_tip_height"], time.monotonic()
                backoff = 1.0
                wait = self.cfg.poll_s
            except Exception as exc:  # noqa: BLE001 - the loop outlives any one step; /ready and the metric show it
                self.metrics.step_errors.inc()
                self.last_error = f"{type(exc).__name__}: {str(exc)[:200]}"
                self.log.warning("step_failed", error=self.last_error, retry_s=backoff)
                wait, backoff = backoff, min(backoff * 2, 30.0)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), wait)

    async def _health(self, _req: web.Request) -> web.Response:
        return web.json_response({"ok": True, "steps": self.steps})

    async def _ready(self, _req: web.Request) -> web.Response:
        ready = all(t.reconciled for t in self.txms) and self.last_ok is not None and self.last_error is None
        body = {"ready": ready, "tip": self.tip, "burn_height": self.burn_height, "error": self.last_error}
        return web.json_response(body, status=200 if ready else 503)

    async def _metrics(self, _req: web.Request) -> web.Response:
        return web.Response(body=generate_latest(self.metrics.registry), headers={"Content-Type": CONTENT_TYPE_LATEST})
