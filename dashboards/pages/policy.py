"""One policy: terms, lifecycle, the oracle prices at creation and settlement, and its transactions."""

from __future__ import annotations

import dash
from dash import Input, Output, callback, dcc, html

from dashboards import context
from dashboards.ui import (
    STATE,
    current_state,
    guarded,
    integer,
    kpi,
    notice,
    section,
    table,
    token_amount,
    usd,
)

dash.register_page(__name__, path_template="/policies/<policy_id>", name="Policy", nav=False, order=90)


def layout(policy_id: str | None = None, **_):
    # rendered here, in the server (the callback below re-renders on a new block only)
    return html.Div([dcc.Store(id="policy-id", data=policy_id),
                     html.Div(id="policy-body", children=render(policy_id, current_state()))])


def _lifecycle(p) -> list:
    steps = [("created", p["created_burn_height"], p["created_txid"]), ("expiry", p["expiry"], None)]
    if p["settled_burn_height"] is not None:
        steps.append((p["status_onchain"], p["settled_burn_height"], p["settled_txid"]))
    return [html.Li(f"{name} at burn height {integer(h)}" + (f" · {tx}" if tx else ""), **{"data-step": name})
            for name, h, tx in steps]


def _body(policy_id: int):
    db = context.db()
    rows = db.rows("policy", policy_id=policy_id)
    if not rows:
        return notice(f"There is no policy {policy_id}.", "empty")
    p = rows[0]._mapping
    tok = p["token"]
    terms = html.Div(className="kpis", children=[
        kpi("pol-status", "Status", p["status"], p["status"], "policies.status"),
        kpi("pol-strike", "Strike", usd(p["strike"]), p["strike"], "policies.strike"),
        kpi("pol-amount", "Protected", token_amount(p["amount"], "sBTC"), p["amount"], "policies.amount"),
        kpi("pol-premium", "Premium", token_amount(p["premium"], tok), p["premium"], "policies.premium",
            f"fee {token_amount(p['fee'], tok)} · fund {token_amount(p['fund_share'], tok)} · pool "
            f"{token_amount(p['pool_premium'], tok)}"),
        kpi("pol-collateral", "Collateral", token_amount(p["collateral"], tok), p["collateral"],
            "policies.collateral", f"pool {tok} {p['pool_tier']} · buyer tier {p['buyer_tier']}"),
        kpi("pol-payout", "Payout", token_amount(p["payout"], tok) if p["payout"] is not None else "–", p["payout"],
            "policies.payout", f"fund cover {token_amount(p['fund_cover'], tok)}" if p["fund_cover"] else ""),
    ])
    oracle = html.Div(className="kpis", children=[
        kpi("pol-spot-created", "BTC at creation", usd(p["spot_at_creation"]), p["spot_at_creation"],
            "policies.spot_at_creation"),
        kpi("pol-coll-created", f"{tok} at creation", usd(p["collateral_price_at_creation"]),
            p["collateral_price_at_creation"], "policies.collateral_price_at_creation"),
        kpi("pol-spot-settled", "BTC at settlement", usd(p["settlement_price"]), p["settlement_price"],
            "policies.settlement_price"),
        kpi("pol-coll-settled", f"{tok} at settlement", usd(p["settlement_collateral_price"]),
            p["settlement_collateral_price"], "policies.settlement_collateral_price"),
    ])
    return [
        html.P(f"Owner {p['owner']} · expiry {integer(p['expiry'])} · quote {p['quote_id']} · signer {p['signer']}"),
        section("Terms", terms, source="analytics.policies"),
        section("Lifecycle", html.Ol(_lifecycle(p), id="policy-lifecycle"),
                table(db.frame("policy_pool_events", policy_id=policy_id), table_id="policy-pool-events"),
                source="analytics.policies, pool_history"),
        section("Oracle snapshots", oracle, source="analytics.policies"),
        section("Transactions", table(db.frame("policy_transactions", policy_id=policy_id),
                                      table_id="policy-transactions"),
                table(db.frame("policy_fund_treasury", policy_id=policy_id), table_id="policy-fund-treasury",
                      empty="No fee or fund movements for this policy."),
                source="analytics.contract_calls, treasury_history, insurance_fund_history"),
    ]


@callback(Output("policy-body", "children"), Input("policy-id", "data"), Input(STATE, "data"),
          prevent_initial_call=True)
def render(policy_id, state):
    try:
        pid = int(policy_id)
    except (TypeError, ValueError):
        return notice(f"“{policy_id}” is not a policy id.", "error")
    return guarded(state, lambda: _body(pid))
