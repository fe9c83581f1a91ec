"""``bithedge api serve --workers N``: N processes answering on one port.

The parent builds the application once (models, the OpenAPI document: ~1.3 s of CPU), freezes it out of the
collector's sight and forks; each worker binds its own ``SO_REUSEPORT`` socket on the same address, so the
kernel spreads new connections over the workers, and runs the app on its own event loop with its own database
pools. The parent only supervises: SIGTERM or SIGINT to it is passed once to every worker, each stops as a
single process does (stops accepting, finishes what is in flight, closes its pools), and the parent exits when
all have. A worker that dies on its own stops the others and the parent exits 1, so the supervisor restarts
the service whole. Workers are in their own process groups (a terminal's Ctrl-C reaches the parent alone,
which passes it on once) and get SIGTERM if the parent dies, even by SIGKILL.

``/metrics`` of any worker aggregates every worker (prometheus_client's multiprocess mode, one directory of
the parent's, removed at exit); ``/health`` and ``/ready`` answer for the worker that took the connection;
rate limits hold across the workers (``api.auth.TokenBuckets`` is shared memory made before the fork).
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
from collections.abc import Callable

import structlog

from bithedge.processes import die_with_parent

log = structlog.get_logger("api")

#: the environment variable prometheus_client reads to share metrics between processes
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def share_metrics() -> str:
    """Before any metric exists: every process's metrics go to files in a new directory, summed on scrape."""
    from prometheus_client import values

    path = tempfile.mkdtemp(prefix="bithedge-api-metrics-")
    os.environ[MULTIPROC_ENV] = path
    values.ValueClass = values.get_value_class()  # chosen at import; the API's metrics are made after this
    return path


def serve(run_one: Callable[[], None], workers: int, metrics_dir: str) -> int:
    """Fork ``workers`` processes running ``run_one`` (the app on a ``reuse_port`` socket); the exit code."""
    from prometheus_client import multiprocess

    pids: set[int] = set()
    stopping = False

    def stop(signum: int | None = None, frame: object = None) -> None:
        nonlocal stopping
        if stopping:
            return
        stopping = True
        for pid in pids:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for _ in range(workers):
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the worker (tests/api/test_workers.py runs them as processes)
            code = 1
            try:
                os.setpgid(0, 0)
                die_with_parent()
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                run_one()
                code = 0
            except BaseException:  # noqa: BLE001 - logged; the parent sees the exit code
                log.exception("api_worker_failed")
            finally:
                os._exit(code)
        pids.add(pid)
    multiprocess.mark_process_dead(os.getpid())  # the parent serves nothing: none of its live gauges count
    log.info("api_workers_started", workers=sorted(pids))
    code = 0
    try:
        while pids:
            try:
                pid, status = os.wait()
            except ChildProcessError:
                break
            pids.discard(pid)
            multiprocess.mark_process_dead(pid)
            exit_code = os.waitstatus_to_exitcode(status)
            if not stopping:
                log.error("api_worker_exited", pid=pid, code=exit_code)
                code = 1
                stop()
            elif exit_code != 0:
                code = 1
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)
    return code
