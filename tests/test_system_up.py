"""``bithedge up`` with the registered services (indexer, devnet, simulator) on free ports and a temporary
data dir: the devnet delivers to the indexer, the simulator trades, and ``raw.events`` fills with the
BitHedge contracts' ``policy-created`` print events. SIGTERM then leaves nothing running."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from bithedge.protocol.deployment import DEVNET
from bithedge.services import SERVICES
from tests.processes import alive, descendants, free_port

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")

DEPLOYER = DEVNET.deployer


def _policy_created(db_url: str) -> int:
    try:
        with psycopg.connect(db_url, connect_timeout=3) as conn:
            return conn.execute(
                "SELECT count(*) FROM raw.events WHERE canonical AND event_type = 'contract_event' "
                "AND topic = 'print' AND contract_identifier = %s "
                "AND value #>> '{value,event,value}' = 'policy-created'",
                (f"{DEPLOYER}.bithedge-policy-registry",)).fetchone()[0]
    except psycopg.Error:
        return 0


def test_up_runs_indexer_devnet_and_simulator_together(tmp_pg_root: Path, tmp_path: Path) -> None:
    assert {s.name for s in SERVICES} >= {"indexer", "devnet", "simulator", "transforms", "keeper", "api", "dashboards"}
    ports = {k: str(free_port()) for k in ("INDEXER_PORT", "DEVNET_PORT", "PRICE_FEED_PORT", "TRANSFORMS_PORT",
                                           "KEEPER_PORT", "API_PORT", "DASHBOARDS_PORT")}
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "BITHEDGE_NODE_URL")}
    env.update({f"BITHEDGE_{k}": v for k, v in ports.items()})
    env.update({
        "BITHEDGE_DATA_DIR": str(tmp_pg_root / "up"),  # traversable by the embedded server's OS user
        "BITHEDGE_DEVNET_BLOCK_TIME_MS": "400",
        "BITHEDGE_RESTART_BACKOFF_MAX_S": "2",
    })
    log = tmp_path / "up.log"
    seen: set[int] = set()
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "bithedge", "up"], env=env, stdout=out,
                                stderr=subprocess.STDOUT)
        try:
            db_url, count, deadline = None, 0, time.monotonic() + 420
            while time.monotonic() < deadline and proc.poll() is None:
                seen |= descendants(proc.pid)
                text = log.read_text()
                if db_url is None and (m := re.search(r"database ready at (\S+)", text)):
                    db_url = m.group(1)
                if db_url and (count := _policy_created(db_url)) >= 1:
                    break
                time.sleep(1)
            text = log.read_text()
            assert count >= 1, f"no policy-created events in raw.events; log tail:\n{text[-4000:]}"
            for name in ("indexer", "devnet", "simulator", "transforms", "keeper"):
                assert re.search(rf"started {name} \(pid \d+\)", text), name
            assert "exited with code" not in text, text[-4000:]
            assert re.search(rf"api +http://\S+:{ports['API_PORT']}/docs", text), "no API docs URL in the banner"
            banner = text[text.index("BitHedge is up."):].splitlines()
            assert re.search(rf"dashboards +http://\S+:{ports['DASHBOARDS_PORT']}", banner[1]), banner[:3]
            with psycopg.connect(db_url) as conn:
                # the chain got to the indexer live (observer requests, not backfill), with no dead letters
                sources = dict(conn.execute(
                    "SELECT source, count(*) FROM raw.observer_requests GROUP BY 1").fetchall())
                dead = conn.execute("SELECT count(*) FROM raw.dead_letters").fetchone()[0]
                names = {r[0] for r in conn.execute(
                    "SELECT DISTINCT value #>> '{value,event,value}' FROM raw.events WHERE canonical "
                    "AND topic = 'print' AND contract_identifier LIKE %s", (f"{DEPLOYER}.bithedge-%",))}
                # least privilege: each daemon connects as its own role, never as the admin
                recorded = conn.execute("SELECT code_hash FROM raw.chain_identity").fetchall()
                writers = {r[0] for r in conn.execute(
                    "SELECT DISTINCT usename FROM pg_stat_activity WHERE datname = current_database() "
                    "AND backend_type = 'client backend' AND pid <> pg_backend_pid()")}
            assert sources.get("observer", 0) > 10 and dead == 0, (sources, dead)
            assert "bithedge_indexer" in writers, writers
            assert writers <= {"bithedge_indexer", "bithedge_transform", "bithedge_keeper", "bithedge_api",
                               "bithedge_notify", "bithedge_reader"}, writers
            assert len(recorded) == 1 and len(recorded[0][0]) == 64, recorded  # the devnet's chain, at first start
            assert {"price-submitted", "pool-deposit", "policy-created"} <= names, names
            seen |= descendants(proc.pid)
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=90) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert len(seen) >= 4  # postgres, indexer, devnet wrapper + node, simulator
    left = sorted(p for p in seen if alive(p))
    assert not left, f"still running after shutdown: {left}"
    assert "database stopped" in log.read_text()
    status = subprocess.run([sys.executable, "-m", "bithedge", "db", "status"], env=env, capture_output=True,
                            text=True)
    assert json.loads(status.stdout)["running"] is False

    # A database that recorded a chain of other contracts: `bithedge up` refuses before the indexer starts,
    # naming the command that starts over.
    url = subprocess.run([sys.executable, "-m", "bithedge", "db", "start"], env=env, capture_output=True,
                         text=True, check=True).stdout.strip()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("UPDATE raw.chain_identity SET code_hash = repeat('0', 64)")
    refused = subprocess.run([sys.executable, "-m", "bithedge", "up"], env=env, capture_output=True, text=True,
                             timeout=300)
    assert refused.returncode == 1, refused.stdout[-3000:]
    assert "other contracts" in refused.stdout and "bithedge up --reset-chain" in refused.stdout
    assert "started indexer" not in refused.stdout and "database stopped" in refused.stdout
