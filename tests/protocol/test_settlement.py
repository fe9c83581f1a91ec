"""The settlement-price rule: the first record at or after expiry, final, within the delay."""

from __future__ import annotations

from bithedge.protocol.errors import OracleError, RegistryError
from bithedge.protocol.settlement import (
    no_settlement_price,
    settlement_height,
    settlement_price_error,
    void_after,
    void_error,
)


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


def test_void_needs_the_window_over_and_no_valid_price():
    assert void_after(1000, 144, 144) == 1288
    # no record at or after the expiry, window over: voidable; not before the window ends
    assert no_settlement_price(100, 100, None, None, 245, 144) and not no_settlement_price(100, 100, None, None, 244, 144)
    assert no_settlement_price(100, 99, 90, 99, 245, 144)  # latest record before the expiry
    assert no_settlement_price(100, 245, 90, 245, 300, 144)  # first record after the expiry is too late
    assert not no_settlement_price(100, 244, 90, 244, 300, 144)  # ... but exactly at the delay it settles
    assert not no_settlement_price(100, 260, 250, 260, 300, 144)  # the hint must be the first record
    assert void_error(True, 1289, 1288, True) is None
    assert void_error(True, 1288, 1288, True) is RegistryError.VOID_TOO_EARLY
    assert void_error(True, 1289, 1288, False) is RegistryError.PRICE_EXISTS
    assert void_error(False, 1289, 1288, True) is RegistryError.ALREADY_SETTLED
