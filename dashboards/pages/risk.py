"""Risk: stressed payouts and capital adequacy per pool under a BTC and an STX shock (analytics.stress_payout),
the pool_risk measures, the strike × expiry exposure heatmap, concentration and the expiries due soon; the
downloadable risk report."""

from __future__ import annotations

from functools import partial

import dash
from dash import Input, Output, Patch, callback, dcc, html

from dashboards import context, risk_data
from dashboards.ui import (
    AHEAD,
    GRAPH_CONFIG,
    STATE,
    chart_or_notice,
    current_state,
    guarded,
    integer,
    pct,
    section,
    styled,
    table,
    token_amount,
    usd,
)

dash.register_page(__name__, path="/risk", name="Risk", order=4, graphs=True)

AMOUNT = lambda v, r: token_amount(v, r["token"])  # noqa: E731
RATIO = lambda v, r: "– (nothing to pay)" if v is None else f"{float(v):,.2f}×"  # noqa: E731


#: the shocks (percent) the page opens with
DEFAULT_SHOCK = -30
#: the stress section's parts hidden and shown (a graph with nothing to draw is hidden: never an empty set of
#: axes); a dict either way, since dcc.Graph reads its style's height
HIDDEN, SHOWN = {"display": "none"}, {}
NO_BARS: dict[str, list] = {"x": [], "y": [], "text": []}


def _shock_input(id_, label, value):
    return html.Label([label, dcc.Input(id=id_, type="number", value=value, min=-99, max=500, step=1,
                                        debounce=True, className="input"), " %"], className="shock")


def layout(**_):
    # rendered here, in the server, so the page arrives with its data (the callbacks below do not fire on load)
    state = current_state()
    title, body, bars, source, section_style, (html_href, pdf_href) = stress(DEFAULT_SHOCK, DEFAULT_SHOCK, state)
    return html.Div([
        html.Div(className="filters", children=[
            _shock_input("risk-btc", "BTC shock ", DEFAULT_SHOCK), _shock_input("risk-stx", "STX shock ", DEFAULT_SHOCK),
            html.A("Risk report (HTML)", id="risk-report", href=html_href, className="button"),
            html.A("Risk report (PDF)", id="risk-report-pdf", href=pdf_href, className="button"),
        ]),
        # the section and its graph stay, a new shock changes their parts: the graph's bars are patched and redrawn
        # in place (Plotly.react), where a new graph cost most of the control's time in the browser
        html.Div(id="risk-stress", children=html.Section(id="stress-section", className="section", style=section_style,
                                                         children=[
            html.H3(title, id="stress-title"),
            html.Div(body, id="stress-body"),
            dcc.Graph(id="stress-chart", figure=styled(risk_data.bars_figure(bars or NO_BARS)),
                      style=SHOWN if bars else HIDDEN, config=GRAPH_CONFIG),
            html.Div(source, id="stress-source", className="source"),
        ])),
        html.Div(id="risk-body", children=render(state)),
    ])


def stress(btc, stx, state):
    """The stress section's parts for the controls' values: title, body (the table, or a notice saying why there
    is none), the graph's bars (None: hide it), source line, the section's style, the report links."""
    b, s = risk_data.shock(btc), risk_data.shock(stx)
    q = f"?btc={b * 100}&stx={s * 100}"
    hrefs = ("/report/risk.html" + q, "/report/risk.pdf" + q)
    title, source = f"Stress: BTC {pct(b)}, STX {pct(s)}", f"from analytics.stress_payout({b}, {s})"
    if (state or {}).get("status") != "ok":
        # the body below says why the analytics cannot be shown, once (not twice)
        return title, None, None, source, HIDDEN, hrefs

    def build():
        df = context.db().frame("stress", btc_shock=b, stx_shock=s)
        return stress_table(df), None if df.empty else risk_data.stress_bars(df)

    built = guarded(state, build, ("risk-stress", b, s))
    body, bars = built if isinstance(built, tuple) else (built, None)  # else a notice: the read failed
    return title, body, bars, source, SHOWN, hrefs


