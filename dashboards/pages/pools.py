"""Pools & providers: per pool assets, locked, free, utilization and share price over time against the tier's
caps; providers with their positions, earnings and yield."""

from __future__ import annotations

import dash
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboards import context
from dashboards.ui import chart_or_notice, floats, integer, page_body, pct, section, table, token_amount

dash.register_page(__name__, path="/pools", name="Pools & providers", order=2, graphs=True)

AMOUNT = lambda v, r: token_amount(v, r["token"])  # noqa: E731
BP = lambda v, r: "–" if v is None else f"{float(v) / 100:.2f} %"  # noqa: E731


def _history_figure(hist, pools):
    hist = floats(hist, "assets", "locked", "share_price", "utilization")
    tokens = sorted(hist["token"].unique())
    fig = make_subplots(rows=len(tokens) + 2, cols=1, shared_xaxes=True, vertical_spacing=0.05,
                        subplot_titles=(*[f"{t}: assets and locked" for t in tokens],
                                        "utilization against the tier cap", "share price (base units per share)"))
    caps = {(r["token"], r["tier"]): r["max_utilization_bp"] for r in pools.to_dict("records")}
    util_row, price_row = len(tokens) + 1, len(tokens) + 2
    for (token, tier), g in hist.groupby(["token", "tier"], sort=True):
        name, row = f"{token} {tier}", tokens.index(token) + 1
        scale = 1e6 if token == "STX" else 1e8
        fig.add_trace(go.Scatter(x=g["burn_height"], y=g["assets"] / scale, name=f"{name} assets", mode="lines"),
                      row, 1)
        fig.add_trace(go.Scatter(x=g["burn_height"], y=g["locked"] / scale, name=f"{name} locked", mode="lines",
                                 line=dict(dash="dot")), row, 1)
        fig.add_trace(go.Scatter(x=g["burn_height"], y=g["utilization"], name=f"{name} utilization",
                                 mode="lines"), util_row, 1)
        if caps.get((token, tier)) is not None:
            cap = float(caps[(token, tier)]) / 10000
            fig.add_trace(go.Scatter(x=[g["burn_height"].min(), g["burn_height"].max()], y=[cap, cap],
                                     name=f"{name} cap", mode="lines", line=dict(dash="dash", width=1)), util_row, 1)
        fig.add_trace(go.Scatter(x=g["burn_height"], y=g["share_price"], name=f"{name} share price",
                                 mode="lines"), price_row, 1)
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
