"""``bithedge dashboards serve``: the Dash app on loopback (by default), reading as ``bithedge_reader``."""

from __future__ import annotations

import logging
import signal
import threading

import click

from bithedge.cli import service_db_url


@click.group()
def cli() -> None:
    """The analysts' dashboards over the analytics views."""


@cli.command()
@click.option("--host", default=None, help="Interface (default BITHEDGE_DASHBOARDS_HOST, else BITHEDGE_HOST).")
@click.option("--port", type=int, default=None, help="Port (default BITHEDGE_DASHBOARDS_PORT).")
def serve(host: str | None, port: int | None) -> None:
    """Serve the dashboards until SIGINT/SIGTERM."""
    from werkzeug.serving import make_server

    from bithedge.cli import settings_or_exit
    from dashboards.app import create_app
    from dashboards.auth import login_required

    s = settings_or_exit()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access log: one line per poll otherwise
    host = host or s.dashboards_host or s.host
    try:
        login = login_required(s.dashboards_login, host)
    except ValueError as e:
        raise click.ClickException(str(e)) from None
    secret = s.dashboards_secret_key.get_secret_value() if s.dashboards_secret_key else None
    app = create_app(service_db_url(s, "bithedge_reader"), docs_dir=s.data_dir / "transforms" / "target",
                     login=login, secret_key=secret, session_ttl_s=s.dashboards_session_ttl_s,
                     cookie_secure=s.dashboards_cookie_secure)
    server = make_server(host, s.dashboards_port if port is None else port, app.server, threaded=True)

    def stop(*_):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    click.echo(f"dashboards on http://{server.host}:{server.port}/ (login {'on' if login else 'off'})", err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
