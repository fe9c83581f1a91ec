"""The devnet side of the tests: a recording event observer, devnet processes on free ports, signing, and the
session fixtures every folder shares (registered by ``tests/conftest.py``).

Two session devnets, each with its own observer: ``devnet`` (with ``observer``, ``client``, ``accounts``) runs
the signature worker (``--sig-worker``, opt-in), ``sim_devnet`` (with ``sim_observer``) for the simulator does
not, so both admission paths are exercised and the simulator's traffic never mixes with the devnet tests'.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from aiohttp import web

from bithedge.devnet import DEFAULT_MANIFEST, DevnetProcess, node_argv
from stacks import clarity
from stacks.keys import parse_private_key
from stacks.rpc import StacksClient
from stacks.transaction import PostConditionMode, make_contract_call, make_token_transfer

DEPLOYER = "ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM"
ORACLE = f"{DEPLOYER}.bithedge-oracle"


class RecordingObserver:
    """An event observer on loopback that stores every POST; ``status`` makes it fail on purpose."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, object]] = []
        self.status = 200
        self.attempts = 0
        self.runner: web.AppRunner | None = None
        self.port = 0
        self._changed = asyncio.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.attempts += 1
        if self.status != 200:
            return web.Response(status=self.status, text="not now")
        self.requests.append((request.path, json.loads(body)))
        self._changed.set()
        return web.Response(text="ok")

    async def start(self, port: int = 0) -> RecordingObserver:
        app = web.Application(client_max_size=512 * 1024 * 1024)
        app.router.add_post("/{tail:.*}", self._handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        # Our own bound socket: its port is known without asking aiohttp's internals.
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        self.port = sock.getsockname()[1]
        await web.SockSite(self.runner, sock).start()
        return self

    async def stop(self) -> None:
        if self.runner:
            await self.runner.cleanup()

    def blocks(self) -> list[dict]:
        return [b for p, b in self.requests if p == "/new_block"]

    def paths(self, path: str) -> list:
        return [b for p, b in self.requests if p == path]

    async def wait_for(self, pred: Callable[[], object], timeout: float = 30.0):
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            v = pred()
            if v:
                return v
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError("observer condition not met")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), 0.2)
            except TimeoutError:
                pass


def start_devnet(
    data_dir: Path, *, observers=(), manifest: Path = DEFAULT_MANIFEST, reset: bool = False, blocking: bool = True,
    block_time_ms: int = 0, log_name: str = "devnet.log", **kw,
) -> DevnetProcess:
    """A devnet on a free port (blocking), its stderr in data_dir/<log_name>; caller stops it."""
    data_dir.mkdir(parents=True, exist_ok=True)
    argv = node_argv(
        port=0, observers=list(observers), block_time_ms=block_time_ms, data_dir=data_dir, reset=reset,
        manifest=manifest, blocking=blocking, **kw,
    )
    log = open(data_dir / log_name, "ab")  # noqa: SIM115 - the process owns it
    proc = DevnetProcess(argv, stderr=log)
    proc.start(timeout=180)
    return proc


async def start_devnet_async(data_dir: Path, **kw) -> DevnetProcess:
    return await asyncio.to_thread(start_devnet, data_dir, **kw)


def new_key():
    return parse_private_key(os.urandom(32).hex() + "01")


class Signer:
    """Signs for one key and tracks its next nonce locally."""

    def __init__(self, key, nonce: int = 0) -> None:
        self.key = parse_private_key(key)
        self.address = self.key.address(26)
        self.nonce = nonce

    @classmethod
    async def for_account(cls, client: StacksClient, key) -> Signer:
        s = cls(key)
        s.nonce = (await client.nonces(s.address))["possible_next_nonce"]
        return s

    def call(self, contract: str, fn: str, args, *, fee: int = 3000, nonce: int | None = None,
             mode: PostConditionMode = PostConditionMode.ALLOW, post_conditions=()):
        n = self.nonce if nonce is None else nonce
        tx = make_contract_call(contract=contract, function_name=fn, function_args=list(args), sender_key=self.key,
                                nonce=n, fee=fee, mainnet=False, post_condition_mode=mode,
                                post_conditions=post_conditions)
        if nonce is None:
            self.nonce += 1
        return tx

    def transfer(self, recipient: str, amount: int, *, fee: int = 3000, nonce: int | None = None, memo: bytes = b""):
        n = self.nonce if nonce is None else nonce
        tx = make_token_transfer(recipient=recipient, amount=amount, sender_key=self.key, nonce=n, fee=fee,
                                 mainnet=False, memo=memo, post_condition_mode=PostConditionMode.ALLOW)
        if nonce is None:
            self.nonce += 1
        return tx


def ascii_(s: str):
    return clarity.StringAscii(s)


def uint(n: int):
    return clarity.UInt(n)


needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")


async def _session_observer() -> AsyncIterator[RecordingObserver]:
    obs = await RecordingObserver().start()
    yield obs
    await obs.stop()


async def _session_devnet(observer: RecordingObserver, data_dir: Path, **kw) -> AsyncIterator[DevnetProcess]:
    """One devnet over the real contracts: mining on demand, blocking delivery to ``observer``."""
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    proc = await start_devnet_async(data_dir, observers=[observer.url], **kw)
    yield proc
    proc.stop()


observer = pytest.fixture(scope="session", name="observer")(_session_observer)
sim_observer = pytest.fixture(scope="session", name="sim_observer")(_session_observer)


@pytest.fixture(scope="session")
async def devnet(observer, tmp_path_factory):
    async for proc in _session_devnet(observer, tmp_path_factory.mktemp("devnet"), sig_worker=True):
        yield proc


@pytest.fixture
async def client(devnet):
    async with StacksClient(devnet.rpc_url, retries=2) as c:
        yield c


@pytest.fixture(scope="session")
async def accounts(devnet):
    async with StacksClient(devnet.rpc_url) as c:
        return {a["label"]: a for a in await c.devnet_accounts()}


@pytest.fixture(scope="session")
async def sim_devnet(sim_observer, tmp_path_factory):
    async for proc in _session_devnet(sim_observer, tmp_path_factory.mktemp("simdevnet")):
        yield proc
