"""Shared page pieces: unit formatting, headline numbers, tables, charts and the notices shown instead of a
traceback or a blank chart."""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable
from decimal import Decimal
from html import escape

import pandas as pd
import plotly.graph_objects as go
from dash import Input, Output, callback, dcc, html
from dash.development.base_component import Component

from bithedge.protocol.units import token_scale
from dashboards.db import Unavailable

log = logging.getLogger("bithedge.dashboards")
#: the app-wide store every page's callbacks take as input: ``{"status", "message", "height", "burn"}``
STATE = "analytics-state"
DECIMALS = {"STX": 6, "sBTC": 8}


def _num(v) -> float | None:
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
        return None
    return float(v)


def token_amount(v, token: str) -> str:
    """Base units (µSTX, sats) as the token: ``1,234.500000 STX``."""
    x = _num(v)
    if x is None:
        return "–"
    return f"{Decimal(v) / token_scale(token):,.{DECIMALS.get(token, 0)}f} {token}"


def usd(v_e8) -> str:
    """USD×1e8 as dollars: ``$1,234.50``, ``-$0.25`` (a value that rounds to zero is ``$0.00``, not ``$-0.00``)."""
    x = _num(v_e8)
    if x is None:
        return "–"
    dollars = round(x / 1e8, 2)
    return f"{'-' if dollars < 0 else ''}${abs(dollars):,.2f}"


def pct(fraction) -> str:
    x = _num(fraction)
    return "–" if x is None else f"{x * 100:.2f} %"


def integer(v) -> str:
    x = _num(v)
    return "–" if x is None else f"{int(x):,}"


def share_of(total_col: str, whole: str) -> Callable:
    """A table format: the value as a share of its row's ``total_col`` ("25.00 % of <whole>"), or the value
    itself where the row has no total."""
    def shown(v, row) -> str:
        total = _num(row.get(total_col))
        return integer(v) if v is None or not total else f"{pct(_num(v) / total)} of {whole}"
    return shown


def raw(v) -> str:
    """The exact value behind a figure (``data-value``: tests compare it with their own SQL)."""
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return ""
    return str(v)


def kpi(kpi_id: str, label: str, shown: str, value, source: str, drivers: str = "") -> html.Div:
    return html.Div(className="kpi", id=kpi_id, **{"data-value": raw(value)}, children=[
        html.Div(label, className="kpi-label"),
        html.Div(shown, className="kpi-value"),
        html.Div(drivers, className="kpi-drivers") if drivers else None,
        html.Div(source, className="kpi-source"),
    ])


def notice(message: str, kind: str = "info") -> html.Div:
    return html.Div(message, className=f"notice notice-{kind}", role="status")


def section(title: str, *children, source: str = "") -> html.Section:
    return html.Section(className="section", children=[
        html.H3(title), *children, html.Div(f"from {source}", className="source") if source else None])


#: built page sections by (database, (marts height, build), key): the views change only with a build of the marts,
#: so a page opened again (or by another analyst) meanwhile is served without a query; one version at a time
_built: dict[tuple, object] = {}
#: the builds under way, by the same key: a second request for a section waits for the first one's answer
_building: dict[tuple, threading.Event] = {}
_lock = threading.Lock()
#: what ``build_ahead`` builds for a new build of the marts: each takes the state and builds (so caches) sections
AHEAD: list[Callable[[dict], object]] = []
#: the (database, version) ``build_ahead`` last started for
_ahead_for: list[tuple] = []


def guarded(state: dict | None, build: Callable[[], object], cache_key: tuple | None = None):
    """``build()`` when the analytics are readable, else the app-wide notice; a failing read becomes a notice.
    With ``cache_key``, a successful build is kept for the marts as the state names them (``state.version``;
    failures are never kept), and a build of the same key already under way (another analyst, or
    ``build_ahead``) is waited for, not repeated."""
    if not state:
        return notice("Loading…")
    if state.get("status") != "ok":
        return notice(state.get("message", "The analytics are not available."), state.get("status", "error"))
    if cache_key is None:
        return _build(build)[0]
    from dashboards import context
    from dashboards.state import version

    key = (context.db().url, version(state), *cache_key)
    with _lock:
        if key in _built:
            return _built[key]
        running = _building.get(key)
        if running is None:
            _building[key] = threading.Event()
    if running is not None:
        running.wait(timeout=30)
        with _lock:
            if key in _built:
                return _built[key]
        return _build(build)[0]  # that build failed (or is stuck): this request tries on its own
    try:
        out, ok = _build(build)
        if ok:
            with _lock:
                # one version at a time, the newest: a slow build for an older one keeps nothing
                if not any(k[0] == key[0] and _newer(k[1], key[1]) for k in _built):
                    if any(k[:2] != key[:2] for k in _built):
                        _built.clear()
                    _built[key] = out
        return out
    finally:
        with _lock:
            _building.pop(key).set()


def _newer(a: tuple, b: tuple) -> bool:
    """Whether (height, build) ``a`` comes after ``b``: a later build, or, without builds, a greater height."""
    if a[1] is not None and b[1] is not None:
        return a[1] > b[1]
    return (a[0] or 0) > (b[0] or 0)


def _build(build: Callable[[], object]) -> tuple[object, bool]:
    """``build()`` and True, or the notice that replaces it and False."""
    try:
        return build(), True
    except Unavailable as u:
        return notice(str(u), u.kind), False
    except Exception:  # a bug must not blank the page: say so, keep the traceback for the log
        log.exception("section failed")
        return notice("This section failed to render (the dashboards' log has the details).", "error"), False


