"""The settlement-price rule of the oracle (`get-settlement-price`, `contracts/README.md` Settlement
price proof): which recorded price settles an expiry, and why another one is refused."""

from __future__ import annotations

from collections.abc import Mapping

from bithedge.protocol.errors import OracleError


def settlement_price_error(expiry: int, height: int, prev_height: int | None, burn_height: int,
                           max_delay: int) -> OracleError | None:
    """Why the oracle record at burn ``height`` (with its ``prev_height`` link, None when no record
    exists there) cannot settle ``expiry`` at current ``burn_height``, or None when it can.

    The record must be the first at or after the expiry (``height >= expiry > prev_height``), in a
    finished burn block (``height < burn_height``) and at most ``max_delay`` blocks late."""
    if prev_height is None:
        return OracleError.NO_PRICE
    if not (height >= expiry and prev_height < expiry):
        return OracleError.NOT_FIRST_AFTER_EXPIRY
    if height >= burn_height:
        return OracleError.PRICE_NOT_FINAL
    if height - expiry > max_delay:
        return OracleError.PRICE_TOO_LATE
    return None


def settlement_height(history: Mapping[int, int], expiry: int, burn_height: int, max_delay: int) -> int | None:
    """The one height whose record settles ``expiry``, given an asset's ``history`` (recorded burn
    height -> its prev-height link), or None when no valid settlement price exists yet."""
    candidates = [h for h in history if h >= expiry]
    if not candidates:
        return None
    first = min(candidates)
    return None if settlement_price_error(expiry, first, history[first], burn_height, max_delay) else first
