from __future__ import annotations

import os
import shutil

import pytest
from devnet_helpers import RecordingObserver, start_devnet_async

from stacks.rpc import StacksClient

if shutil.which("node") is None:  # pragma: no cover
    pytest.skip("node is not installed", allow_module_level=True)


@pytest.fixture(scope="session")
async def observer():
    obs = await RecordingObserver().start()
    yield obs
    await obs.stop()


@pytest.fixture(scope="session")
async def devnet(observer, tmp_path_factory):
    """One devnet over the real contracts for the module's tests: mining on demand, blocking delivery.
    It runs with the signature worker (--sig-worker, opt-in); the devnets other tests start do not, so
    both admission paths are exercised."""
    os.environ["BITHEDGE_DEVNET_SIG_WORKER"] = "1"
    try:
        proc = await start_devnet_async(tmp_path_factory.mktemp("devnet"), observers=[observer.url])
    finally:
        os.environ.pop("BITHEDGE_DEVNET_SIG_WORKER", None)
    yield proc
    proc.stop()


@pytest.fixture
async def client(devnet):
    async with StacksClient(devnet.rpc_url, retries=2) as c:
        yield c


@pytest.fixture(scope="session")
async def accounts(devnet):
    async with StacksClient(devnet.rpc_url) as c:
        return {a["label"]: a for a in await c.devnet_accounts()}
