"""The Dash app: one module per page under ``pages/`` (``register_page``), a shell with the navigation built
from the page registry, the "as of" stamp under every title, and the block poll that refreshes the pages.
Plain Flask routes beside it: the CSV export, the risk report, the dbt docs site and the operations
endpoints (`/health`, `/ready`, `/metrics`)."""

from __future__ import annotations

import hashlib
import logging
import re
from pathlib import Path

import dash
from dash import Dash, Input, Output, State, dcc, html, no_update

from dashboards import auth, context, state, ui
from dashboards.db import Database
from dashboards.ui import STATE

HERE = Path(__file__).resolve().parent
log = logging.getLogger("bithedge.dashboards")
#: where Dash's graphs fetch plotly.js from when served locally (window._dashPlotlyJSURL: a fixed, unfingerprinted
#: path, loaded only by a page that draws a graph)
PLOTLY_PATH = "/_dash-component-suites/plotly/package_data/plotly.min.js"
#: dcc's chunk that holds its Graph component (fetched by webpack's chunk loader, under this unversioned name)
GRAPH_CHUNK_PATH = "/_dash-component-suites/dash/dcc/async-graph.js"
#: plotly.js of only the traces the pages draw (dashboards/js, built by `make bootstrap`): 1.2 MB, not 4.8
PLOTLY_BUNDLE = HERE / "js" / "dist" / "plotly-bithedge.min.js"
#: the traces in it: a page may draw no other (test_pages holds every figure to it)
PLOTLY_TRACES = frozenset({"scatter", "bar", "heatmap"})
#: regenerator-runtime (dashboards/js), what Dash's bundles need of the polyfill they come with
RUNTIME = HERE / "js" / "node_modules" / "regenerator-runtime" / "runtime.js"
_POLYFILL_TAG = re.compile(r'<script src="[^"]*/deps/polyfill@[^"]*"></script>')
#: how often the browser asks whether a new block arrived (one cheap row of analytics.freshness)
POLL_MS = 2000


def _page_for(pathname: str | None) -> tuple[dict, str | None] | None:
    """The registered page at ``pathname`` and, for a path template, the part its placeholder took."""
    for page in dash.page_registry.values():
        if page["path"] == pathname:
            return page, None
        if template := page.get("path_template"):
            pattern = re.sub(r"<[^>]+>", "([^/]+)", template)
            if m := re.fullmatch(pattern, pathname or ""):
                return page, m.group(1)
    return None


def _title_for(pathname: str) -> str:
    if (found := _page_for(pathname)) is None:
        return "Not found"
    page, part = found
    return page["name"] if part is None else f"{page['name']} {part}"


def _shell(login: auth.Login) -> html.Div:
    # the state and its stamp are in the layout itself: the pages render with it at once instead of waiting
    # for the first poll's round trip
    now = state.read_state()
    links = [dcc.Link(p["name"], href=p["relative_path"], className="nav-link")
             for p in dash.page_registry.values() if p.get("nav", True)]
    logout = html.Form(html.Button("Log out", id="logout", type="submit"), action="/logout", method="post",
                       className="logout") if login.enabled else None
    return html.Div(className="app", children=[
        html.Header(className="topbar", children=[
            html.Div("BitHedge analytics", className="brand"),
            html.Nav([*links, html.A("Data dictionary", href="/docs/", className="nav-link", target="_blank")]),
            logout,
        ]),
        html.Main(className="content", children=[
            html.Div(className="page-head", children=[html.H1(id="page-title"),
                                                       html.Div(state.stamp(now), id="asof",
                                                                className=f"asof asof-{now['status']}")]),
            dash.page_container,
        ]),
        dcc.Location(id="url"),
        dcc.Interval(id="tick", interval=POLL_MS),
        dcc.Store(id=STATE, data=now),
    ])


class _BundleCache(dict):
    """flask-compress's cache, holding Dash's script bundles only: the same bytes for the process's life, so each is
    compressed once per encoding instead of on every fresh browser (plotly.min.js: 4.8 MB); a page or callback
    answer is compressed each time and never kept."""

    def set(self, key: str, value: bytes) -> None:
        if ";/_dash-component-suites/" in key:
            self[key] = value


def _compress(server) -> None:
    """gzip (br/zstd where the browser offers them, over TLS) for the scripts, the pages and the callbacks' JSON.
    Streams (the CSV export) pass as they are: a compressor would hold rows back until its buffer fills."""
    from flask_compress import Compress

    cache = _BundleCache()
    server.config.update(COMPRESS_STREAMS=False, COMPRESS_CACHE_BACKEND=lambda: cache,
                         COMPRESS_CACHE_KEY=lambda request: request.full_path)
    Compress(server)


