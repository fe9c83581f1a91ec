"""Overview: the headline numbers, each with its time series and what drives it."""

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
    notice,
    page_body,
    pct,
    section,
    table,
    token_amount,
    usd,
)

dash.register_page(__name__, path="/", name="Overview", order=0, graphs=True)


def _headlines(daily):
    db = context.db()
    t = dict(db.rows("overview_totals")[0]._mapping)
    last = daily.iloc[-1] if not daily.empty else None
    t["tvl_usd_e8"] = None if last is None else last["tvl_usd_e8"]
    t["premium_written_usd_e8"] = 0 if last is None else last["premium_written_total"]
    t["payouts_usd_e8"] = 0 if last is None else last["payouts_total"]
    tokens = db.frame("overview_tokens")
    loss = (t["payouts_usd_e8"] / t["premium_written_usd_e8"]) if t["premium_written_usd_e8"] else None
    cards = [
        kpi("kpi-tvl", "TVL", usd(t["tvl_usd_e8"]), t["tvl_usd_e8"], "platform_daily.tvl_usd_e8 (latest day)",
            "deposits − withdrawals + premiums − payouts, at the day's collateral price"),
        kpi("kpi-notional", "Active protection", f"{integer(t['active_policies'])} policies · "
            f"{token_amount(t['active_notional_sats'], 'sBTC')}", t["active_notional_sats"],
            "Σ exposure_grid.notional_sats (the open policies)", f"≈ {usd(t['active_notional_usd_e8'])} at the "
            "latest BTC price (exposure_grid.notional_usd_e8)"),
        kpi("kpi-premium", "Premium written", usd(t["premium_written_usd_e8"]), t["premium_written_usd_e8"],
            "Σ platform_daily.premium_written_usd_e8", "at the creation collateral price"),
        kpi("kpi-payouts", "Payouts", usd(t["payouts_usd_e8"]), t["payouts_usd_e8"],
            "Σ platform_daily.payouts_usd_e8", "settled in the money, at the settlement collateral price"),
        kpi("kpi-loss", "Loss ratio", pct(loss), loss, "payouts / premium written", "all days"),
    ]
    for r in tokens.to_dict("records"):
        tok = r["token"]
        cards += [
            kpi(f"kpi-assets-{tok}", f"Pool assets {tok}", token_amount(r["assets"], tok), r["assets"],
                "Σ pools.assets", f"deposits {token_amount(r['deposits'], tok)} − withdrawals "
                f"{token_amount(r['withdrawals'], tok)} + premiums {token_amount(r['premiums_earned'], tok)} − "
                f"payouts {token_amount(r['payouts'], tok)}"),
            kpi(f"kpi-util-{tok}", f"Utilization {tok}", pct(r["utilization"]), r["utilization"],
                "Σ pools.locked / Σ pools.assets", f"locked {token_amount(r['locked'], tok)}"),
            kpi(f"kpi-earned-{tok}", f"Premium earned {tok}", token_amount(r["premiums_earned"], tok),
                r["premiums_earned"], "Σ pools.cum_premiums",
                f"received {token_amount(r['premiums_received'], tok)} (earned at settlement)"),
        ]
    return html.Div(cards, className="kpis")


def _balances():
    bal = db_frame("overview_balances")
    pauses = db_frame("pauses_in_force")
    cells = [kpi(f"kpi-{r['account'].replace(' ', '-')}-{r['token']}", f"{r['account'].capitalize()} {r['token']}",
                 token_amount(r["balance"], r["token"]), r["balance"],
                 "treasury.balance" if r["account"] == "treasury" else "insurance_fund.balance")
             for r in bal.to_dict("records")]
    paused = (notice("No action is paused.", "ok") if pauses.empty else
              notice("Paused now: " + ", ".join(f"{r['action']} (by {r['set_by']} at {r['set_burn_height']})"
                                                for r in pauses.to_dict("records")), "warn"))
    return [html.Div(cells or [notice("No treasury or fund activity yet.", "empty")], className="kpis"),
            html.Div(paused, id="pauses")]


def db_frame(name):
    return context.db().frame(name)


def _whole_days(fig, df):
    """Ticks on whole days: with a few days of data plotly ticks hours or milliseconds between them."""
    return fig.update_xaxes(tickformat="%b %d, %Y", **({"dtick": 86400000} if len(df) <= 14 else {}))


def _daily_figure(df):
    df = floats(df, "tvl_usd_e8", "premium_written_usd_e8", "payouts_usd_e8", "loss_ratio")
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08,
                        subplot_titles=("TVL (USD)", "Premium written and payouts per day (USD)"))
    fig.add_trace(go.Scatter(x=df["day"], y=df["tvl_usd_e8"] / 1e8, name="TVL", mode="lines+markers"), 1, 1)
    fig.add_trace(go.Bar(x=df["day"], y=df["premium_written_usd_e8"] / 1e8, name="premium written"), 2, 1)
    fig.add_trace(go.Bar(x=df["day"], y=df["payouts_usd_e8"] / 1e8, name="payouts"), 2, 1)
    return _whole_days(fig, df)


def _policies_figure(df):
    fig = go.Figure()
    fig.add_trace(go.Bar(x=df["day"], y=df["new_policies"], name="new policies"))
    fig.add_trace(go.Bar(x=df["day"], y=df["settled_itm"], name="settled ITM"))
    fig.add_trace(go.Bar(x=df["day"], y=df["settled_otm"], name="settled OTM"))
    fig.add_trace(go.Scatter(x=df["day"], y=df["open_policies_end"], name="open at day end", mode="lines"))
    fig.update_layout(title="Policies per day", barmode="group")
    return _whole_days(fig, df)


def _body():
    daily = db_frame("overview_daily")
    return [
        section("Headline", _headlines(daily), source="analytics.platform_daily, pools, policies, exposure_grid"),
        section("Treasury, insurance fund, pauses", *_balances(),
                source="analytics.treasury, insurance_fund, pauses"),
        section("Over time", chart_or_notice(daily, _daily_figure, "overview-daily", "No days of activity yet.", 480),
                chart_or_notice(daily, _policies_figure, "overview-policies", "No policies yet."),
                source="analytics.platform_daily"),
        section("Policies by status", table(db_frame("policy_statuses"), table_id="status-table",
                                            empty="No policies yet."), source="analytics.policies.status"),
    ]


layout = page_body("overview-body", _body)
