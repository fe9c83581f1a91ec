"""The SQL side of the one formula set: every case of `contracts/tests/vectors/protocol-vectors.json` (generated
from bithedge/protocol and checked there against the Clarity VM) of each formula with a dbt macro, run through
the macro in Postgres, must give the file's integers. Cases with an `error` (a Clarity runtime error such as a
division by zero) are not SQL's: no model reaches them (the contract refused the transaction)."""

from __future__ import annotations

import json
import math

import psycopg
import pytest

from bithedge.database import role_url
from bithedge.protocol.risk import YEAR_S
from bithedge.protocol.vectors import VECTOR_FILE
from transforms.runner import Dbt

#: formula -> (input columns with their SQL types, {output: macro call over the inputs})
MACROS: dict[str, tuple[dict[str, str], dict[str, str]]] = {
    "token_info": ({"token": "text"}, {
        "scale": "{{ token_scale('token') }}", "asset": "{{ collateral_asset('token') }}"}),
    "ceil_div": ({"a": "numeric", "b": "numeric"}, {"q": "{{ ceil_div('a', 'b') }}"}),
    "usd_diff_to_units": ({"usd_per_btc": "numeric", "amount": "numeric", "scale": "numeric", "price": "numeric"}, {
        "units": "{{ usd_diff_to_units('usd_per_btc', 'amount', 'scale', 'price') }}"}),
    "payout_terms": ({"token": "text", "strike": "numeric", "amount": "numeric", "settle_price": "numeric",
                      "price": "numeric", "collateral": "numeric"}, {
        "uncapped": "{{ intrinsic_units('strike', 'settle_price', 'amount', 'token', 'price') }}",
        "payout": "{{ policy_payout('strike', 'settle_price', 'amount', 'token', 'price', 'collateral') }}"}),
    "policy_terms": ({"token": "text", "strike": "numeric", "amount": "numeric", "spot": "numeric",
                      "price": "numeric", "stress_bp": "numeric"}, {
        "intrinsic": "{{ intrinsic_units('strike', 'spot', 'amount', 'token', 'price') }}",
        "max_payout": "{{ stressed_max_payout('token', 'strike', 'amount', 'price', 'stress_bp') }}",
        "stress_price": "{{ stress_price('price', 'stress_bp') }}",
        "coverage_floor": "{{ coverage_floor('token', 'price', 'stress_bp') }}"}),
    "premium_split": ({"premium": "numeric", "fee_bp": "numeric", "fund_bp": "numeric"}, {
        "fee": "{{ bp_share('premium', 'fee_bp') }}", "fund": "{{ bp_share('premium', 'fund_bp') }}"}),
    "value_of_shares": ({"shares": "numeric", "assets": "numeric", "total_shares": "numeric"}, {
        "value": "{{ shares_value('shares', 'assets', 'total_shares') }}"}),
    "governance_tally": ({"yes": "numeric", "no": "numeric", "total_power": "numeric", "quorum_bp": "numeric",
                          "threshold_bp": "numeric"}, {
        "quorum": "{{ gov_quorum_met('yes', 'no', 'total_power', 'quorum_bp') }}",
        "passed": "{{ gov_quorum_met('yes', 'no', 'total_power', 'quorum_bp') }}"
                  " and {{ gov_threshold_met('yes', 'no', 'threshold_bp') }}"}),
    "bs_put": ({"spot": "numeric", "strike": "numeric", "vol_ppm": "numeric", "seconds": "numeric"}, {
        g: f"{{{{ bs_put_{g}('spot', 'strike', 'vol_ppm / 1e6', 'seconds / {YEAR_S}') }}}}"
        for g in ("value", "delta", "gamma", "vega", "theta")}),
    "scenario_payout": ({"spot": "numeric", "strike": "numeric", "amount": "numeric", "z_ppb": "numeric",
                         "seconds": "numeric"}, {
        "payout": "{{ scenario_payout('spot', 'strike', 'amount', 'z_ppb / 1e9', 'seconds') }}"}),
    "premium_earned": ({"amount": "numeric", "created": "numeric", "expiry": "numeric", "lo": "numeric",
                        "hi": "numeric"}, {"earned": "{{ earned_between('amount', 'created', 'expiry', 'lo', 'hi') }}"}),
}
#: formulas with float outputs (bithedge.protocol.risk): equal within this relative tolerance, not as text
FLOAT_FORMULAS, REL_TOL = {"bs_put", "scenario_payout", "premium_earned"}, 1e-9


@pytest.fixture(scope="module")
def vectors() -> dict:
    return json.loads(VECTOR_FILE.read_text())["formulas"]


@pytest.fixture(scope="module")
def rendered(pg_server, migrated_template, tmp_path_factory):
    """Every formula's SQL, macros expanded by dbt (one compile per formula), and a database to run it in."""
    from tests.conftest import create_database, drop_database

    db = create_database(pg_server, migrated_template)
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("SELECT public.bithedge_database_grants()")
    dbt = Dbt(role_url(db, "bithedge_transform"), work_dir=tmp_path_factory.mktemp("formula-vectors"))
    out = {}
    for name, (_, outputs) in MACROS.items():
        columns = ", ".join(f"({expr})::text as {col}" for col, expr in outputs.items())
        out[name] = dbt.render(f"select case_name, {columns} from vectors")
    yield db, out
    drop_database(pg_server, db)


def test_every_macro_formula_is_in_the_vector_file(vectors):
    assert set(MACROS) <= set(vectors)
    for name, (inputs, outputs) in MACROS.items():
        assert set(inputs) <= set(vectors[name]["cases"][0]) and set(outputs) <= set(vectors[name]["outputs"]), name


@pytest.mark.parametrize("name", sorted(MACROS))
def test_macro_gives_the_vector_integers(name, vectors, rendered):
    db, sql = rendered
    inputs, outputs = MACROS[name]
    cases = [c for c in vectors[name]["cases"] if c["error"] is None]
    assert cases, name
    typed = ", ".join(f"{col} {typ}" for col, typ in {"case_name": "text", **inputs}.items())
    rows = [{"case_name": c["case"], **{k: c[k] for k in inputs}} for c in cases]
    with psycopg.connect(db) as conn:
        got = {r[0]: r[1:] for r in conn.execute(
            f"with vectors as (select * from jsonb_to_recordset(%s::jsonb) as v({typed})) {sql[name]}",
            (json.dumps(rows),))}
    wrong = []
    for c in cases:
        want = tuple(None if c[o] is None else str(c[o]).lower() for o in outputs)
        have = tuple(None if v is None else v.lower() for v in got[c["case"]])
        if name in FLOAT_FORMULAS and None not in have:
            if all(math.isclose(float(w), float(h), rel_tol=REL_TOL, abs_tol=1e-300) for w, h in zip(want, have,
                                                                                                    strict=True)):
                continue
        if want != have:
            wrong.append((c["case"], dict(zip(outputs, have, strict=True)), dict(zip(outputs, want, strict=True))))
    assert not wrong, f"{len(wrong)} of {len(cases)} cases differ (case, sql, python): {wrong[:3]}"
