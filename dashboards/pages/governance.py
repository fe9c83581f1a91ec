"""Governance: proposals with state, votes and quorum/threshold progress; the parameter and tier history."""

from __future__ import annotations

import dash
import plotly.express as px

from dashboards import context
from dashboards.ui import chart_or_notice, integer, page_body, pct, section, share_of, table

dash.register_page(__name__, path="/governance", name="Governance", order=5, graphs=True)

PROGRESS = lambda v, r: "–" if v is None else f"{pct(v)} of the bar"  # noqa: E731


# votes as a share of the power at the proposal's snapshot (the raw pool shares are 13-digit numbers)
FORMATS = {"quorum_progress": PROGRESS, "threshold_progress": PROGRESS, "yes_power": share_of("total_power", "power"),
           "no_power": share_of("total_power", "power"), "total_power": lambda v, r: integer(v)}


def _timeline(df):
    # svg whatever the count: the cartesian plotly.js the browser gets has no WebGL traces (px picks them at 1,000)
    fig = px.scatter(df, x="burn_height", y="item", color="what", hover_data=["value", "old_value", "sender"],
                     render_mode="svg")
    fig.update_traces(marker=dict(size=9))
    fig.update_layout(title="Parameter and tier changes", yaxis_title="")
    # burn heights are whole: over a short span plotly ticks halves (1.5, 2.5)
    span = df["burn_height"].max() - df["burn_height"].min()
    return fig.update_xaxes(tickformat="d", **({"dtick": 1} if span < 10 else {}))


def _body():
    db = context.db()
    proposals = db.frame("proposals")
    timeline = db.frame("governance_timeline")
    return [
        section("Proposals", table(proposals, FORMATS, table_id="proposals-table", empty="No proposals yet."),
                source="analytics.proposals (progress: votes against the quorum and threshold bars)"),
        section("Parameter and tier history",
                chart_or_notice(timeline, _timeline, "governance-timeline",
                                "No parameter or tier has changed since deploy.", 420),
                table(timeline.head(50), table_id="governance-changes", empty=""),
                source="analytics.parameter_history, tier_history"),
    ]


layout = page_body("governance-body", _body)
