"""Operations: indexer lag, reorgs and dead letters; transforms freshness and failures; reconcile mismatches;
the keeper's transactions and alerts when its views are there."""

from __future__ import annotations

import dash
from dash import Input, Output, callback, html

from dashboards import context
from dashboards.db import Unavailable
from dashboards.ui import STATE, guarded, integer, kpi, optional_view, page_body, section, table

dash.register_page(__name__, path="/operations", name="Operations", order=6)

KEEPER_ABSENT = "No keeper data yet: {} appears when the keeper's views are built."


def _status_cards(ix, tf):
    cards = []
    if ix:
        cards += [
            kpi("kpi-indexer-height", "Indexer tip", integer(ix["stacks_height"]), ix["stacks_height"],
                "indexer_status.stacks_height", f"burn height {integer(ix['burn_height'])}"),
            kpi("kpi-indexer-write", "Since last write", f"{float(ix['seconds_since_write'] or 0):,.0f} s",
                ix["seconds_since_write"], "indexer_status.seconds_since_write"),
            kpi("kpi-reorgs", "Reorgs", integer(ix["reorgs"]), ix["reorgs"], "indexer_status.reorgs",
                f"deepest {integer(ix['max_reorg_depth'])} blocks"),
            kpi("kpi-dead-letters", "Dead letters", integer(ix["dead_letters"]), ix["dead_letters"],
                "indexer_status.dead_letters", ix["dead_letters_by_reason"] or ""),
        ]
    if tf:
        cards += [
            kpi("kpi-lag", "Transforms lag", f"{integer(tf['lag_blocks'])} blocks · "
                f"{float(tf['lag_seconds'] or 0):,.0f} s", tf["lag_blocks"], "freshness.lag_blocks, lag_seconds"),
            kpi("kpi-last-run", "Last run", f"{tf['last_run_command']}: {tf['last_run_outcome']}"
                if tf["last_run_outcome"] else "none recorded", tf["last_run_outcome"], "freshness.last_run_*",
                (tf["last_run_error"] or "")[:300] or (f"{float(tf['last_run_duration_s']):.2f} s"
                                                       if tf["last_run_duration_s"] is not None else "")),
            # its own callback: the count decodes every print (seconds on a long chain); the page does not wait
            html.Div(id="quarantine-card", children="…"),
        ]
    return html.Div(cards, className="kpis")


@callback(Output("quarantine-card", "children"), Input(STATE, "data"))
def _quarantine(state):
    return guarded(state, _quarantine_card)


def _quarantine_card():
    try:
        (n,) = context.db().rows("quarantined")[0]
    except Unavailable as u:
        return kpi("kpi-quarantine", "Quarantined prints", "–", None, "freshness.quarantined_events", str(u))
    return kpi("kpi-quarantine", "Quarantined prints", integer(n), n, "freshness.quarantined_events")


def _body():
    db = context.db()
    ix = db.rows("indexer_status")
    tf = db.rows("transforms_status")
    return [
        section("Indexer and transforms", _status_cards(ix[0]._mapping if ix else None,
                                                         tf[0]._mapping if tf else None),
                source="analytics.indexer_status, freshness"),
        section("Reconciler runs", table(db.frame("reconcile_runs"), table_id="reconcile-table",
                                         empty="The reconciler has not run yet."),
                source="analytics.reconcile_runs"),
        section("Keeper transactions", optional_view(
            "analytics.keeper_transactions", table_id="keeper-transactions",
            absent=KEEPER_ABSENT.format("analytics.keeper_transactions")), source="analytics.keeper_transactions"),
        section("Alerts", optional_view("analytics.alerts", table_id="keeper-alerts",
                                        absent=KEEPER_ABSENT.format("analytics.alerts")), source="analytics.alerts"),
    ]


layout = page_body("operations-body", _body)
