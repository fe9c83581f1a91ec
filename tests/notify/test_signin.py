"""Wallet sign-in through the API: SIP-018 challenge, signature, session token; replay, expiry and bad
signatures refused; tokens hashed at rest and revocable; a second address linked by its own signature."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from stacks import sip018
from tests.notify.conftest import address_of, sign_challenge, sign_in

ALICE = "11" * 32 + "01"
BOB = "22" * 32 + "01"


async def test_sign_in_and_profile(api, admin):
    client = await api()
    session = await sign_in(client, ALICE)
    token = session["token"]
    resp = await client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
    me = await resp.json()
    assert resp.status == 200 and me["addresses"] == [address_of(ALICE)]
    stored = await admin.fetch("SELECT prefix, digest FROM notify.sessions")
    assert len(stored) == 1 and token not in repr([dict(r) for r in stored])  # only a prefix and a digest
    subs = await (await client.get("/v1/me/subscriptions", headers={"Authorization": f"Bearer {token}"})).json()
    assert {s["kind"] for s in subs} >= {"policy_settled", "policy_expiring", "pool_coverage_low"}
    again = await sign_in(client, ALICE)  # same wallet, same user, a new session
    assert again["user_id"] == session["user_id"] and again["token"] != token


async def test_challenge_is_sip018_with_server_domain(api):
    client = await api(notify_signin_domain="BitHedge Test", notify_chain_id=sip018.TESTNET_CHAIN_ID)
    resp = await client.post("/v1/auth/challenge", json={"address": address_of(ALICE)})
    challenge = await resp.json()
    domain = challenge["domain"]["value"]
    assert domain["name"]["value"] == "BitHedge Test" and domain["chain-id"]["value"] == str(sip018.TESTNET_CHAIN_ID)
    message = challenge["message"]["value"]
    assert message["nonce"]["value"] == challenge["nonce"]
    assert message["address"]["value"] == address_of(ALICE)


async def test_replay_expiry_and_bad_signatures_refused(api, admin):
    client = await api()
    address = address_of(ALICE)
    challenge = await (await client.post("/v1/auth/challenge", json={"address": address})).json()
    good = sign_challenge(challenge, ALICE)
    # signed by another wallet, by the draft prefix, high-S: refused, and the challenge stays usable
    for bad in (sign_challenge(challenge, BOB), sign_challenge(challenge, ALICE, prefix=sip018.DRAFT_PREFIX),
                good[:-2] + "07"):
        resp = await client.post("/v1/auth/signin", json={"nonce": challenge["nonce"], "signature": bad})
        assert resp.status == 401
        assert (await resp.json())["type"] == "urn:bithedge:signin-refused"
    assert (await client.post("/v1/auth/signin", json={"nonce": challenge["nonce"], "signature": good})).status == 201
    replay = await client.post("/v1/auth/signin", json={"nonce": challenge["nonce"], "signature": good})
    assert replay.status == 401 and "already used" in (await replay.json())["detail"]
    expired = await (await client.post("/v1/auth/challenge", json={"address": address})).json()
    await admin.execute("UPDATE notify.signin_challenges SET expires_at = now() - interval '1 second'"
                        " WHERE nonce = $1", expired["nonce"])
    resp = await client.post("/v1/auth/signin", json={"nonce": expired["nonce"],
                                                      "signature": sign_challenge(expired, ALICE)})
    assert resp.status == 401 and "expired" in (await resp.json())["detail"]


@pytest.mark.parametrize("address,status", [
    ("SP1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRCBGD7R", 422),  # testnet chain: a mainnet address is refused
    ("SN2J6ZY48GV1EZ5V2V5RB9MP66SW86PYKKQ9H6DPR", 422),  # and a multi-sig one
    ("ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGN", 422),  # bad checksum
    ("ST-not-an-address", 400),                          # not c32 characters at all
])
async def test_bad_address_is_4xx(api, address, status):
    client = await api()
    resp = await client.post("/v1/auth/challenge", json={"address": address})
    assert resp.status == status, await resp.text()


async def test_revoke_and_user_keys(api, capsys):
    client = await api()
    token = (await sign_in(client, ALICE))["token"]
    auth = {"Authorization": f"Bearer {token}"}
    key = await (await client.post("/v1/me/keys", json={"label": "ci"}, headers=auth)).json()
    assert (await client.get("/v1/me", headers={"Authorization": f"Bearer {key['token']}"})).status == 200
    sessions = await (await client.get("/v1/me/sessions", headers=auth)).json()
    assert key["token"] not in repr(sessions) and token not in repr(sessions)
    api_key = next(s for s in sessions if s["kind"] == "api_key")
    assert (await client.delete(f"/v1/me/sessions/{api_key['session_id']}", headers=auth)).status == 200
    assert (await client.get("/v1/me", headers={"Authorization": f"Bearer {key['token']}"})).status == 401
    assert (await client.post("/v1/auth/signout", headers=auth)).status == 200
    assert (await client.get("/v1/me", headers=auth)).status == 401
    assert (await client.get("/v1/me", headers={"Authorization": "Bearer bhs_000000000000_x"})).status == 401
    logged = capsys.readouterr()
    assert token not in logged.out + logged.err and key["token"] not in logged.out + logged.err


async def test_link_second_address(api):
    client = await api()
    token = (await sign_in(client, ALICE))["token"]
    auth = {"Authorization": f"Bearer {token}"}
    challenge = await (await client.post("/v1/me/addresses/challenge", json={"address": address_of(BOB)},
                                         headers=auth)).json()
    resp = await client.post("/v1/me/addresses", headers=auth,
                             json={"nonce": challenge["nonce"], "signature": sign_challenge(challenge, BOB)})
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["addresses"] == [address_of(ALICE), address_of(BOB)]
    # Bob signing in now is Alice's user
    assert (await sign_in(client, BOB))["user_id"] == (await sign_in(client, ALICE))["user_id"]


async def test_admin_cli(api, admin, db_url, tmp_path):
    client = await api()
    session = await sign_in(client, ALICE)
    env = {**os.environ, "DATABASE_URL": db_url, "BITHEDGE_DATA_DIR": str(tmp_path)}
    for args, want in ((["notify", "admin", address_of(ALICE)], True),
                       (["notify", "admin", "--revoke", address_of(ALICE)], False)):
        done = subprocess.run([sys.executable, "-m", "bithedge", *args], env=env, capture_output=True, text=True,
                              timeout=60)
        assert done.returncode == 0, done.stderr
        assert await admin.fetchval("SELECT is_admin FROM notify.users WHERE user_id = $1", session["user_id"]) is want
    unknown = subprocess.run([sys.executable, "-m", "bithedge", "notify", "admin", address_of(BOB)], env=env,
                             capture_output=True, text=True, timeout=60)
    assert unknown.returncode != 0 and "no user has signed in" in unknown.stderr
