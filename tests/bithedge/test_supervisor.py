"""``bithedge up``'s supervisor: prefixes logs, restarts a crashed child, leaves nothing behind on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.processes import alive, wait_for

RUNNER = textwrap.dedent(
    """
    import sys
    from bithedge.services import Service
    from bithedge.settings import load_settings
    from bithedge.supervisor import run

    pids = sys.argv[1]
    crasher = Service("crasher", lambda s: [sys.executable, "-c",
        f"import os, sys; open({pids!r}, 'a').write(f'crasher {{os.getpid()}}\\\\n'); print('crasher up', flush=True); sys.exit(3)"])
    # A long-running child that itself has a child: both must be gone after shutdown.
    sleeper = Service("sleeper", lambda s: [sys.executable, "-c",
        f"import os, subprocess, time; g = subprocess.Popen(['sleep', '600']); "
        f"open({pids!r}, 'a').write(f'sleeper {{os.getpid()}}\\\\ngrandchild {{g.pid}}\\\\n'); print('sleeping', flush=True); time.sleep(600)"],
        url=lambda s: "http://127.0.0.1:1/sleeper")
    sys.exit(run(load_settings(restart_backoff_max_s=0.3), [crasher, sleeper]))
    """
)


def test_restarts_crashed_child_and_shuts_down_cleanly(tmp_pg_root: Path, tmp_path: Path) -> None:
    runner = tmp_path / "runner.py"
    runner.write_text(RUNNER)
    pids = tmp_path / "pids"
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["BITHEDGE_DATA_DIR"] = str(tmp_pg_root / "supervised")
    log = tmp_path / "out.log"
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, str(runner), str(pids)], env=env, stdout=out,
                                stderr=subprocess.STDOUT)
        try:
            def started(kind: str, n: int) -> bool:
                return pids.exists() and sum(ln.startswith(kind) for ln in pids.read_text().splitlines()) >= n

            wait_for(lambda: started("crasher", 3) and started("grandchild", 1))
            text = log.read_text()
            assert "crasher exited with code 3; restarting" in text
            assert "crasher | crasher up" in text and "sleeper | sleeping" in text
            assert "http://127.0.0.1:1/sleeper" in text  # the URL banner
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=60) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
    everyone = [int(line.split()[1]) for line in pids.read_text().splitlines()]
    assert everyone and not [p for p in everyone if alive(p)], "orphaned processes after shutdown"
    assert "database stopped" in log.read_text()
    status = subprocess.run([sys.executable, "-m", "bithedge", "db", "status"], env=env, capture_output=True,
                            text=True)
    assert json.loads(status.stdout)["running"] is False


GATED = textwrap.dedent(
    """
    import sys
    from bithedge.services import Service
    from bithedge.settings import load_settings
    from bithedge.supervisor import run

    async def refuse(settings, db_url, stopping):
        raise RuntimeError("not the same chain")

    first = Service("first", lambda s: [sys.executable, "-c", "import time; print('first up', flush=True); time.sleep(600)"],
                    gate=refuse)
    later = Service("later", lambda s: [sys.executable, "-c", "print('later up', flush=True)"])
    fatal = Service("fatal", lambda s: [sys.executable, "-c", "import sys; sys.exit(78)"],
                    fatal_exits={78: lambda s: "restarting cannot help"})
    services = {"gate": [first, later], "fatal": [fatal, later]}[sys.argv[1]]
    sys.exit(run(load_settings(restart_backoff_max_s=0.3), services, reset_chain=sys.argv[2] == "reset"))
    """
)


def test_a_failed_gate_or_a_fatal_exit_stops_everything_with_status_1(tmp_pg_root: Path, tmp_path: Path) -> None:
    runner = tmp_path / "gated.py"
    runner.write_text(GATED)
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["BITHEDGE_DATA_DIR"] = str(tmp_pg_root / "gated")
    devnet_dir = tmp_pg_root / "gated" / "devnet"
    devnet_dir.mkdir(parents=True)

    gated = subprocess.run([sys.executable, str(runner), "gate", "reset"], env=env, capture_output=True, text=True,
                           timeout=120)
    assert gated.returncode == 1, gated.stdout
    assert "chain reset: emptied" in gated.stdout and not devnet_dir.exists()
    assert "first: not the same chain" in gated.stdout
    assert "later" not in gated.stdout.replace("supervisor", "")  # never started
    assert "database stopped" in gated.stdout

    fatal = subprocess.run([sys.executable, str(runner), "fatal", "keep"], env=env, capture_output=True, text=True,
                           timeout=120)
    assert fatal.returncode == 1, fatal.stdout
    assert "fatal exited with code 78: restarting cannot help" in fatal.stdout
    assert "code 78; restarting" not in fatal.stdout and "database stopped" in fatal.stdout
