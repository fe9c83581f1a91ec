"""The settlement-price rule: the first record at or after expiry, final, within the delay."""

from __future__ import annotations

from bithedge.protocol.errors import OracleError
from bithedge.protocol.settlement import settlement_height, settlement_price_error


def test_rule_in_the_oracles_order():
    assert settlement_price_error(100, 100, 99, 101, 144) is None
    assert settlement_price_error(100, 100, None, 101, 144) is OracleError.NO_PRICE
    assert settlement_price_error(100, 105, 100, 200, 144) is OracleError.NOT_FIRST_AFTER_EXPIRY
    assert settlement_price_error(100, 101, 90, 101, 144) is OracleError.PRICE_NOT_FINAL
    assert settlement_price_error(100, 245, 90, 300, 144) is OracleError.PRICE_TOO_LATE


def test_settlement_height_from_a_history():
    history = {90: 0, 97: 90, 103: 97, 110: 103}  # height -> prev-height link
    assert settlement_height(history, 100, 120, 144) == 103
    assert settlement_height(history, 103, 120, 144) == 103
    assert settlement_height(history, 104, 110, 144) is None  # 110 is the current block: not final
    assert settlement_height(history, 104, 111, 144) == 110
    assert settlement_height(history, 104, 111, 5) is None  # six blocks late
    assert settlement_height(history, 111, 200, 144) is None
