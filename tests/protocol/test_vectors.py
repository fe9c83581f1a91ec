"""The committed vector file is what the generator produces now, and the Python functions reproduce
every case of it (the Clarity VM side is contracts/tests/vectors.test.ts)."""

from __future__ import annotations

import json

import pytest

from bithedge.protocol import vectors
from bithedge.protocol.quotes import Quote, quote_digest, sign_quote

DOC = json.loads(vectors.VECTOR_FILE.read_text())


def test_committed_file_is_current():
    assert vectors.VECTOR_FILE.read_text() == vectors.render(vectors.build(vectors.devnet_quote_signer())), (
        "contracts/tests/vectors/protocol-vectors.json is stale: run python -m bithedge.protocol.vectors")


def test_check_mode_reports_a_stale_file(tmp_path, capsys):
    stale = tmp_path / "v.json"
    stale.write_text("{}\n")
    assert vectors.main(["--check", "--out", str(stale)]) == 1
    assert "STALE" in capsys.readouterr().out
    assert vectors.main(["--out", str(stale)]) == 0
    assert vectors.main(["--check", "--out", str(stale)]) == 0


def test_every_formula_has_edge_and_random_cases():
    for name, formula in DOC["formulas"].items():
        kinds = {c["case"].split(":")[0] for c in formula["cases"]}
        assert "edge" in kinds, name
        if name not in ("token_info", "settlement_price", "no_settlement_price", "quote_window", "void_policy"):  # discrete
            assert "random" in kinds, name


def _value(text):
    if text is None:
        return None
    return int(text) if text.lstrip("-").isdigit() else {"true": True, "false": False}.get(text, text)


@pytest.mark.parametrize("name", sorted(set(DOC["formulas"]) - {"quote_digest"}))
def test_python_reproduces_each_case(name):
    formula, header = vectors.FORMULAS[name], DOC["formulas"][name]
    assert header["inputs"] == formula.inputs and header["outputs"] == formula.outputs
    for case in header["cases"]:
        _, again = vectors._case(formula, case["case"], **{k: _value(case[k]) for k in formula.inputs})
        assert again == case, case["case"]
        for out in formula.outputs:  # flat, SQL-friendly: no nested values, no JSON numbers
            assert case[out] is None or isinstance(case[out], str)


def test_python_reproduces_quote_digests_and_signatures():
    key = vectors.devnet_quote_signer()
    fields = [k for k in DOC["formulas"]["quote_digest"]["inputs"] if k not in ("registry", "chain_id")]
    for case in DOC["formulas"]["quote_digest"]["cases"]:
        q = Quote(**{k: _value(case[k]) for k in fields})
        assert quote_digest(q, case["registry"], int(case["chain_id"])).hex() == case["digest"]
        assert sign_quote(q, key, case["registry"], int(case["chain_id"])).hex() == case["signature_rsv"]
