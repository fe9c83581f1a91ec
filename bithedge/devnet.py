"""``bithedge devnet``: the local Stacks devnet (contracts/devnet/server.cjs) as a Node child.

The Node process runs the contracts in the clarinet-sdk simnet. A WASM panic poisons that process: it exits
with ``EXIT_VM_PANIC`` and so does this command, which restarts nothing itself. ``bithedge up``'s supervisor
restarts it with backoff, and the chain log in the data dir replays, so the RPC URL stays the same. The command
prints the RPC URL once the devnet serves requests and forwards SIGINT/SIGTERM.
"""

from __future__ import annotations

import contextlib
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

from bithedge.cli import settings_or_exit
from bithedge.processes import die_with_parent
from bithedge.settings import REPO_ROOT, Settings, default, env_name

SERVER_SCRIPT = REPO_ROOT / "contracts" / "devnet" / "server.cjs"
DEFAULT_MANIFEST = REPO_ROOT / "contracts" / "Clarinet.toml"
#: exit statuses of the Node side (named the same in server.cjs): a poisoned VM (restart it: the chain log
#: replays), and a chain log built from other contracts or settings (a restart cannot help)
EXIT_VM_PANIC = 70
EXIT_PROJECT_CHANGED = 78


def devnet_data_dir(settings: Settings) -> Path:
    """Where ``bithedge devnet`` keeps its chain log and observer queues unless ``--data-dir`` says otherwise."""
    return settings.data_dir / "devnet"


def node_argv(
    *,
    port: int,
    observers: tuple[str, ...] | list[str] = (),
    block_time_ms: int = default("devnet_block_time_ms"),
    data_dir: Path,
    reset: bool = False,
    manifest: Path = DEFAULT_MANIFEST,
    burn_ratio: int = default("devnet_burn_ratio"),
    blocking: bool = False,
    max_chaining: int | None = None,
    max_block_txs: int | None = None,
    host: str = default("host"),
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
            preexec_fn=die_with_parent,
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


def _exit_status(code: int) -> int:
    """A shell-style exit status for a Node process's return code (negative: killed by that signal)."""
    return 128 - code if code < 0 else code


def _setting_help(field: str, what: str) -> str:
    return f"{what} (default: {env_name(field)}, {default(field)})."


@click.command("devnet")
@click.option("--port", type=int, default=lambda: settings_or_exit().devnet_port,
              help=_setting_help("devnet_port", "RPC port on loopback"))
@click.option("--observer", "observers", multiple=True, metavar="URL",
              help="Event observer base URL (repeatable), e.g. http://127.0.0.1:3700.")
@click.option("--block-time", "block_time", type=int, default=lambda: settings_or_exit().devnet_block_time_ms,
              metavar="MS", help=_setting_help("devnet_block_time_ms",
                                               "Mine a block every MS milliseconds; 0 = only on POST /devnet/mine"))
@click.option("--data-dir", "data_dir", type=click.Path(file_okay=False, path_type=Path),
              default=lambda: devnet_data_dir(settings_or_exit()),
              help=f"Chain log and observer queues (default: <{env_name('data_dir')}>/devnet).")
@click.option("--reset", is_flag=True, help="Start a new chain (drops the log and undelivered payloads).")
@click.option("--burn-ratio", "burn_ratio", type=int, default=lambda: settings_or_exit().devnet_burn_ratio,
              help=_setting_help("devnet_burn_ratio", "Stacks blocks per burn block"))
@click.option("--manifest", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=DEFAULT_MANIFEST,
              help="Clarinet.toml of the project to run (default: contracts/Clarinet.toml).")
@click.option("--blocking", is_flag=True, help="Wait for observers to acknowledge each block before mining on.")
@click.option("--max-chaining", type=int, default=None, help="Pending transactions per sender (default 25).")
def cli(port, observers, block_time, data_dir, reset, burn_ratio, manifest, blocking, max_chaining) -> None:
    """Run the local Stacks devnet (real Clarity VM, stacks-node RPC, observer delivery) and print its RPC URL.

    One Node process: when it dies, this command exits with its status (the chain log replays on the next
    start); under `bithedge up` the supervisor restarts it."""
    s = settings_or_exit()
    proc = DevnetProcess(node_argv(
        port=port, observers=observers, block_time_ms=block_time, data_dir=data_dir.resolve(), reset=reset,
        manifest=manifest.resolve(), burn_ratio=burn_ratio, blocking=blocking, max_chaining=max_chaining,
        host=s.host,
    ), echo=click.echo, stderr=None)
    stopping = threading.Event()

    def on_signal(signum, _frame) -> None:
        stopping.set()
        proc.signal(signal.SIGTERM)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        ready = proc.start(timeout=600)
    except TimeoutError as exc:
        raise click.ClickException(str(exc)) from None
    except RuntimeError:  # exited before it was ready
        code = proc.wait()
    else:
        click.echo(ready["rpc"])
        sys.stdout.flush()
        code = proc.wait()
    if stopping.is_set():
        return
    if code == EXIT_PROJECT_CHANGED:
        what = "its chain log was built from other contracts or settings; start it with --reset for a new chain"
    else:
        why = ("the Clarity VM panicked and poisoned the Node process" if code == EXIT_VM_PANIC
               else f"the Node process exited with status {code}")
        what = f"{why}; start it again to continue the chain (its log replays)"
    click.echo(f"devnet stopped: {what}", err=True)
    sys.exit(_exit_status(code) or 1)
