"""The devnet records its contracts' code hash at genesis; a database or data dir of another chain is refused.

A fake changed contract (a copy of the project with one source edited) gives another code hash; the database
that recorded the real one refuses it with the reset command, and a data dir built from the real contracts
refuses to start on the changed ones. ``reset_chain`` empties raw.* and deletes the devnet's chain."""

from __future__ import annotations

import shutil
from pathlib import Path

import psycopg
import pytest

from bithedge.chain_guard import RESET_COMMAND, ChainMismatch, check_and_record, reset_chain
from bithedge.devnet import DEFAULT_MANIFEST, EXIT_PROJECT_CHANGED
from stacks.rpc import StacksClient
from tests.support.devnet import needs_node, start_devnet_async

pytestmark = needs_node


def _changed_project(tmp_path: Path) -> Path:
    """A copy of the Clarinet project whose first contract source has one more comment line."""
    src = DEFAULT_MANIFEST.parent
    dst = tmp_path / "project"
    dst.mkdir()
    for item in ("Clarinet.toml", "contracts", "settings", "devnet-setup.json"):
        (shutil.copytree if (src / item).is_dir() else shutil.copy)(src / item, dst / item)
    first = sorted((dst / "contracts").glob("*.clar"))[0]
    first.write_text(first.read_text() + "\n;; changed by the test\n")
    return dst / "Clarinet.toml"


async def _chain(rpc_url: str) -> dict:
    async with StacksClient(rpc_url) as c:
        return (await c.devnet_status())["chain"]


async def test_changed_contracts_are_refused_by_the_database_and_the_data_dir(devnet, db_url, tmp_path):
    real = await _chain(devnet.rpc_url)
    assert real["contracts"] and len(real["code_hash"]) == 64 and real == devnet.ready["chain"]

    manifest = _changed_project(tmp_path)
    data = tmp_path / "changed-devnet"
    other = await start_devnet_async(data, manifest=manifest)
    try:
        changed = await _chain(other.rpc_url)
    finally:
        other.stop()
    assert changed["contracts"] == real["contracts"] and changed["code_hash"] != real["code_hash"]

    assert check_and_record(db_url, real) is True  # first start: recorded
    assert check_and_record(db_url, real) is False  # same chain: fine
    with pytest.raises(ChainMismatch) as info:
        check_and_record(db_url, changed)
    assert changed["code_hash"] in str(info.value) and RESET_COMMAND in str(info.value)
    with pytest.raises(ChainMismatch, match="genesis"):
        check_and_record(db_url, {**real, "genesis_id": changed["genesis_id"]})
    with psycopg.connect(db_url) as conn:
        assert conn.execute("SELECT code_hash FROM raw.chain_identity").fetchall() == [(real["code_hash"],)]

    # the data dir of the changed chain, started on the real contracts: refused before it serves anything
    with pytest.raises(RuntimeError, match=f"status {EXIT_PROJECT_CHANGED}"):
        await start_devnet_async(data, log_name="refused.log")
    assert "start with --reset" in (data / "refused.log").read_text()


def test_blocks_without_a_recorded_chain_are_refused_and_reset_empties_raw(db_url, tmp_path):
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("INSERT INTO raw.observer_requests (path, body_size, outcome) VALUES ('/new_block', 0, 'block')")
        conn.execute("INSERT INTO raw.blocks (index_block_hash, block_hash, block_height, parent_index_block_hash, "
                     "nakamoto, tx_count, event_count, canonical, request_id) "
                     "VALUES ('\\x01', '\\x02', 1, '\\x00', false, 0, 0, true, 1)")
    chain = {"code_hash": "ab" * 32, "genesis_id": "00", "contracts": ["ST1.x"]}
    with pytest.raises(ChainMismatch, match="never recorded"):
        check_and_record(db_url, chain)

    devnet_dir = tmp_path / "devnet"
    (devnet_dir / "observers").mkdir(parents=True)
    (devnet_dir / "chain.log").write_text("{}\n")
    with psycopg.connect(db_url) as busy:
        busy.execute("SELECT 1")
        with pytest.raises(ChainMismatch, match="other session"):
            reset_chain(db_url, devnet_dir)
    assert devnet_dir.exists()
    emptied = reset_chain(db_url, devnet_dir)
    assert {"blocks", "observer_requests", "chain_identity"} <= set(emptied)
    assert not devnet_dir.exists()
    with psycopg.connect(db_url) as conn:
        assert conn.execute("SELECT (SELECT count(*) FROM raw.blocks) + (SELECT count(*) FROM raw.observer_requests)"
                            ).fetchone() == (0,)
    assert check_and_record(db_url, chain) is True