def stress_table(df):
    return table(df, {"payout": AMOUNT, "assets": AMOUNT, "free_after_payout": AMOUNT, "adequacy": RATIO},
                 table_id="stress-table", empty="No pools yet.")


def measure_text(measure: str, v, token: str) -> str:
    """How one ``analytics.pool_risk`` measure reads (its cell keeps the exact value): pool amounts in the pool's
    token, USD×1e8 as dollars, adequacy and coverage as ratios, the BTC delta in sBTC, the volatility as a
    percentage; a measure not named here (the view may gain columns) as a number."""
    if v is None:
        return RATIO(v, None) if measure.startswith("adequacy") else "–"
    if measure.endswith("_usd_e8_per_day"):
        return f"{usd(v)} / day"
    if measure.endswith("_usd_e8"):
        return usd(v)
    if measure.startswith(("adequacy", "coverage")):
        return RATIO(v, None)
    if measure.startswith("payout") or measure in ("assets", "locked"):
        return token_amount(v, token)
    if measure == "delta_sats":
        return token_amount(v, "sBTC")
    if measure == "open_policies":
        return integer(v)
    if measure == "btc_vol":
        return pct(v)
    return f"{float(v):,.6g}"


def _measure_cell(token: str, v, row) -> str:
    return measure_text(row["measure"], v, token)


def measures_table(long):
    # a pool's column is named "<token> <tier>" (RiskData.pool_risk_long)
    formats = {pool: partial(_measure_cell, pool.split()[0]) for pool in long.columns if pool != "measure"}
    return table(long, formats, table_id="pool-risk-table", empty="No pools yet.")


def concentration_sections(conc):
    out = []
    for (kind, token), g in conc.groupby(["kind", "token"], sort=True):
        hhi = g["hhi"].iloc[0]
        fmt = (lambda v, r: token_amount(v, "sBTC")) if kind == "owner" else AMOUNT
        out.append(html.Div(className="half", children=[
            html.H4(f"{kind}s · {token} · HHI {float(hhi):.3f}"),
            table(g[["rank", "who", "size", "share"]].assign(token=token)[["rank", "who", "size", "share", "token"]],
                  {"size": fmt, "share": lambda v, r: pct(v)}, table_id=f"conc-{kind}-{token}")]))
    return out


def _body():
    d = risk_data.load(context.db())
    return [
        section("Measures per pool", measures_table(d.pool_risk_long),
                source="analytics.pool_risk (every column; Greeks by Black–Scholes on the 1,008-block realized "
                       "volatility, VaR by historical simulation over oracle returns)"),
        section("Exposure", chart_or_notice(d.grid, risk_data.heatmap_figure, "risk-heatmap", "No open policies.", 380),
                source="analytics.exposure_grid"),
        section("Concentration (top 10)", html.Div(concentration_sections(d.concentration) or
                                                   "No open positions.", className="halves"),
                source="analytics.concentration"),
        section("Expiries due soon", table(d.expiries, {"collateral_locked": lambda v, r: f"{v:,}"},
                                           table_id="expiries-table", empty="No unsettled expiries."),
                source="analytics.expiries, freshness.raw_burn_height"),
    ]


@callback(Output("stress-title", "children"), Output("stress-body", "children"), Output("stress-chart", "figure"),
          Output("stress-chart", "style"), Output("stress-source", "children"), Output("stress-section", "style"),
          Output("risk-report", "href"), Output("risk-report-pdf", "href"),
          Input("risk-btc", "value"), Input("risk-stx", "value"), Input(STATE, "data"), prevent_initial_call=True)
def render_stress(btc, stx, state):
    title, body, bars, source, section_style, hrefs = stress(btc, stx, state)
    figure = Patch()  # the bars only: the figure's layout and template stay in the browser
    for key, values in (bars or NO_BARS).items():
        figure["data"][0][key] = values
    return title, body, figure, SHOWN if bars else HIDDEN, source, section_style, *hrefs


@callback(Output("risk-body", "children"), Input(STATE, "data"), prevent_initial_call=True)
def render(state):
    return guarded(state, _body, ("risk-body",))


AHEAD.extend([render, lambda state: stress(DEFAULT_SHOCK, DEFAULT_SHOCK, state)])
