"""Contract ids come from one deployer; the default is the devnet's."""

from __future__ import annotations

import json
import re

import pytest

from bithedge.protocol.deployment import CONTRACT_NAMES, DEVNET, DEVNET_DEPLOYER, Deployment
from bithedge.settings import REPO_ROOT


def test_default_deployer_is_the_devnet_accounts_deployer():
    accounts = json.loads((REPO_ROOT / "contracts" / "settings" / "devnet-accounts.json").read_text())["accounts"]
    assert DEVNET_DEPLOYER == next(a["address"] for a in accounts if a["label"] == "deployer")


def test_contract_names_are_the_manifest_contracts_in_order():
    manifest = (REPO_ROOT / "contracts" / "Clarinet.toml").read_text()
    assert tuple(re.findall(r"^\[contracts\.([a-z-]+)\]", manifest, re.M)) == CONTRACT_NAMES


def test_ids_follow_the_deployer():
    other = Deployment("ST2CY5V39NHDPWSXMW9QDT3HC3GD6Q6XX4CFRK9AG")
    assert DEVNET.registry == f"{DEVNET_DEPLOYER}.bithedge-policy-registry"
    assert other.vault == "ST2CY5V39NHDPWSXMW9QDT3HC3GD6Q6XX4CFRK9AG.bithedge-vault"
    assert list(other.contract_ids()) == list(CONTRACT_NAMES)
    with pytest.raises(ValueError, match="unknown BitHedge contract"):
        DEVNET.contract_id("bithedge-nothing")
