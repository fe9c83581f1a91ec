from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "devnet"))

from devnet_helpers import RecordingObserver, start_devnet_async  # noqa: E402

if shutil.which("node") is None:  # pragma: no cover
    pytest.skip("node is not installed", allow_module_level=True)


@pytest.fixture(scope="session")
async def sim_observer():
    obs = await RecordingObserver().start()
    yield obs
    await obs.stop()


@pytest.fixture(scope="session")
async def sim_devnet(sim_observer, tmp_path_factory):
    proc = await start_devnet_async(tmp_path_factory.mktemp("simdevnet"), observers=[sim_observer.url])
    yield proc
    proc.stop()
