"""Subscription kinds, their parameters and defaults.

A parametrized kind (a threshold, a level) has a canonical ``param_key``; the facts the worker derives for that
parameter carry the same key, so matching a fact to its subscribers is an equality join.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

#: kind -> (audience, parameter names with their defaults); audience: who among the subscribers a fact concerns
KINDS: dict[str, tuple[str, dict[str, Any]]] = {
    "policy_created": ("owner", {}),
    "policy_expiring": ("owner", {"blocks": 144}),
    "policy_settled": ("owner", {}),
    "policy_voided": ("owner", {}),
    "pool_coverage_low": ("provider", {"metric": "coverage_ratio", "below": "1"}),
    "proposal_created": ("all", {}),
    "proposal_voting_ending": ("all", {"blocks": 144}),
    "proposal_executed": ("all", {}),
    "price_crossing": ("all", {"asset": "BTC", "level": None, "direction": "either"}),
    "operator_alert": ("admin", {}),
}
#: what a new user is subscribed to on their in-app channel
DEFAULT_KINDS = ("policy_created", "policy_expiring", "policy_settled", "policy_voided", "pool_coverage_low",
                 "proposal_created", "proposal_voting_ending", "proposal_executed")
#: the pool_risk columns a coverage subscription may watch
COVERAGE_METRICS = ("coverage_ratio", "adequacy_btc_m10", "adequacy_btc_m20", "adequacy_btc_m30",
                    "adequacy_btc_m50")
MAX_BLOCKS = 52_560  # about a year of burn blocks


class ParamError(ValueError):
    """Bad subscription parameters; the message says which and why (a 422 to the client)."""


def _blocks(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_BLOCKS:
        raise ParamError(f"blocks must be an integer 1..{MAX_BLOCKS}")
    return value


def _decimal(value: Any, name: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ParamError(f"{name} must be a number") from None
    if not number.is_finite() or number <= 0:
        raise ParamError(f"{name} must be a positive number")
    return number.normalize()


def normalize(kind: str, params: dict[str, Any] | None) -> tuple[dict[str, Any], str]:
    """Validated parameters with defaults filled in, and their canonical key."""
    if kind not in KINDS:
        raise ParamError(f"unknown kind {kind!r}; one of {', '.join(KINDS)}")
    given = dict(params or {})
    defaults = KINDS[kind][1]
    unknown = set(given) - set(defaults)
    if unknown:
        raise ParamError(f"{kind} takes no parameter {', '.join(sorted(unknown))}")
    merged = {**defaults, **given}
    if "blocks" in merged:
        merged["blocks"] = _blocks(merged["blocks"])
    if kind == "pool_coverage_low":
        if merged["metric"] not in COVERAGE_METRICS:
            raise ParamError(f"metric must be one of {', '.join(COVERAGE_METRICS)}")
        merged["below"] = str(_decimal(merged["below"], "below"))
    if kind == "price_crossing":
        if merged["asset"] not in ("BTC", "STX"):
            raise ParamError("asset must be BTC or STX")
        if merged["level"] is None:
            raise ParamError("level (USD×1e8) is required")
        level = merged["level"]
        if isinstance(level, bool) or not isinstance(level, int) or level <= 0:
            raise ParamError("level must be a positive integer price in USD×1e8")
        if merged["direction"] not in ("up", "down", "either"):
            raise ParamError("direction must be up, down or either")
    return merged, param_key(kind, merged)


def param_key(kind: str, params: dict[str, Any]) -> str:
    if kind in ("policy_expiring", "proposal_voting_ending"):
        return f"blocks={params['blocks']}"
    if kind == "pool_coverage_low":
        return f"{params['metric']}<{params['below']}"
    if kind == "price_crossing":
        return f"{params['asset']}:{params['level']}:{params['direction']}"
    return ""