def _plotly_bundle(server) -> None:
    """Serve our plotly.js bundle at Dash's plotly.js path: its top-level script, the largest task of a chart
    page's first render, shrinks with it. Only at the plotly.js version the Python plotly package writes its
    figures for; else, or when it is not built, the graphs load Dash's full bundle."""
    from flask import Response, request
    from plotly.offline import get_plotlyjs_version

    try:
        data = PLOTLY_BUNDLE.read_bytes()
    except OSError:
        log.warning("the dashboards' plotly.js bundle is not built (make bootstrap): graphs load the full 4.8 MB")
        return
    version = m.group(1).decode() if (m := re.match(rb"/\* plotly\.js v(\S+) ", data)) else "unknown"
    if version != get_plotlyjs_version():
        log.warning("the bundle's plotly.js %s is not the %s plotly writes figures for: graphs load the full bundle",
                    version, get_plotlyjs_version())
        return
    etag = hashlib.sha256(data).hexdigest()[:32]

    @server.before_request
    def _bundle():
        if request.path != PLOTLY_PATH:
            return None
        resp = Response(data, mimetype="application/javascript")
        resp.set_etag(etag)
        resp.cache_control.no_cache = True  # an unfingerprinted path: revalidated (a 304), never kept stale
        return resp.make_conditional(request)


def _no_polyfill(app: Dash) -> None:
    """Dash's @babel/polyfill (core-js 2 for browsers without ES2015, 0.1-0.2 s of script on every first render
    in a CPU profile: dashboards/README.md, session 8) gives way to the one part of it Dash's bundles still use: the
    ``regeneratorRuntime`` global their generator functions are compiled against (regenerator-runtime,
    `dashboards/js`), served at a content-hashed path and cached for a year. Without it installed, the polyfill
    stays."""
    from flask import Response, request

    try:
        runtime = RUNTIME.read_bytes()
    except OSError:
        log.warning("regenerator-runtime is not installed (make bootstrap): pages load Dash's @babel/polyfill")
        return
    path = f"/_dash-component-suites/bithedge/regenerator-runtime.{hashlib.sha256(runtime).hexdigest()[:16]}.js"
    tag = f'<script src="{app.config.requests_pathname_prefix}{path.lstrip("/")}"></script>'

    @app.server.before_request
    def _runtime():
        if request.path != path:
            return None
        resp = Response(runtime, mimetype="application/javascript")
        resp.cache_control.public, resp.cache_control.max_age = True, 31536000  # its name changes with it
        return resp

    interpolate = app.interpolate_index

    def interpolate_index(**parts):
        return interpolate(**{**parts, "scripts": _POLYFILL_TAG.sub(tag, parts["scripts"], count=1)})

    app.interpolate_index = interpolate_index


def _preload_graph_scripts(app: Dash) -> None:
    """The HTML of a page that draws graphs (``register_page(..., graphs=True)``) names dcc's graph chunk and
    plotly.js as preloads: the browser fetches them beside Dash's own bundles, where Dash's lazy load asks for them
    only once a graph mounts, after the layout and the page's callback (a cold render at 10k waited 0.2 s for
    them then: dashboards/README, session 9). A preload runs nothing: the scripts still run when a graph needs
    them, and a page without graphs fetches neither."""
    from flask import request

    prefix = app.config.requests_pathname_prefix
    tags = "".join(f'<link rel="preload" as="script" href="{prefix}{path.lstrip("/")}">'
                   for path in (GRAPH_CHUNK_PATH, PLOTLY_PATH))
    interpolate = app.interpolate_index

    def interpolate_index(**parts):
        found = _page_for("/" + (app.strip_relative_path(request.path) or ""))
        if found and found[0].get("graphs"):
            parts = {**parts, "metas": parts["metas"] + tags}
        return interpolate(**parts)

    app.interpolate_index = interpolate_index


def create_app(db_url: str, *, docs_dir: Path | None = None, login: bool = False, secret_key: str | None = None,
               session_ttl_s: int = 8 * 3600, cookie_secure: bool = False) -> Dash:
    """The app; ``login``: every page needs an API key (``auth``), ``app.login.enabled`` switches it."""
    context.set_context(context.Context(db=Database(db_url), docs_dir=docs_dir))
    app = Dash(__name__, use_pages=True, pages_folder=str(HERE / "pages"), assets_folder=str(HERE / "assets"),
               title="BitHedge analytics", suppress_callback_exceptions=True, serve_locally=True,
               update_title=None)
    _compress(app.server)
    _plotly_bundle(app.server)
    _no_polyfill(app)
    _preload_graph_scripts(app)
    # first, so no other route answers before the login guard has looked at the request
    app.login = auth.register(app.server, context.db, enabled=login, secret_key=secret_key, ttl_s=session_ttl_s,
                              cookie_secure=cookie_secure)
    app.layout = lambda: _shell(app.login)

    @app.callback(Output("page-title", "children"), Input("url", "pathname"))
    def _page_title(pathname):
        return _title_for(pathname)

    @app.callback(Output("asof", "children"), Output("asof", "className"), Output(STATE, "data"),
                  Input("tick", "n_intervals"), State(STATE, "data"), prevent_initial_call=True)
    def _poll(_n, old):
        new = state.read_state()
        ui.build_ahead(new)  # the other pages, for the next one the analyst opens
        return (state.stamp(new), f"asof asof-{new['status']}",
                new if state.changed(old, new) else no_update)

    from dashboards import docs, export, ops, report

    export.register(app.server)
    report.register(app.server)
    docs.register(app.server)
    ops.register(app.server)
    return app
