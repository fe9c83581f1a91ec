"""``bithedge up``: database, migrations, then every registered service as a supervised child.

Children get their own process group so a shutdown reaches their children too, and
``PR_SET_PDEATHSIG`` so they die with the supervisor even if it is SIGKILLed.
A child that exits is restarted with exponential backoff (reset after a minute of healthy running).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from collections.abc import Sequence

from bithedge import chain_guard, database
from bithedge.devnet import devnet_data_dir
from bithedge.migrate import migrate
from bithedge.processes import die_with_parent
from bithedge.services import SERVICES, Service
from bithedge.settings import Settings

_HEALTHY_AFTER_S = 60.0


class Supervisor:
    def __init__(self, settings: Settings, services: Sequence[Service] = SERVICES, out=None, *,
                 reset_chain: bool = False) -> None:
        self.settings = settings
        self.reset_chain = reset_chain
        self.exit_code = 0
        self.services = [s for s in services if s.enabled(settings)]
        self.out = out or sys.stdout
        self._stopping = asyncio.Event()
        self._procs: dict[str, asyncio.subprocess.Process] = {}
        self.restarts: dict[str, int] = {s.name: 0 for s in self.services}
        width = max([len(s.name) for s in self.services] + [len("supervisor")])
        self._width = width

    def say(self, name: str, line: str) -> None:
        self.out.write(f"{name:>{self._width}} | {line}\n")
        self.out.flush()

    def request_stop(self) -> None:
        self._stopping.set()

    def fail(self, message: str) -> None:
        """Stop everything and exit 1, saying why."""
        self.say("supervisor", message)
        self.exit_code = 1
        self.request_stop()

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.request_stop)
        db_url = await asyncio.to_thread(database.start, self.settings)
        try:
            applied = await asyncio.to_thread(migrate, db_url)
            self.say("supervisor", f"database ready at {db_url} ({len(applied)} migrations applied)")
            tasks = []
            if not self.reset_chain or await self._reset_chain(db_url):
                for svc in self.services:
                    env = {**os.environ, "DATABASE_URL": self._url_for(svc, db_url)}
                    tasks.append(asyncio.create_task(self._keep(svc, env)))
                    if svc.gate and not await self._passes(svc, db_url):
                        break
            if not self._stopping.is_set():
                self._banner(db_url)
            await self._stopping.wait()
            self.say("supervisor", "shutting down")
            await asyncio.gather(*(self._terminate(p) for p in list(self._procs.values())))
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        finally:
            if database.uses_embedded(self.settings):
                await asyncio.to_thread(database.stop, self.settings)
                self.say("supervisor", "database stopped")
        return self.exit_code

    async def _reset_chain(self, db_url: str) -> bool:
        devnet_dir = devnet_data_dir(self.settings)
        try:
            tables = await asyncio.to_thread(chain_guard.reset_chain, db_url, devnet_dir)
        except chain_guard.ChainMismatch as exc:
            self.fail(str(exc))
            return False
        self.say("supervisor", f"chain reset: emptied {len(tables)} raw.* tables and deleted {devnet_dir}")
        return True

    async def _passes(self, svc: Service, db_url: str) -> bool:
        """Await the service's gate; a failed gate stops everything before the next services start."""
        try:
            await svc.gate(self.settings, db_url, self._stopping)
        except Exception as exc:  # any failure of the check stops `up`, with its message
            self.fail(f"{svc.name}: {exc}")
            return False
        return not self._stopping.is_set()

    def _url_for(self, svc: Service, db_url: str) -> str:
        if svc.db_role and database.uses_embedded(self.settings):
            return database.role_url(db_url, svc.db_role)
        return db_url

    def _banner(self, db_url: str) -> None:
        lines = ["BitHedge is up."]
        # the dashboards are what a person opens: their URL comes first (a stable sort keeps the rest in order)
        for svc in sorted(self.services, key=lambda svc: svc.name != "dashboards"):
            if svc.url:
                lines.append(f"  {svc.name:<10} {svc.url(self.settings)}")
        if not self.services:
            lines.append("  (no services registered yet: running the database alone)")
        lines.append(f"  {'database':<10} {db_url}")
        lines.append("Press Ctrl-C to stop.")
        for line in lines:
            self.say("supervisor", line)

    async def _keep(self, svc: Service, env: dict[str, str]) -> None:
        first_delay = min(1.0, self.settings.restart_backoff_max_s)
        delay = first_delay
        while not self._stopping.is_set():
            started = time.monotonic()
            proc = await asyncio.create_subprocess_exec(
                *svc.argv(self.settings), env=env, stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
                start_new_session=True, preexec_fn=die_with_parent, limit=4 << 20,
            )
            self._procs[svc.name] = proc
            self.say("supervisor", f"started {svc.name} (pid {proc.pid})")
            assert proc.stdout is not None
            async for raw in proc.stdout:
                self.say(svc.name, raw.decode(errors="replace").rstrip("\n"))
            code = await proc.wait()
            self._procs.pop(svc.name, None)
            if self._stopping.is_set():
                return
            if code in svc.fatal_exits:
                self.fail(f"{svc.name} exited with code {code}: {svc.fatal_exits[code](self.settings)}")
                return
            if time.monotonic() - started > _HEALTHY_AFTER_S:
                delay = first_delay
            self.restarts[svc.name] += 1
            self.say("supervisor", f"{svc.name} exited with code {code}; restarting in {delay:.0f}s")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), delay)
            delay = min(delay * 2, self.settings.restart_backoff_max_s)

    async def _terminate(self, proc: asyncio.subprocess.Process) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), self.settings.shutdown_timeout_s)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()
        # The group may outlive its leader (grandchildren); make sure nothing is left.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)


def run(settings: Settings, services: Sequence[Service] = SERVICES, *, reset_chain: bool = False) -> int:
    return asyncio.run(Supervisor(settings, services, reset_chain=reset_chain).run())
