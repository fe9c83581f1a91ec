"""The keeper's tables and keys: the audit trail is append-only for every role, bithedge_keeper writes only its
schema, the transforms' views over the keeper's tables (analytics.oracle_sources, keeper_transactions, alerts)
compute what they document, and keys load from the environment or a 0600 file without ever being shown."""

from __future__ import annotations

import asyncio
import json

import psycopg
import pytest

from bithedge.database import role_url
from bithedge.settings import Settings
from keeper.keys import KeyConfigError, load_signer
from transforms.runner import Dbt

KEY = "7287ba251d44a4d3fd9276c88ce34c5c52a038955511cccaf77e61068649c17801"  # DEVNET ONLY: wallet_1


def _keeper(db_url: str) -> psycopg.Connection:
    return psycopg.connect(role_url(db_url, "bithedge_keeper"), autocommit=True)


def test_audit_is_append_only_for_every_role(db_url):
    with _keeper(db_url) as conn:
        conn.execute("INSERT INTO keeper.audit (kind, inputs) VALUES ('decision', '{}')")
        for stmt in ("UPDATE keeper.audit SET outcome = 'x'", "DELETE FROM keeper.audit",
                     "TRUNCATE keeper.audit"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(stmt)
    with psycopg.connect(db_url, autocommit=True) as admin:  # the owner (a superuser here): the trigger refuses
        for stmt in ("UPDATE keeper.audit SET outcome = 'x'", "DELETE FROM keeper.audit", "TRUNCATE keeper.audit"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
                admin.execute(stmt)
        assert admin.execute("SELECT count(*) FROM keeper.audit").fetchone()[0] == 1


def test_keeper_writes_only_its_schema_and_ledger_keys_are_unique(db_url):
    with _keeper(db_url) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("CREATE TABLE analytics.nope (x int)")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT 1 FROM raw.blocks")
        conn.execute("INSERT INTO keeper.signers (address, label, next_nonce) VALUES ('ST1', 'oracle', 0)")
        row = ("ST1", 0, "submit-price", 3000, "\\x00")
        conn.execute("INSERT INTO keeper.transactions (address, nonce, kind, fee, txid, raw_tx, status) "
                     "VALUES (%s, %s, %s, %s, '0x01', %s, 'signed')", row)
        with pytest.raises(psycopg.errors.UniqueViolation):  # one transaction per (address, nonce)
            conn.execute("INSERT INTO keeper.transactions (address, nonce, kind, fee, txid, raw_tx, status) "
                         "VALUES (%s, %s, %s, %s, '0x02', %s, 'signed')", row)
        conn.execute("INSERT INTO keeper.intents (kind, expiry, policy_ids, status) VALUES ('settle', 9, '{1,2}', 'sent')")
        with pytest.raises(psycopg.errors.UniqueViolation):  # exactly once per (kind, expiry, ids)
            conn.execute("INSERT INTO keeper.intents (kind, expiry, policy_ids, status) "
                         "VALUES ('settle', 9, '{1,2}', 'sent')")


def _quote(source: str, price: int | None, status: str = "ok", latency: float = 10.0, reason=None) -> dict:
    return {"source": source, "asset": "BTC", "pair": "BTC-USD", "price_usd": price, "raw": str(price),
            "observed_at": None, "latency_ms": latency, "status": status, "reason": reason, "quote_ccy": "USD"}


async def test_the_keeper_views_compute_what_they_document(db_url, tmp_path):
    with _keeper(db_url) as conn:
        rounds = [
            [_quote("kraken", 10_000), _quote("okx", 10_100, latency=30.0), _quote("binance", None, "excluded",
                                                                                  reason="rate-limited (HTTP 429)")],
            [_quote("kraken", 10_000), _quote("okx", 9_900, latency=50.0), _quote("binance", 10_000)],
        ]
        for quotes in rounds:
            conn.execute("INSERT INTO keeper.price_rounds (asset, at, burn_height, stacks_height, median, quorum, "
                         "quotes, decision) VALUES ('BTC', now(), 1, 2, 10000, true, %s, 'publish')",
                         (json.dumps(quotes),))
        conn.execute("INSERT INTO keeper.signers (address, label, next_nonce) VALUES ('ST1', 'settler', 1)")
        conn.execute("INSERT INTO keeper.transactions (address, nonce, kind, fee, txid, raw_tx, status, "
                     "first_sent_stacks_height, confirmed_stacks_height) "
                     "VALUES ('ST1', 0, 'settle-expired', 3375, '0xab', '\\xdead', 'confirmed', 10, 12)")
        conn.execute("INSERT INTO keeper.alerts (kind, subject, message) VALUES ('quorum-lost', 'STX', 'no quorum')")
    dbt = Dbt(role_url(db_url, "bithedge_transform"), work_dir=tmp_path)
    out = await asyncio.to_thread(dbt.run, "build", "--select", "path:models/keeper")
    assert out.success, out.errors
    with psycopg.connect(role_url(db_url, "bithedge_reader")) as reader:
        src = {r[0]: r[1:] for r in reader.execute(
            "SELECT source, rounds, usable_rounds, uptime, median_latency_ms, mean_abs_deviation_bp, "
            "last_exclusion_reason FROM analytics.oracle_sources WHERE asset = 'BTC'").fetchall()}
        tx = reader.execute("SELECT signer_role, blocks_to_confirm, fee FROM analytics.keeper_transactions").fetchone()
        cols = {r[0] for r in reader.execute("SELECT column_name FROM information_schema.columns WHERE "
                                             "table_schema = 'analytics' AND table_name = 'keeper_transactions'")}
        alert = reader.execute("SELECT kind, open FROM analytics.alerts").fetchone()
    assert src["okx"][:3] == (2, 2, 1) and float(src["okx"][3]) == 40.0 and float(src["okx"][4]) == 100.0
    assert src["binance"][:3] == (2, 1, 0.5) and src["binance"][5] == "rate-limited (HTTP 429)"
    assert tx == ("settler", 2, 3375)
    assert "raw_tx" not in cols  # signed bytes stay in the keeper schema
    assert alert == ("quorum-lost", True)


def _settings(**kw) -> Settings:
    base = {"keeper_oracle_key": None, "keeper_oracle_key_file": None, "keeper_settler_key": None,
            "keeper_settler_key_file": None}
    return Settings(**{**base, **kw})


def test_keys_from_env_or_a_private_file_and_never_shown(tmp_path):
    s = load_signer(_settings(keeper_settler_key=KEY), "settler", devnet=False)
    assert s.address == "ST1SJ3DTE5DN7X54YDH5D64R3BCB6A2AG2ZQ8YPD5" and s.source == "env"
    assert KEY[:20] not in repr(s) and KEY[:20] not in str(s)
    path = tmp_path / "settler.key"
    path.write_text(KEY + "\n")
    path.chmod(0o644)
    with pytest.raises(KeyConfigError, match="readable by others") as exc:
        load_signer(_settings(keeper_settler_key_file=path), "settler", devnet=False)
    assert KEY[:20] not in str(exc.value)
    path.chmod(0o600)
    assert load_signer(_settings(keeper_settler_key_file=path), "settler", devnet=False).address == s.address
    path.write_text("not-a-key-" + KEY[10:])
    with pytest.raises(KeyConfigError, match="not a private key") as exc:
        load_signer(_settings(keeper_settler_key_file=path), "settler", devnet=False)
    assert KEY[10:30] not in str(exc.value)


def test_devnet_keys_only_on_a_devnet():
    assert load_signer(_settings(), "oracle", devnet=True).address == "ST2CY5V39NHDPWSXMW9QDT3HC3GD6Q6XX4CFRK9AG"
    with pytest.raises(KeyConfigError, match="not a devnet"):
        load_signer(_settings(), "oracle", devnet=False)


def test_status_prints_the_keepers_state_as_json(db_url):
    import os
    import subprocess
    import sys

    with _keeper(db_url) as conn:
        conn.execute("INSERT INTO keeper.signers (address, label, next_nonce) VALUES ('ST1', 'oracle', 4)")
        conn.execute("INSERT INTO keeper.alerts (kind, subject, message) VALUES ('tx-stuck', '0xab', 'stuck')")
    env = {**os.environ, "DATABASE_URL": role_url(db_url, "bithedge_keeper"), "BITHEDGE_LOG_LEVEL": "warning"}
    out = subprocess.run([sys.executable, "-m", "bithedge", "keeper", "status"], env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    status = json.loads(out.stdout)
    assert status["signers"][0]["next_nonce"] == 4 and status["open_alerts"][0]["kind"] == "tx-stuck"
    assert set(status) == {"signers", "transactions", "intents", "open_alerts", "last_rounds"}
