"""Pools & providers: per pool assets, locked, free, utilization and share price over time against the tier's
caps; providers with their positions, earnings and yield."""

from __future__ import annotations

from functools import partial

import dash
import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

from dashboards import context
from dashboards.ui import chart_or_notice, floats, integer, page_body, pct, section, table, token_amount

dash.register_page(__name__, path="/pools", name="Pools & providers", order=2, graphs=True)

AMOUNT = lambda v, r: token_amount(v, r["token"])  # noqa: E731
BP = lambda v, r: "–" if v is None else f"{float(v) / 100:.2f} %"  # noqa: E731


def _pool_line(fig, pool: str, color: str, x, y, what: str, row: int, **style) -> None:
    # one legend entry and one colour per pool across the subplots (clicking the entry hides all the pool's
    # lines; a legend entry per line was 30 at six pools, and ~20 % of the graph's drawing); the hover names the
    # line
    first = not fig.data or fig.data[-1].legendgroup != pool
    hover = f"burn height %{{x}}<br>%{{y}}<extra>{pool} {what}</extra>"
    fig.add_trace(go.Scatter(x=x, y=y, name=pool, legendgroup=pool, showlegend=first, mode="lines",
                             line=dict(color=color, **style), hovertemplate=hover), row, 1)


def _history_figure(hist, pools):
    hist = floats(hist, "assets", "locked", "share_price", "utilization")
    tokens = sorted(hist["token"].unique())
    fig = make_subplots(rows=len(tokens) + 2, cols=1, shared_xaxes=True, vertical_spacing=0.05,
                        subplot_titles=(*[f"{t}: assets and locked" for t in tokens],
                                        "utilization against the tier cap", "share price (base units per share)"))
    caps = {(r["token"], r["tier"]): r["max_utilization_bp"] for r in pools.to_dict("records")}
    util_row, price_row = len(tokens) + 1, len(tokens) + 2
    for i, ((token, tier), g) in enumerate(hist.groupby(["token", "tier"], sort=True)):
        pool, row = f"{token} {tier}", tokens.index(token) + 1
        scale = 1e6 if token == "STX" else 1e8
        line = partial(_pool_line, fig, pool, qualitative.Plotly[i % len(qualitative.Plotly)])
        line(g["burn_height"], g["assets"] / scale, "assets", row)
        line(g["burn_height"], g["locked"] / scale, "locked", row, dash="dot")
        line(g["burn_height"], g["utilization"], "utilization", util_row)
        if caps.get((token, tier)) is not None:
            cap = float(caps[(token, tier)]) / 10000
            line([g["burn_height"].min(), g["burn_height"].max()], [cap, cap], "cap", util_row, dash="dash", width=1)
        line(g["burn_height"], g["share_price"], "share price", price_row)
    fig.update_yaxes(tickformat=".0%", row=util_row, col=1)
    fig.update_xaxes(title_text="burn height", row=price_row, col=1)
    return fig


def _body():
    db = context.db()
    pools = db.frame("pools")
    hist = db.frame("pool_history_bucketed")
    providers = db.frame("providers")
    (n_providers, n_positions) = db.rows("provider_count")[0]
    pool_table = pools[["token", "tier", "assets", "locked", "free", "utilization", "max_utilization_bp",
                        "share_price", "lockable", "max_policy_collateral", "providers"]] if not pools.empty else pools
    return [
        section("Pools now", table(pool_table, {
            "assets": AMOUNT, "locked": AMOUNT, "free": AMOUNT, "lockable": AMOUNT, "max_policy_collateral": AMOUNT,
            "utilization": lambda v, r: pct(v), "max_utilization_bp": BP,
            "share_price": lambda v, r: f"{float(v):.6f}"}, table_id="pools-table", empty="No pools yet."),
            source="analytics.pools"),
        section("Over time", chart_or_notice(hist, lambda h: _history_figure(h, pools), "pools-history",
                                             "No pool history yet.", 900),
                source="analytics.pool_history (last state per bucket of burn blocks), pools.max_utilization_bp"),
        section(f"Providers ({integer(n_providers)} providers, {integer(n_positions)} positions; the 200 largest)",
                table(providers, {"value": AMOUNT, "deposited": AMOUNT, "withdrawn": AMOUNT, "earned": AMOUNT,
                                  "annualized_yield": lambda v, r: pct(v)},
                      table_id="providers-table", empty="No providers yet."),
                source="analytics.providers"),
    ]


layout = page_body("pools-body", _body)
