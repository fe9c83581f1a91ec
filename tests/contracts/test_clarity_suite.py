"""Runs the Clarity contract suite (vitest + @stacks/clarinet-sdk simnet in contracts/) from pytest.

The suite runs fully offline once node_modules exists; `npm install --no-save` installs it from the lockfile
otherwise. Assertions are made on vitest's JSON report, not on its exit code alone.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

CONTRACTS = Path(__file__).resolve().parents[2] / "contracts"


def _run(cmd: list[str], timeout: int) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CI": "1", "FORCE_COLOR": "0", "NO_COLOR": "1"}
    return subprocess.run(cmd, cwd=CONTRACTS, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def npm() -> str:
    exe = shutil.which("npm")
    if exe is None or shutil.which("node") is None:
        pytest.fail("node and npm are required to run the Clarity contract suite (Node >= 20)")
    if not (CONTRACTS / "node_modules" / "@stacks" / "clarinet-sdk").is_dir():
        proc = _run([exe, "install", "--no-save", "--no-audit", "--no-fund"], timeout=600)
        assert proc.returncode == 0, f"npm install failed:\n{proc.stdout}\n{proc.stderr}"
    return exe


def test_clarity_contract_suite(npm: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "vitest.json"
        proc = _run(
            [npm, "test", "--", "--reporter=default", "--reporter=json", f"--outputFile.json={report}"],
            timeout=1800,
        )
        output = f"{proc.stdout[-20000:]}\n{proc.stderr[-5000:]}"
        assert report.exists(), f"vitest wrote no JSON report (exit {proc.returncode}):\n{output}"
        results = json.loads(report.read_text())

    failed = [
        f"{Path(suite['name']).name} > {t.get('fullName') or t.get('title')}: {' '.join(t.get('failureMessages') or [])[:2000]}"
        for suite in results.get("testResults", [])
        for t in suite.get("assertionResults", [])
        if t.get("status") == "failed"
    ]
    broken_files = [
        f"{Path(s['name']).name}: {s.get('message', '')[:2000]}"
        for s in results.get("testResults", [])
        if s.get("status") == "failed"
        and not any(t.get("status") == "failed" for t in s.get("assertionResults", []))
    ]
    assert not failed, "failing Clarity tests:\n" + "\n".join(failed) + f"\n\n{output}"
    assert not broken_files, "test files failed to run:\n" + "\n".join(broken_files) + f"\n\n{output}"
    assert results["numFailedTests"] == 0, output
    assert results["numTotalTests"] > 0 and results["numPassedTests"] > 0, f"no tests ran:\n{output}"
    assert (
        results["numPassedTests"] + results.get("numPendingTests", 0) + results.get("numTodoTests", 0)
        == results["numTotalTests"]
    ), output
    assert proc.returncode == 0, f"vitest exited {proc.returncode}:\n{output}"
