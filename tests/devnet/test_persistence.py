"""Restart: the chain log replays, undelivered observer payloads are re-delivered; --reset starts over;
and the ``bithedge devnet`` command itself (prints its RPC URL, mines on a timer, stops on SIGTERM)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from stacks.rpc import StacksClient
from tests.processes import alive, descendants, free_port
from tests.support.devnet import (
    DEPLOYER,
    RecordingObserver,
    Signer,
    needs_node,
    new_key,
    start_devnet_async,
)

pytestmark = needs_node


async def test_restart_redelivers_and_replays(tmp_path):
    obs = await RecordingObserver().start()
    obs.status = 503  # down: nothing is acknowledged
    data = tmp_path / "chain"
    try:
        p = await start_devnet_async(data, observers=[obs.url], blocking=False)
        try:
            async with StacksClient(p.rpc_url) as c:
                s = Signer(new_key())
                await c.faucet(s.address, 5_000_000)
                await c.mine()
                txid = await c.broadcast(s.transfer(DEPLOYER, 777))
                await c.mine(3)
                tip = (await c.status())["chain_tip"]
                await obs.wait_for(lambda: obs.attempts >= 2)  # it is retrying
                assert (await c.devnet_status())["observers"][0]["backlog"] > 0
        finally:
            p.stop()
        assert obs.requests == []

        obs.status = 200
        p = await start_devnet_async(data, observers=[obs.url], blocking=False)
        try:
            async with StacksClient(p.rpc_url) as c:
                # same chain after replay
                again = (await c.status())["chain_tip"]
                assert again == tip
                assert (await c.transaction(txid))["tx_status"] == "success"
                assert (await c.account(s.address)).nonce == 1
                # everything that was never acknowledged arrives, in order, exactly once
                await obs.wait_for(lambda: any(b["block_height"] == tip["block_height"] for b in obs.blocks()))
                heights = [b["block_height"] for b in obs.blocks()]
                assert heights == list(range(0, tip["block_height"] + 1))
                parent = "0x" + "00" * 32
                for b in obs.blocks():
                    assert b["parent_index_block_hash"] == parent
                    parent = b["index_block_hash"]
                assert parent == tip["index_block_hash"]
                assert obs.paths("/new_mempool_tx")
                # new blocks continue the same chain
                await c.mine()
                await obs.wait_for(lambda: obs.blocks()[-1]["block_height"] == tip["block_height"] + 1)
                assert obs.blocks()[-1]["parent_index_block_hash"] == tip["index_block_hash"]
        finally:
            p.kill()  # crash: the log is already on disk

        p = await start_devnet_async(data, observers=[obs.url], blocking=False, reset=True)
        try:
            async with StacksClient(p.rpc_url) as c:
                fresh = (await c.status())["chain_tip"]
                assert fresh["block_height"] < tip["block_height"]
                assert (await c.transaction(txid)) is None
        finally:
            p.stop()
    finally:
        await obs.stop()


async def test_bithedge_devnet_command(tmp_path):
    port = free_port()
    env = {**os.environ, "BITHEDGE_DATA_DIR": str(tmp_path)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "bithedge", "devnet", "--port", str(port), "--block-time", "300"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env, start_new_session=True,
    )
    try:
        line = await asyncio.wait_for(asyncio.to_thread(proc.stdout.readline), 180)
        assert line.strip() == f"http://127.0.0.1:{port}"
        async with StacksClient(line.strip()) as c:
            h0 = (await c.info())["stacks_tip_height"]
            for _ in range(100):
                await asyncio.sleep(0.2)
                if (await c.info())["stacks_tip_height"] >= h0 + 2:
                    break
            assert (await c.info())["stacks_tip_height"] >= h0 + 2  # mined on its own timer
        assert (tmp_path / "devnet" / "chain.log").exists()
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(proc.wait, 30) == 0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


async def test_bithedge_devnet_exits_with_the_node_crash(tmp_path):
    """Run alone, the command restarts nothing: a Node crash ends it with Node's status (the supervisor of
    ``bithedge up`` restarts it), and the next start replays the chain log."""
    port = free_port()
    env = {**os.environ, "BITHEDGE_DATA_DIR": str(tmp_path)}
    argv = [sys.executable, "-m", "bithedge", "devnet", "--port", str(port), "--block-time", "0"]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            start_new_session=True)
    try:
        line = await asyncio.wait_for(asyncio.to_thread(proc.stdout.readline), 180)
        async with StacksClient(line.strip()) as c:
            tip = (await c.mine())["tip"]
        (node,) = [p for p in descendants(proc.pid) if "server.cjs" in Path(f"/proc/{p}/cmdline").read_text()]
        os.kill(node, signal.SIGKILL)
        _, err = await asyncio.to_thread(proc.communicate, timeout=30)
        assert proc.returncode == 128 + signal.SIGKILL
        assert "devnet stopped: the Node process exited" in err and "start it again" in err
        assert not alive(node)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    again = await start_devnet_async(tmp_path / "devnet")
    try:
        assert again.ready["tip"] == tip and not again.ready["fresh"]
    finally:
        again.stop()
