"""The named error enums are exactly the `ERR-*` constants of the contract sources."""

from __future__ import annotations

import re

from bithedge.protocol.errors import BY_CONTRACT, RegistryError, VaultError, error_of
from bithedge.settings import REPO_ROOT

ERR = re.compile(r"\(define-constant ERR-([A-Z0-9-]+) \(err u(\d+)\)\)")


def test_enums_match_the_contract_sources():
    for contract, enum in BY_CONTRACT.items():
        source = (REPO_ROOT / "contracts" / "contracts" / f"bithedge-{contract}.clar").read_text()
        declared = {name.replace("-", "_"): int(code) for name, code in ERR.findall(source)}
        assert declared == {e.name: e.value for e in enum}, contract


def test_codes_mean_one_thing_and_are_looked_up():
    names: dict[int, str] = {}
    for enum in BY_CONTRACT.values():
        for e in enum:
            assert names.setdefault(e.value, e.name) == e.name, e  # a shared code (206) shares its meaning
    assert error_of(403) is RegistryError.QUOTE_USED
    assert error_of(309) is VaultError.UTILIZATION
    assert error_of(999) is None
