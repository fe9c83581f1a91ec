"""Contract identifiers, all derived from one deployer address.

The default deployer is the devnet's (`contracts/settings/devnet-accounts.json`, label `deployer`;
`tests/protocol/test_deployment.py` keeps the two equal). Code and tests take contract ids from a
:class:`Deployment` instead of writing addresses."""

from __future__ import annotations

from dataclasses import dataclass

#: DEVNET ONLY: the deployer of the well-known Clarinet devnet mnemonic.
DEVNET_DEPLOYER = "ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM"

#: The sBTC SIP-010 token: a boot contract of simnet and devnet, not deployed by BitHedge.
SBTC_TOKEN = "SM3VDXK3WZZSA84XXFKAFAF15NNZX32CTSG82JFQ4.sbtc-token"

#: Contract names in deployment order (`contracts/Clarinet.toml`).
CONTRACT_NAMES = (
    "bithedge-parameters",
    "bithedge-oracle",
    "bithedge-vault",
    "bithedge-treasury",
    "bithedge-insurance-fund",
    "bithedge-policy-registry",
    "bithedge-governance",
)


@dataclass(frozen=True)
class Deployment:
    """The BitHedge contracts deployed by ``deployer`` (a standard principal)."""

    deployer: str = DEVNET_DEPLOYER

    def contract_id(self, name: str) -> str:
        """``deployer.name`` for one of :data:`CONTRACT_NAMES`."""
        if name not in CONTRACT_NAMES:
            raise ValueError(f"unknown BitHedge contract {name!r}; known: {', '.join(CONTRACT_NAMES)}")
        return f"{self.deployer}.{name}"

    @property
    def parameters(self) -> str:
        return self.contract_id("bithedge-parameters")

    @property
    def oracle(self) -> str:
        return self.contract_id("bithedge-oracle")

    @property
    def vault(self) -> str:
        return self.contract_id("bithedge-vault")

    @property
    def treasury(self) -> str:
        return self.contract_id("bithedge-treasury")

    @property
    def insurance_fund(self) -> str:
        return self.contract_id("bithedge-insurance-fund")

    @property
    def registry(self) -> str:
        return self.contract_id("bithedge-policy-registry")

    @property
    def governance(self) -> str:
        return self.contract_id("bithedge-governance")

    def contract_ids(self) -> dict[str, str]:
        """Every contract name -> its id, in deployment order."""
        return {name: self.contract_id(name) for name in CONTRACT_NAMES}


DEVNET = Deployment()
