"""Prometheus metrics of one indexer process (own registry, so tests can run several servers)."""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

ACK_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
DEPTH_BUCKETS = (1, 2, 3, 6, 10, 25, 50, 100, 200, 500, 1000)


class Metrics:
    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        self.requests = Counter("indexer_requests", "Observer requests by path and outcome", ["path", "outcome"],
                                registry=r)
        self.blocks = Counter("indexer_blocks_ingested", "New Stacks blocks written", registry=r)
        self.transactions = Counter("indexer_transactions_ingested", "Transactions written", registry=r)
        self.events = Counter("indexer_events_ingested", "Events written", registry=r)
        self.duplicates = Counter("indexer_duplicate_blocks", "Blocks delivered again (nothing changed)", registry=r)
        self.dead_letters = Counter("indexer_dead_letters", "Requests stored in raw.dead_letters", registry=r)
        self.reorgs = Counter("indexer_reorgs", "Reorgs (blocks orphaned)", registry=r)
        self.reorg_depth = Histogram("indexer_reorg_depth", "Blocks orphaned per reorg", buckets=DEPTH_BUCKETS,
                                     registry=r)
        self.ack_latency = Histogram("indexer_ack_latency_seconds", "Receipt to 200 reply (after commit)",
                                     ["path"], buckets=ACK_BUCKETS, registry=r)
        self.errors = Counter("indexer_write_errors", "Writes that failed and were answered 500", registry=r)
        self.tip_height = Gauge("indexer_tip_height", "Canonical tip height in raw.blocks", registry=r)
        self.node_tip_height = Gauge("indexer_node_tip_height", "The node's stacks_tip_height (/v2/info)",
                                     registry=r)
        self.lag_blocks = Gauge("indexer_lag_blocks", "Node tip height minus indexed tip height", registry=r)
        self.lag_seconds = Gauge("indexer_lag_seconds", "Now minus the indexed tip's block time", registry=r)
        self.gap_fills = Counter("indexer_gap_fills", "Blocks fetched from the API by the gap reconciler",
                                 registry=r)
        self._tip_time: float | None = None

    def observe_batch(self, result, requests) -> None:
        for req in requests:
            self.requests.labels(req.path if len(req.path) < 64 else "other", req.outcome or "unknown").inc()
        self.blocks.inc(result.blocks)
        self.transactions.inc(result.txs)
        self.events.inc(result.events)
        self.duplicates.inc(result.duplicates)
        self.dead_letters.inc(result.dead_letters)
        for depth, _fork in result.reorgs:
            self.reorgs.inc()
            self.reorg_depth.observe(depth)

    def set_tip(self, height: int | None, block_time: int | None) -> None:
        if height is not None:
            self.tip_height.set(height)
        if block_time is not None:
            self._tip_time = float(block_time)
        if self._tip_time is not None:
            self.lag_seconds.set(max(0.0, time.time() - self._tip_time))

    def set_node_tip(self, node_height: int | None, our_height: int | None) -> None:
        if node_height is not None:
            self.node_tip_height.set(node_height)
            self.lag_blocks.set(max(0, node_height - (our_height or 0)))

    def render(self) -> bytes:
        if self._tip_time is not None:
            self.lag_seconds.set(max(0.0, time.time() - self._tip_time))
        return generate_latest(self.registry)
