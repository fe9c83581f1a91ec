"""``bithedge api keys create|list|revoke`` and ``bithedge api serve`` as processes, on a real database."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import psycopg


def _env(db_url: str) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": db_url, "BITHEDGE_LOG_LEVEL": "warning"}


def _cli(db_url: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bithedge", "api", *args], env=_env(db_url), capture_output=True,
                          text=True, timeout=120)


def test_keys_are_shown_once_listed_without_the_secret_and_revoked(db_url) -> None:
    made = _cli(db_url, "keys", "create", "--name", "ops", "--scope", "read", "--scope", "admin",
                "--expires-days", "30", "--rate", "5")
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip()
    # bhk_<prefix>_<secret>: the secret is URL-safe base64, which may itself hold an underscore
    _, prefix, secret = key.split("_", 2)
    assert key.startswith("bhk_") and "not shown again" in made.stderr
    listed = _cli(db_url, "keys", "list")
    line = next(ln for ln in listed.stdout.splitlines() if ln.startswith(prefix))
    assert "\tactive\tadmin,read\tops\trate=5.0" in line and secret not in listed.stdout
    with psycopg.connect(db_url) as conn:
        stored = conn.execute("SELECT digest FROM api.keys WHERE prefix = %s", (prefix,)).fetchone()[0]
    assert key.encode() not in stored
    assert _cli(db_url, "keys", "revoke", prefix).returncode == 0
    assert "\trevoked\t" in _cli(db_url, "keys", "list").stdout
    again = _cli(db_url, "keys", "revoke", prefix)
    assert again.returncode == 1 and "no active key" in again.stderr
    assert _cli(db_url, "keys", "create", "--name", "x", "--scope", "root").returncode == 2


def test_serve_answers_health_and_stops_on_sigint(db_url) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "bithedge", "api", "serve", "--port", str(port)],
                            env=_env(db_url), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        body = None
        for _ in range(600):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                    body = r.read()
                break
            except OSError:
                if proc.poll() is not None:
                    break
                time.sleep(0.1)
        assert body is not None and b'"ok"' in body, proc.stdout.read() if proc.poll() is not None else ""
        proc.send_signal(signal.SIGINT)
        assert proc.wait(60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
