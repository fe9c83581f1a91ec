"""Oracle: price history per asset with each submission, volatility, price age against the heartbeat, and the
keeper's sources against the published median when its view is there."""

from __future__ import annotations

import dash
import plotly.graph_objects as go
from dash import html
from plotly.subplots import make_subplots

from dashboards import context
from dashboards.ui import (
    chart_or_notice,
    floats,
    integer,
    kpi,
    optional_view,
    page_body,
    pct,
    section,
    usd,
)

dash.register_page(__name__, path="/oracle", name="Oracle", order=3, graphs=True)


def _cards(stats):
    cards = []
    for r in stats.to_dict("records"):
        a = r["asset"]
        hb = r["heartbeat_blocks"]
        stale = hb is not None and r["age_blocks"] is not None and r["age_blocks"] > hb
        cards += [
            kpi(f"kpi-price-{a}", f"{a} price", usd(r["latest_price"]), r["latest_price"],
                "oracle_stats.latest_price", f"at burn height {integer(r['latest_burn_height'])}"),
            kpi(f"kpi-age-{a}", f"{a} price age", f"{integer(r['age_blocks'])} blocks" + (" · STALE" if stale else ""),
                r["age_blocks"], "oracle_stats.age_blocks", f"heartbeat {integer(hb)} blocks "
                "(parameters oracle.stale-after-blocks)"),
            kpi(f"kpi-vol-{a}", f"{a} volatility", f"{pct(r['realized_vol_144'])} / {pct(r['realized_vol_1008'])}",
                r["realized_vol_144"], "oracle_stats.realized_vol_144 / _1008", "annualized, 144 / 1,008 blocks"),
        ]
    return html.Div(cards, className="kpis")


def _figure(hist, stats):
    hist = floats(hist, "price", "low", "high", "max_gap_blocks")
    hb = {r["asset"]: r["heartbeat_blocks"] for r in stats.to_dict("records")}
    assets = sorted(hist["asset"].unique())
    gap_row = len(assets) + 1
    fig = make_subplots(rows=gap_row, cols=1, shared_xaxes=True, vertical_spacing=0.07,
                        subplot_titles=(*[f"{a} price (USD): each submission, or low–high per bucket" for a in assets],
                                        "blocks since the previous price, against the heartbeat"))
    # lines and a filled low–high band: a handful of SVG paths, where a marker and an error bar per point (~600
    # per asset) were most of the page's drawing time in the browser
    for asset, g in hist.groupby("asset", sort=True):
        row = assets.index(asset) + 1
        fig.add_trace(go.Scatter(x=g["burn_height"], y=g["high"] / 1e8, name=f"{asset} high", mode="lines",
                                 line=dict(width=0), showlegend=False, hoverinfo="skip"), row, 1)
        fig.add_trace(go.Scatter(x=g["burn_height"], y=g["low"] / 1e8, name=f"{asset} low–high", mode="lines",
                                 line=dict(width=0), fill="tonexty", fillcolor="rgba(99, 110, 250, 0.25)"), row, 1)
        fig.add_trace(go.Scatter(x=g["burn_height"], y=g["price"] / 1e8, name=f"{asset}", mode="lines"), row, 1)
        fig.add_trace(go.Scatter(x=g["burn_height"], y=g["max_gap_blocks"], name=f"{asset} gap", mode="lines",
                                 line=dict(shape="hv", width=1)), gap_row, 1)
    heartbeat = next((v for v in hb.values() if v is not None), None)  # one parameter for every asset
    if heartbeat is not None:
        fig.add_hline(y=float(heartbeat), line_dash="dash", row=gap_row, col=1,
                      annotation_text=f"heartbeat {int(heartbeat)}")
    fig.update_xaxes(title_text="burn height", row=gap_row, col=1)
    return fig


def _body():
    db = context.db()
    stats = db.frame("oracle_stats")
    hist = db.frame("oracle_history")
    return [
        section("Latest prices", _cards(stats), source="analytics.oracle_stats, parameters"),
        section("History", chart_or_notice(hist, lambda h: _figure(h, stats), "oracle-history",
                                           "No oracle prices yet.", 720), source="analytics.oracle_prices"),
        section("Sources against the published median",
                optional_view("analytics.oracle_sources", table_id="oracle-sources",
                              absent="No keeper data yet: analytics.oracle_sources appears when the keeper's "
                                     "views are built."),
                source="analytics.oracle_sources (keeper)"),
    ]


layout = page_body("oracle-body", _body)
