"""``bithedge devnet``: the local Stacks devnet (contracts/devnet/server.cjs) as a supervised Node child.

The Node process runs the contracts in the clarinet-sdk simnet. A WASM panic poisons that process, so
this wrapper restarts it (the chain log in the data dir replays) while keeping the same RPC URL. It
prints the RPC URL once the devnet serves requests and forwards SIGINT/SIGTERM.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import click

from bithedge.settings import REPO_ROOT

SERVER_SCRIPT = REPO_ROOT / "contracts" / "devnet" / "server.cjs"
DEFAULT_MANIFEST = REPO_ROOT / "contracts" / "Clarinet.toml"
#: exit status the Node side uses for a poisoned VM (restart it)
EXIT_VM_PANIC = 70


def _die_with_parent() -> None:  # pragma: no cover - runs in the child
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def node_argv(
    *,
    port: int,
    observers: tuple[str, ...] | list[str] = (),
    block_time_ms: int = 2000,
    data_dir: Path,
    reset: bool = False,
    manifest: Path = DEFAULT_MANIFEST,
    burn_ratio: int = 2,
    blocking: bool = False,
    max_chaining: int | None = None,
    max_block_txs: int | None = None,
    host: str = "127.0.0.1",
    sig_worker: bool = False,
) -> list[str]:
    """The Node command line for one devnet process."""
    node = shutil.which("node")
    if node is None:
        raise click.ClickException("node (>= 20) is not on PATH; the devnet runs on Node")
    if not (manifest.parent / "node_modules" / "@stacks" / "clarinet-sdk").exists() and not (
        REPO_ROOT / "contracts" / "node_modules" / "@stacks" / "clarinet-sdk"
    ).exists():
        raise click.ClickException("contracts/node_modules is missing: run `npm ci` in contracts/")
    argv = [
        node,
        str(SERVER_SCRIPT),
        "--port", str(port),
        "--host", host,
        "--block-time", str(block_time_ms),
        "--burn-ratio", str(burn_ratio),
        "--data-dir", str(data_dir),
        "--manifest", str(manifest),
    ]
    for url in observers:
        argv += ["--observer", url]
    if reset:
        argv.append("--reset")
    if blocking:
        argv.append("--blocking")
    if max_chaining is not None:
        argv += ["--max-chaining", str(max_chaining)]
    if max_block_txs is not None:
        argv += ["--max-block-txs", str(max_block_txs)]
    if sig_worker:
        argv.append("--sig-worker")
    return argv


class DevnetProcess:
    """One Node devnet process: start, wait until ready, stop. Used by the CLI, tests and benchmarks."""

    def __init__(self, argv: list[str], *, echo=None, stderr=None) -> None:
        self.argv = argv
        self.echo = echo
        self.stderr = stderr
        self.proc: subprocess.Popen | None = None
        self.ready: dict | None = None
        self._ready_evt = threading.Event()
        self._reader: threading.Thread | None = None

    @property
    def rpc_url(self) -> str:
        assert self.ready is not None
        return self.ready["rpc"]

    def start(self, timeout: float = 120.0) -> dict:
        self.proc = subprocess.Popen(
            self.argv,
            stdin=subprocess.PIPE,  # the devnet exits when this pipe closes (we died)
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            text=True,
            bufsize=1,
            preexec_fn=_die_with_parent,
            start_new_session=True,
        )
        self._reader = threading.Thread(target=self._read_stdout, daemon=True)
        self._reader.start()
        deadline = time.monotonic() + timeout
        while not self._ready_evt.wait(0.1):
            if self.proc.poll() is not None:
                raise RuntimeError(f"devnet exited with status {self.proc.returncode} before it was ready")
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"devnet not ready after {timeout:.0f} s")
        assert self.ready is not None
        return self.ready

    def _read_stdout(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            line = line.rstrip("\n")
            if self.ready is None and line.startswith("{"):
                with contextlib.suppress(ValueError):
                    msg = json.loads(line)
                    if msg.get("event") == "ready":
                        self.ready = msg
                        self._ready_evt.set()
                        continue
            if self.echo:
                self.echo(line)

    def signal(self, sig: int) -> None:
        if self.proc and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, sig)

    def wait(self, timeout: float | None = None) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout)

    def stop(self, timeout: float = 10.0) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.signal(signal.SIGKILL)
                self.proc.wait(5)
        with contextlib.suppress(Exception):
            if self.proc.stdin:
                self.proc.stdin.close()
        return self.proc.returncode

    def kill(self) -> None:
        """SIGKILL (crash simulation)."""
        self.signal(signal.SIGKILL)
        if self.proc:
            self.proc.wait(10)

    def __enter__(self) -> DevnetProcess:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


@click.command("devnet")
@click.option("--port", type=int, default=None, help="RPC port on loopback (default: BITHEDGE_DEVNET_PORT, 20443).")
@click.option("--observer", "observers", multiple=True, metavar="URL",
              help="Event observer base URL (repeatable), e.g. http://127.0.0.1:3700.")
@click.option("--block-time", "block_time", type=int, default=None, metavar="MS",
              help="Mine a block every MS milliseconds; 0 = only on POST /devnet/mine (default 2000).")
@click.option("--data-dir", "data_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Chain log and observer queues (default: <data dir>/devnet).")
@click.option("--reset", is_flag=True, help="Start a new chain (drops the log and undelivered payloads).")
@click.option("--burn-ratio", "burn_ratio", type=int, default=None,
              help="Stacks blocks per burn block (default BITHEDGE_DEVNET_BURN_RATIO, 2).")
@click.option("--manifest", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
              help="Clarinet.toml of the project to run (default: contracts/Clarinet.toml).")
@click.option("--blocking", is_flag=True, help="Wait for observers to acknowledge each block before mining on.")
@click.option("--max-chaining", type=int, default=None, help="Pending transactions per sender (default 25).")
def cli(port, observers, block_time, data_dir, reset, burn_ratio, manifest, blocking, max_chaining) -> None:
    """Run the local Stacks devnet (real Clarity VM, stacks-node RPC, observer delivery) and print its RPC URL."""
    from bithedge.cli import settings_or_exit

    s = settings_or_exit()
    argv = node_argv(
        port=s.devnet_port if port is None else port,
        observers=observers,
        block_time_ms=s.devnet_block_time_ms if block_time is None else block_time,
        data_dir=(data_dir or Path(s.data_dir) / "devnet").resolve(),
        reset=reset,
        manifest=(manifest or DEFAULT_MANIFEST).resolve(),
        burn_ratio=s.devnet_burn_ratio if burn_ratio is None else burn_ratio,
        blocking=blocking,
        max_chaining=max_chaining,
        host=s.host,
    )
    stopping = threading.Event()
    current: list[DevnetProcess] = []

    def on_signal(signum, _frame) -> None:
        stopping.set()
        for p in current:
            p.signal(signal.SIGTERM)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    def echo(line: str) -> None:
        click.echo(line)

    backoff = 1.0
    first = True
    while not stopping.is_set():
        run_argv = argv if first else [a for a in argv if a != "--reset"]
        proc = DevnetProcess(run_argv, echo=echo, stderr=None)
        current[:] = [proc]
        started = time.monotonic()
        try:
            ready = proc.start(timeout=600)
        except RuntimeError as exc:
            code = proc.proc.returncode if proc.proc else 1
            if first or stopping.is_set():
                raise click.ClickException(str(exc)) from None
            click.echo(f"devnet failed to restart (status {code}); retrying in {backoff:.0f} s", err=True)
            time.sleep(backoff)
            backoff = min(backoff * 2, 30.0)
            continue
        if first:
            click.echo(ready["rpc"])
            sys.stdout.flush()
        first = False
        code = proc.wait()
        if stopping.is_set():
            break
        if time.monotonic() - started > 60:
            backoff = 1.0
        click.echo(f"devnet exited with status {code}; restarting in {backoff:.0f} s (the chain log replays)", err=True)
        time.sleep(backoff)
        backoff = min(backoff * 2, 30.0)
    for p in current:
        p.stop()
