"""Policies: every policy, paged, sorted and filtered in the database; CSV export of the filtered set."""

from __future__ import annotations

from urllib.parse import urlencode

import dash
from dash import Input, Output, State, callback, ctx, dcc, html

from dashboards import context
from dashboards.policy_query import COLUMNS, CSV_ROW_CAP, PAGE_SIZE, STATUSES, TOKENS, PolicyFilter
from dashboards.state import version
from dashboards.ui import STATE, current_state, guarded, integer, notice, table, token_amount, usd

dash.register_page(__name__, path="/policies", name="Policies", order=1)

FILTERS = ("pol-status", "pol-owner", "pol-token", "pol-tier", "pol-expiry-min", "pol-expiry-max",
           "pol-strike-min", "pol-strike-max", "pol-sort", "pol-dir")


#: the filters' values when the page opens (the layout renders its first page with them)
DEFAULTS = {"pol-status": [], "pol-owner": None, "pol-token": "", "pol-tier": None, "pol-expiry-min": None,
            "pol-expiry-max": None, "pol-strike-min": None, "pol-strike-max": None, "pol-sort": "policy_id",
            "pol-dir": "desc"}


def _input(id_, placeholder, type_="number"):
    return dcc.Input(id=id_, type=type_, placeholder=placeholder, debounce=True, className="input")


def layout(**_):
    # the first page is rendered here, in the server, so it arrives with the page (the callback below does
    # not fire on load)
    rows, shown, href, stored = _outputs([DEFAULTS[f] for f in FILTERS], current_state(), {}, ())
    return html.Div([
        html.Div(className="filters", children=[
            dcc.Checklist(id="pol-status", options=list(STATUSES), value=DEFAULTS["pol-status"], inline=True),
            _input("pol-owner", "owner principal", "text"),
            dcc.RadioItems(id="pol-token", options=[{"label": "any token", "value": ""}, *TOKENS],
                           value=DEFAULTS["pol-token"], inline=True),
            _input("pol-tier", "tier (buyer or pool)", "text"),
            _input("pol-expiry-min", "expiry ≥ (burn height)"), _input("pol-expiry-max", "expiry ≤"),
            _input("pol-strike-min", "strike ≥ (USD)"), _input("pol-strike-max", "strike ≤ (USD)"),
            dcc.Dropdown(id="pol-sort", options=list(COLUMNS), value=DEFAULTS["pol-sort"], clearable=False),
            dcc.RadioItems(id="pol-dir", options=[{"label": "descending", "value": "desc"},
                                                  {"label": "ascending", "value": "asc"}],
                           value=DEFAULTS["pol-dir"], inline=True),
        ]),
        html.Div(className="pager", children=[
            html.Button("‹ previous", id="pol-prev"), html.Span(shown, id="pol-range"),
            html.Button("next ›", id="pol-next"),
            html.A("Download CSV", id="pol-csv", href=href, className="button"),
            html.Span(f"(the filtered set, sorted as shown, at most {CSV_ROW_CAP:,} rows)", className="note"),
        ]),
        dcc.Store(id="pol-page", data=stored),  # {"page": n, "filter": the query string it belongs to}
        html.Div(id="pol-table", children=rows),
    ])


def _filter(values) -> PolicyFilter:
    status, owner, token, tier, emin, emax, smin, smax, sort, direction = values

    def usd_e8(v):
        return None if v in (None, "") else int(round(float(v) * 1e8))

    return PolicyFilter.from_mapping({
        "status": status or [], "owner": owner, "token": token, "tier": tier, "expiry_min": emin,
        "expiry_max": emax, "strike_min": usd_e8(smin), "strike_max": usd_e8(smax), "sort": sort, "dir": direction})


FORMATS = {
    "strike": lambda v, r: usd(v), "amount": lambda v, r: token_amount(v, "sBTC"),
    "premium": lambda v, r: token_amount(v, r["token"]), "collateral": lambda v, r: token_amount(v, r["token"]),
    "payout": lambda v, r: token_amount(v, r["token"]) if v is not None else "–",
}


#: the filtered count by (database, marts height, filter): a page turn or a re-sort needs no new count, and the
#: count is the costlier half of a page on a long history
_counts: dict[tuple, int] = {}


def _count(db, flt: PolicyFilter, at: tuple) -> int:
    sql, params = flt.count_sql()
    key = (db.url, at, sql, repr(sorted(params.items())))
    if (total := _counts.get(key)) is None:
        (total,) = db.rows(sql, **params)[0]
        if len(_counts) > 256:
            _counts.clear()
        _counts[key] = total
    return total


# One callback for paging, filtering and the refresh: a page turn used to be a chain of two (the page store,
# then the table), two round trips and two renders for one click.
@callback(Output("pol-table", "children"), Output("pol-range", "children"), Output("pol-csv", "href"),
          Output("pol-page", "data"), Input("pol-prev", "n_clicks"), Input("pol-next", "n_clicks"),
          *[Input(f, "value") for f in FILTERS], Input(STATE, "data"), State("pol-page", "data"),
          prevent_initial_call=True)
def render(_prev, _next, *rest):
    *values, state, stored = rest
    return _outputs(values, state, stored, ctx.triggered_prop_ids)


def _outputs(values, state, stored, triggered):
    """The table, the range line, the export link and the page store for these filters and this click."""
    flt = _filter(values)
    key = urlencode(flt.as_query())
    href = "/export/policies.csv?" + key
    stored = stored if isinstance(stored, dict) else {}
    page = stored.get("page", 0)
    # Compare the filter with the one the page number belongs to rather than trusting the trigger: clicking
    # "next" blurs a text filter, which reports its (unchanged) value in the same request as the click.
    if stored and stored.get("filter") != key:
        page = 0  # a new filter or sort starts at the first page
    elif "pol-next.n_clicks" in triggered:
        page += 1
    elif "pol-prev.n_clicks" in triggered:
        page = max(page - 1, 0)

    def build():
        db = context.db()
        total = _count(db, flt, version(state))
        if total == 0:
            return notice("No policy matches these filters." if flt.where()[0] else "No policies yet.", "empty"), \
                "0 policies"
        nonlocal page
        page = min(page, (total - 1) // PAGE_SIZE)
        sql, params = flt.page_sql(page)
        df = db.frame(sql, **params)
        shown = f"{page * PAGE_SIZE + 1:,}–{page * PAGE_SIZE + len(df):,} of {integer(total)} policies"
        return table(df, FORMATS, table_id="policies-table",
                     links={"policy_id": lambda r: f"/policies/{r['policy_id']}"}), shown

    out = guarded(state, build)
    stored = {"page": page, "filter": key}
    if isinstance(out, tuple):
        return out[0], out[1], href, stored
    return out, "", href, stored
