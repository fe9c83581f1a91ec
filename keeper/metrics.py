"""Prometheus metrics of one keeper process (own registry, so tests can run several)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        self.source_up = Gauge("keeper_source_up", "1 when the source's quote was used in the last round",
                               ["source", "asset"], registry=r)
        self.source_latency = Gauge("keeper_source_latency_seconds", "Latency of the source's last answer",
                                    ["source", "asset"], registry=r)
        self.source_deviation = Gauge("keeper_source_deviation_bp", "Source price minus the round's median (bp)",
                                      ["source", "asset"], registry=r)
        self.source_excluded = Counter("keeper_source_excluded", "Quotes excluded from a round, by reason",
                                       ["source", "asset", "reason"], registry=r)
        self.oracle_age = Gauge("keeper_oracle_age_blocks", "Burn blocks since the on-chain price", ["asset"],
                                registry=r)
        self.oracle_heartbeat = Gauge("keeper_oracle_heartbeat_blocks", "The publishing heartbeat", registry=r)
        self.publishes = Gauge("keeper_oracle_publishes", "submit-price transactions sent since start", ["asset"],
                               registry=r)
        self.pending = Gauge("keeper_pending_transactions", "Unconfirmed transactions", ["signer"], registry=r)
        self.pending_age = Gauge("keeper_pending_oldest_blocks", "Stacks blocks the oldest pending tx has waited",
                                 ["signer"], registry=r)
        self.bumps = Gauge("keeper_fee_bumps", "Fee bumps since start", ["signer"], registry=r)
        self.nonce_gap = Gauge("keeper_nonce_gap", "Ledger next nonce minus the node's possible next nonce",
                               ["signer"], registry=r)
        self.balance = Gauge("keeper_signer_balance_ustx", "Signer STX balance", ["signer"], registry=r)
        self.paused = Gauge("keeper_signer_paused", "1 while the signer is paused (not enough funds)", ["signer"],
                            registry=r)
        self.due_unsettled = Gauge("keeper_due_unsettled_policies", "Policies past expiry and not settled",
                                   registry=r)
        self.settle_lag = Gauge("keeper_settlement_lag_blocks", "Burn blocks since the oldest unsettled due expiry",
                                registry=r)
        self.settled = Gauge("keeper_policies_settled", "Policies settled by this keeper since start", registry=r)
        self.open_alerts = Gauge("keeper_open_alerts", "Open alerts", registry=r)
        self.step_seconds = Histogram("keeper_step_seconds", "Duration of one block step",
                                      buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30), registry=r)
        self.decision_seconds = Gauge("keeper_decision_seconds", "Publishing: time deciding in the last step",
                                      registry=r)
        self.node_seconds = Gauge("keeper_node_call_seconds", "Publishing: time in node calls in the last step",
                                  registry=r)
        self.step_errors = Counter("keeper_step_errors", "Steps that failed", registry=r)
