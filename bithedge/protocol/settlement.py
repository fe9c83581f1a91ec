"""The settlement and void rules (`contracts/README.md`, Settlement and voids): which oracle record
settles an expiry, why another one is refused, and when a policy without a valid price is voided."""

from __future__ import annotations

from collections.abc import Mapping

from bithedge.protocol.errors import OracleError, RegistryError


def settlement_price_error(expiry: int, height: int, prev_height: int | None, burn_height: int,
                           max_delay: int) -> OracleError | None:
    """Why the oracle record at burn ``height`` (with its ``prev_height`` link, None when no record
    exists there) cannot settle ``expiry`` at current ``burn_height`` (oracle `get-settlement-price`),
    or None when it can. A policy's ``max_delay`` is its own `price-delay`, fixed at creation.

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
    height -> its prev-height link), or None when no valid settlement price exists (yet)."""
    candidates = [h for h in history if h >= expiry]
    if not candidates:
        return None
    first = min(candidates)
    return None if settlement_price_error(expiry, first, history[first], burn_height, max_delay) else first


def void_after(expiry: int, price_delay: int, void_grace: int) -> int:
    """Last burn height at which a policy cannot be voided: expiry + price-delay + settle.void-grace-blocks."""
    return expiry + price_delay + void_grace


def no_settlement_price(expiry: int, hint: int, hint_prev_height: int | None, latest_height: int | None,
                        burn_height: int, max_delay: int) -> bool:
    """Oracle `no-settlement-price`: the proof a void needs, once ``burn_height > expiry + max_delay``.
    True when the asset's latest record (``latest_height``, None if none) is before the expiry, or the
    record at ``hint`` (its link ``hint_prev_height``, None if no record there) is the first at or after
    the expiry and later than the delay."""
    if burn_height <= expiry + max_delay:
        return False
    if latest_height is None or latest_height < expiry:
        return True
    if hint_prev_height is None:
        return False
    return hint >= expiry and hint_prev_height < expiry and hint - expiry > max_delay


def void_error(active: bool, burn_height: int, void_after: int, price_missing: bool) -> RegistryError | None:
    """Registry `void-policy` in its order: u406 not active, u422 too early (burn height <= void-after),
    u423 a valid settlement price exists for every asset of the policy (``price_missing`` false)."""
    if not active:
        return RegistryError.ALREADY_SETTLED
    if burn_height <= void_after:
        return RegistryError.VOID_TOO_EARLY
    if not price_missing:
        return RegistryError.PRICE_EXISTS
    return None
