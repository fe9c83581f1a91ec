"""The keeper's two signing keys: the oracle submitter and the settler.

A key comes from its ``SecretStr`` setting or from a key file that only its owner can read (mode 0600, checked);
on a devnet (the local one, or a node that serves the BitHedge devnet's ``/devnet/status``, as in
docker-compose) the labelled DEVNET-ONLY keys are the default; against any other node a missing key is an error. A :class:`Signer`
never shows its key: its repr, str and every error name the account, not the secret."""

from __future__ import annotations

import json
import stat
from dataclasses import dataclass, field
from pathlib import Path

from bithedge.settings import REPO_ROOT, Settings
from stacks.address import AddressVersion
from stacks.keys import PrivateKey, parse_private_key

#: DEVNET ONLY: the public devnet accounts the keeper signs with when no key is configured
DEVNET_LABELS = {"oracle": "wallet_2", "settler": "wallet_1"}
DEVNET_ACCOUNTS = REPO_ROOT / "contracts" / "settings" / "devnet-accounts.json"


class KeyConfigError(ValueError):
    """A key could not be loaded; the message names the setting, never the key."""


@dataclass(frozen=True)
class Signer:
    role: str  # oracle | settler
    address: str
    source: str  # where the key came from: env, file or devnet
    key: PrivateKey = field(repr=False, compare=False)

    def __str__(self) -> str:
        return f"{self.role} signer {self.address} (key from {self.source})"


def _from_file(path: Path, setting: str) -> str:
    try:
        st = path.stat()
    except OSError as exc:
        raise KeyConfigError(f"{setting}: cannot read {path}: {exc.strerror}") from None
    if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyConfigError(f"{setting}: {path} is readable by others (mode {stat.S_IMODE(st.st_mode):o}); "
                        f"chmod 600 it")
    return path.read_text().strip()


def _parse(secret: str, setting: str) -> PrivateKey:
    try:
        return parse_private_key(secret)
    except Exception:  # noqa: BLE001 - the parser's message could quote the input
        raise KeyConfigError(f"{setting}: not a private key (32-byte hex, or 33 bytes ending in 01)") from None


def _devnet_key(label: str) -> str:
    accounts = json.loads(DEVNET_ACCOUNTS.read_text())["accounts"]
    return next(a["privateKey"] for a in accounts if a["label"] == label)


def load_signer(settings: Settings, role: str, *, devnet: bool) -> Signer:
    env = f"BITHEDGE_KEEPER_{role.upper()}_KEY"
    secret = getattr(settings, f"keeper_{role}_key")
    path = getattr(settings, f"keeper_{role}_key_file")
    if secret is not None and path is not None:
        raise KeyConfigError(f"{env} and {env}_FILE are both set; use one")
    if secret is not None:
        key, source = _parse(secret.get_secret_value(), env), "env"
    elif path is not None:
        key, source = _parse(_from_file(Path(path), f"{env}_FILE"), f"{env}_FILE"), "file"
    elif devnet:
        key, source = _parse(_devnet_key(DEVNET_LABELS[role]), "devnet"), f"devnet {DEVNET_LABELS[role]} (DEVNET ONLY)"
    else:
        raise KeyConfigError(f"{env} (or {env}_FILE) must be set: the node is not a devnet, so no devnet key is used")
    # testnet/devnet addresses: the contracts are not deployed on mainnet (transactions are signed mainnet=False)
    return Signer(role, key.address(AddressVersion.TESTNET_SINGLE_SIG), source, key)


def load_signers(settings: Settings, *, devnet: bool) -> dict[str, Signer]:
    return {role: load_signer(settings, role, devnet=devnet) for role in ("oracle", "settler")}
