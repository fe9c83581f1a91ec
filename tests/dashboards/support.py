"""What the dashboards tests run: the app in a werkzeug thread (one per session, its database switchable), a
loopback TCP relay in front of PostgreSQL that can go away and come back, and the browser helpers."""

from __future__ import annotations

import logging
import shutil
import socket
import threading
from pathlib import Path

from werkzeug.serving import make_server

from tests.conftest import REPO

SCREENSHOTS = REPO / ".bithedge" / "test-artifacts" / "dashboards"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage"]


def chromium() -> str | None:
    return shutil.which("chromium")


class Relay:
    """A TCP relay on loopback to ``target``; ``stop()`` closes the listener and every connection (the
    database "goes away"), ``start()`` listens again on the same port."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = 0
        self._listener: socket.socket | None = None
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()

    def start(self) -> Relay:
        lst = socket.socket()
        lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        lst.bind(("127.0.0.1", self.port))
        lst.listen(64)
        self.port = lst.getsockname()[1]
        self._listener = lst
        threading.Thread(target=self._accept, args=(lst,), daemon=True).start()
        return self

    def _accept(self, lst: socket.socket) -> None:
        while True:
            try:
                client, _ = lst.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def stop(self) -> None:
        if self._listener:
            try:  # wakes the thread blocked in accept(); close() alone leaves the socket accepting
                self._listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._listener.close()
            self._listener = None
        with self._lock:
            conns, self._conns = self._conns, []
        for s in conns:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()


def via(url: str, port: int) -> str:
    """``url`` with its host:port replaced by the relay's."""
    scheme, rest = url.split("://", 1)
    user, _, hostpath = rest.rpartition("@")
    path = hostpath.split("/", 1)[1]
    return f"{scheme}://{user + '@' if user else ''}127.0.0.1:{port}/{path}"


class AppServer:
    """The dashboards app served from a thread of the test process (``use`` points it at another database)."""

    def __init__(self, db_url: str, docs_dir: Path | None) -> None:
        from dashboards import context
        from dashboards.app import create_app

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self.app = create_app(db_url, docs_dir=docs_dir)
        self.context = context
        self.server = make_server("127.0.0.1", 0, self.app.server, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def use(self, db_url: str) -> None:
        self.context.db().use(db_url)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


async def table_rows(page, table_id: str) -> list[dict[str, str]]:
    """Every row of a dashboards table as {column: exact value} (the cells' data-value)."""
    return await page.eval_on_selector_all(
        f"#{table_id} tbody tr",
        "rows => rows.map(r => Object.fromEntries([...r.querySelectorAll('td')].map("
        "td => [td.dataset.col, td.dataset.value])))")


async def kpi_value(page, kpi_id: str) -> str:
    return await page.get_attribute(f"#{kpi_id}", "data-value")
