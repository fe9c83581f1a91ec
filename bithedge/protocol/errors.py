"""Every error code of the contracts (`(err uN)`), as named enums, one per contract.

Names are the contracts' constant names without the `ERR-` prefix (`ERR-QUOTE-USED` -> `QUOTE_USED`);
`tests/protocol/test_errors.py` checks them against the `.clar` sources."""

from __future__ import annotations

from enum import IntEnum


class ParametersError(IntEnum):
    NOT_AUTHORIZED = 100
    UNKNOWN_PARAM = 101
    OUT_OF_BOUNDS = 102
    UNKNOWN_TIER = 103
    UNKNOWN_FIELD = 104
    INVALID_ROLE = 105
    SELF_REVOKE = 106
    INVALID_TIER_KIND = 107
    UNKNOWN_ACTION = 108


class OracleError(IntEnum):
    NOT_AUTHORIZED = 200
    UNKNOWN_ASSET = 201
    ZERO_PRICE = 202
    DEVIATION = 203
    NO_PRICE = 204
    NOT_FIRST_AFTER_EXPIRY = 205
    PRICE_TOO_LATE = 206
    PRICE_NOT_FINAL = 207
    TOO_MANY_UPDATES = 208


class VaultError(IntEnum):
    NOT_AUTHORIZED = 300
    REGISTRY_ONLY = 301
    UNKNOWN_TOKEN = 302
    POOL_EXISTS = 303
    NO_POOL = 304
    ZERO_AMOUNT = 305
    ZERO_SHARES = 306
    INSUFFICIENT_SHARES = 307
    INSUFFICIENT_UNLOCKED = 308
    UTILIZATION = 309
    EXPOSURE_POLICY = 310
    EXPOSURE_EXPIRY = 311
    TIER_INACTIVE = 312
    BAD_RELEASE = 313
    TOO_MANY_EXPIRIES = 314
    WITHDRAW_UTILIZATION = 315
    SETTLEMENT_PENDING = 316
    OUTSTANDING_EXPIRIES = 317
    REQUEST_EXISTS = 318
    NO_REQUEST = 319
    DEPOSITS_PAUSED = 320
    NOT_EXECUTABLE = 321


class RegistryError(IntEnum):
    """Settlement items also fail with the oracle's proof codes 204-207 (206 also for a price later
    than the policy's own delay)."""

    BAD_SIGNATURE = 401
    SIGNER_NOT_AUTHORIZED = 402
    QUOTE_USED = 403
    QUOTE_EXPIRED = 404
    POLICY_NOT_FOUND = 405
    ALREADY_SETTLED = 406
    NOT_EXPIRED = 407
    BAD_DURATION = 408
    BAD_AMOUNT = 409
    BAD_STRIKE = 410
    PREMIUM_TOO_LOW = 411
    PREMIUM_TOO_HIGH = 412
    TIER_INVALID = 413
    PRICE_STALE = 414
    EXPIRY_FULL = 415
    OWNER_LIMIT = 416
    UNKNOWN_TOKEN = 417
    WRONG_EXPIRY = 418
    QUOTE_LIFE = 419
    SLIPPAGE = 420
    PAUSED = 421
    VOID_TOO_EARLY = 422
    PRICE_EXISTS = 423
    PRICE_TOO_LATE = 206


class GovernanceError(IntEnum):
    NOT_AUTHORIZED = 500
    UNKNOWN_PROPOSAL = 501
    VOTING_CLOSED = 502
    ALREADY_VOTED = 503
    NO_POWER = 504
    NOT_PASSED = 505
    TIMELOCK = 506
    NOT_ACTIVE = 507
    VOTING_OPEN = 508
    BELOW_PROPOSAL_THRESHOLD = 509
    NO_SNAPSHOT = 510
    SUPERSEDED = 513


class TreasuryError(IntEnum):
    NOT_AUTHORIZED = 600
    REGISTRY_ONLY = 601
    UNKNOWN_TOKEN = 602
    ZERO_AMOUNT = 603
    INSUFFICIENT_BALANCE = 604


class InsuranceFundError(IntEnum):
    REGISTRY_ONLY = 700
    UNKNOWN_TOKEN = 701
    ZERO_AMOUNT = 702


#: contract name (without the `bithedge-` prefix) -> its error enum; the oracle comes before the
#: registry, which re-declares the oracle's 206 for its own per-policy delay check
BY_CONTRACT: dict[str, type[IntEnum]] = {
    "parameters": ParametersError,
    "oracle": OracleError,
    "vault": VaultError,
    "treasury": TreasuryError,
    "insurance-fund": InsuranceFundError,
    "policy-registry": RegistryError,
    "governance": GovernanceError,
}


class ContractError(Exception):
    """A contract would return ``(err code)`` here (a Python mirror's refusal, e.g. an unknown token)."""

    def __init__(self, code: IntEnum) -> None:
        super().__init__(f"{type(code).__name__}.{code.name} (u{int(code)})")
        self.code = code


def error_of(code: int) -> IntEnum | None:
    """The named error for a contract error code (codes are unique across contracts), or None."""
    for enum in BY_CONTRACT.values():
        try:
            return enum(code)
        except ValueError:
            continue
    return None
