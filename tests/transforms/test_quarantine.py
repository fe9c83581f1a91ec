"""Bad print events (unknown name, missing field, wrong type) land in the quarantine with their reason, are
counted in analytics.freshness and fail a warn-level test; the build itself never fails on them."""

from __future__ import annotations

import json

import psycopg

from tests.transforms.chain import build, transform_dbt
from transforms import catalog
from transforms.runner import devnet_deployer

ORACLE = f"{devnet_deployer()}.bithedge-oracle"


def _price(**fields) -> dict:
    """A price-submitted print as the oracle emits it (every catalog field), with ``fields`` replaced or dropped."""
    sample = {"uint": {"type": "uint", "value": "5"}, "bool": {"type": "bool", "value": False},
              "principal": {"type": "principal", "value": devnet_deployer()},
              "string-ascii": {"type": "string-ascii", "value": "BTC"}}
    spec = catalog.parse(catalog.EVENTS_MD.read_text())["bithedge-oracle"]["price-submitted"]
    base = {"event": {"type": "string-ascii", "value": "price-submitted"},
            **{name.replace("-", "_"): sample[t] for name, t in spec},
            "price": {"type": "uint", "value": "9000000000000"}}
    base.update(fields)
    return {"type": "tuple", "value": {k.replace("_", "-"): v for k, v in base.items() if v is not None}}


BAD = [
    ("unknown event price-exploded", _price(event={"type": "string-ascii", "value": "price-exploded"})),
    ("missing field price", _price(price=None)),
    ("field price: expected uint, got string-ascii", _price(price={"type": "string-ascii", "value": "lots"})),
    ("field price: value out of range", _price(price={"type": "uint", "value": "12abc"})),
    ("field replaced: value is not a boolean", _price(replaced={"type": "bool", "value": "yes"})),
    # every field right, but the event itself is no tuple (its type is read apart from its fields)
    ("not a tuple", {**_price(), "type": "list"}),
    # a good print inside an array: the field map is read strictly, so the array is not unwrapped
    ("not a tuple", [_price()]),
    ("no event name", _price(event={"type": "uint", "value": "1"})),
    # a tuple with no field map at all: quarantined, not an error of the build
    ("no event name", {"type": "tuple"}),
]


async def test_bad_print_events_are_quarantined_not_fatal(db_url, tmp_path):
    block = bytes(32)
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("INSERT INTO raw.blocks (index_block_hash, block_hash, block_height, parent_index_block_hash, "
                     "burn_block_height, burn_block_time, nakamoto, tx_count, event_count, canonical, request_id) "
                     "VALUES (%s, %s, 9, %s, 5, 1700000000, false, 1, 6, true, 1)", (block, block, b"\x01" * 32))
        conn.execute("UPDATE raw.chain_tip SET block_height = 9, burn_block_height = 5, index_block_hash = %s", (block,))
        for i, value in enumerate([_price(), *(value for _, value in BAD)]):
            conn.execute(
                "INSERT INTO raw.events (index_block_hash, event_index, txid, tx_index, block_height, event_type, "
                "contract_identifier, topic, value, canonical, request_id) "
                "VALUES (%s, %s, %s, 0, 9, 'contract_event', %s, 'print', %s, true, 1)",
                (block, i, bytes([i]) * 32, ORACLE, json.dumps(value)))
    dbt = transform_dbt(db_url, tmp_path)
    out = await build(dbt, "deploy")
    assert "print_quarantine_is_empty" in out.warnings, out.statuses
    # the formula unit tests ran with the build, and the docs site generates
    assert {"payout_is_the_usd_shortfall_capped_by_collateral", "share_value_rounds_down_with_the_virtual_share",
            "quorum_and_threshold_decide_the_proposal_state"} <= {n for n, s in out.statuses.items() if s == "pass"}
    await build(dbt, "docs")
    assert (tmp_path / "target" / "catalog.json").exists()
    with psycopg.connect(db_url) as conn:
        reasons = {r[0] for r in conn.execute("SELECT problem FROM staging.print_quarantine")}
        prices = conn.execute("SELECT asset, price FROM analytics.oracle_prices").fetchall()
        (counted,) = conn.execute("SELECT quarantined_events FROM analytics.freshness").fetchone()
    assert reasons == {reason for reason, _ in BAD}
    assert prices == [("BTC", 9_000_000_000_000)]  # the good event still decodes
    assert counted == len(BAD)