def build_ahead(state: dict | None) -> None:
    """Build every ``AHEAD`` section for ``state`` in a background thread, once per build of the marts: the block
    poll calls it, so while anyone has the app open a new block's pages are built before they are asked for (the
    Risk page at a new height took 0.74 s of SQL inside its request at 1M: dashboards/README, session 9)."""
    if not state or state.get("status") != "ok":
        return
    from dashboards import context
    from dashboards.state import version

    tag = (context.db().url, version(state))
    with _lock:
        if tag in _ahead_for:
            return
        _ahead_for[:] = [tag]

    def run() -> None:
        for build in AHEAD:
            build(state)

    threading.Thread(target=run, name="dashboards-build-ahead", daemon=True).start()


def current_state() -> dict:
    """The app-wide state now, for a layout rendered in the server (the store's value the poll would give)."""
    from dashboards import state

    return state.read_state()


def page_body(body_id: str, build: Callable[[], object]) -> Callable[..., html.Div]:
    """A page whose whole body is ``build()``: rendered in the server with the layout (no round trip after the
    page arrives), then re-run on every new block or state change (its callback is registered here, beside the
    layout it fills; it does not fire on load, the layout already holds its answer)."""

    @callback(Output(body_id, "children"), Input(STATE, "data"), prevent_initial_call=True)
    def _render(state):
        return guarded(state, build, (body_id,))

    AHEAD.append(_render)

    def layout(**_):
        return html.Div(id=body_id, children=guarded(current_state(), build, (body_id,)))

    return layout


class HtmlTable(Component):
    """A table rendered here as HTML, drawn in the browser by ``bithedge.HtmlTable`` (assets/html_table.js): one
    component for the whole table, not one per cell."""

    _namespace, _type = "bithedge", "HtmlTable"

    def __init__(self, html: str, id: str | None = None, className: str | None = None):
        self._prop_names = ["id", "html", "className"]
        self._valid_wildcard_attributes = []
        self.available_properties = self._prop_names
        self.available_wildcard_properties = []
        super().__init__(**{k: v for k, v in (("id", id), ("html", html), ("className", className)) if v is not None})


def table(df: pd.DataFrame, formats: dict[str, Callable] | None = None, *, table_id: str | None = None,
          links: dict[str, Callable] | None = None, empty: str = "No rows yet."):
    """A plain HTML table (small frames only: the queries aggregate first); each cell carries its exact value
    (``data-value``) and column (``data-col``); ``links``: a column's cells link to a page of the app."""
    if df is None or df.empty:
        return notice(empty, "empty")
    formats, links = formats or {}, links or {}
    # an integer column with a NULL arrives as floats (pandas): shown as the integers it holds, not "34.0"
    whole = {c for c in df.columns if df[c].dtype.kind == "f" and df[c].dropna().map(float.is_integer).all()}
    rows = []
    for rec in df.to_dict("records"):
        cells = []
        for c in df.columns:
            v = rec[c]
            if c in formats:
                shown = formats[c](v, rec)
            elif raw(v) == "":
                shown = "–"
            else:
                shown = str(int(v)) if c in whole else str(v)
            shown = escape(shown)
            if c in links:
                shown = f'<a href="{escape(links[c](rec))}" data-link>{shown}</a>'
            cells.append(f'<td data-col="{escape(str(c))}" data-value="{escape(raw(v))}">{shown}</td>')
        rows.append(f"<tr>{''.join(cells)}</tr>")
    head = "".join(f"<th>{escape(str(c))}</th>" for c in df.columns)
    return HtmlTable(f'<table class="data"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>',
                     id=table_id, className="table-wrap")


#: every graph's plotly config
GRAPH_CONFIG = {"displaylogo": False, "responsive": True}


def styled(fig: go.Figure, height: int = 320) -> go.Figure:
    """The house style of a figure (a graph's, or one a callback sends to a graph that stays on the page)."""
    return fig.update_layout(height=height, margin=dict(l=50, r=20, t=40, b=40), template="plotly_white",
                             legend=dict(orientation="h", y=-0.2))


def graph(fig: go.Figure, graph_id: str, height: int = 320) -> dcc.Graph:
    return dcc.Graph(id=graph_id, figure=styled(fig, height), config=GRAPH_CONFIG)


def chart_or_notice(df: pd.DataFrame, make: Callable[[pd.DataFrame], go.Figure], graph_id: str,
                    empty: str, height: int = 320):
    """A chart, or a sentence saying why there is none (never an empty set of axes)."""
    if df is None or df.empty:
        return notice(empty, "empty")
    return graph(make(df), graph_id, height)


def floats(df: pd.DataFrame, *cols: str) -> pd.DataFrame:
    """numeric (Decimal) columns as float for plotting."""
    out = df.copy()
    for c in cols:
        out[c] = pd.to_numeric(out[c], errors="coerce").astype("float64")
    return out


def optional_view(relation: str, *, limit: int = 50, table_id: str, absent: str):
    """A view another component adds later (the keeper's): its latest rows when there, else ``absent``."""
    from dashboards import context

    db = context.db()
    if not db.exists(relation):
        return notice(absent, "absent")
    return table(db.frame(f"SELECT * FROM {relation} ORDER BY 1 DESC LIMIT {int(limit)}"), table_id=table_id,
                 empty=f"{relation} has no rows yet.")
