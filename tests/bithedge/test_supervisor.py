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
