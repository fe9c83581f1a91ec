"""Field types shared by the API's models: base-unit amounts as decimal strings (no float ever touches an
amount), Stacks principals checked by their c32 checksum, and the page envelope."""

from __future__ import annotations

import functools
from decimal import Decimal
from typing import Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, Field, PlainSerializer, WithJsonSchema

from stacks.errors import DecodeError
from stacks.principal import parse_principal

#: longest decimal amount accepted (uint128 has 39 digits)
_MAX_DIGITS = 40


def _integer(v: Any) -> int:
    if isinstance(v, bool):
        raise ValueError("must be an integer amount")
    if isinstance(v, int):
        return v
    if isinstance(v, Decimal):
        if v != v.to_integral_value():
            raise ValueError("must be a whole number of base units")
        return int(v)
    if isinstance(v, str):
        s = v[1:] if v.startswith("-") else v
        if not s.isascii() or not s.isdigit() or len(s) > _MAX_DIGITS:
            raise ValueError("must be a decimal string of base units, e.g. \"1000000\"")
        return int(v)
    raise ValueError("must be a decimal string of base units")


def _non_negative(v: int) -> int:
    if v < 0:
        raise ValueError("must not be negative")
    return v


def base_units(unit: str, *, signed: bool = False) -> Any:
    """An integer amount in ``unit`` (e.g. ``"micro-STX"``, ``"sats"``, ``"USD×1e8"``), carried in JSON as a
    decimal string; the schema names the unit (``x-unit`` and the description)."""
    pattern = r"^-?[0-9]{1,40}$" if signed else r"^[0-9]{1,40}$"
    checks = [] if signed else [AfterValidator(_non_negative)]
    return Annotated[int, BeforeValidator(_integer), *checks, PlainSerializer(str, return_type=str),
                     WithJsonSchema({"type": "string", "pattern": pattern, "x-unit": unit,
                                     "description": f"Integer amount in {unit}, as a decimal string."})]


#: an amount in the base units of a pool's token (micro-STX for STX pools, sats for sBTC pools)
TokenAmount = base_units("token base units (micro-STX or sats)")
SignedTokenAmount = base_units("token base units (micro-STX or sats)", signed=True)
MicroStx = base_units("micro-STX")
Sats = base_units("sats")
#: USD × 1e8, the oracle's price unit
UsdE8 = base_units("USD×1e8")


def _principal(v: str) -> str:
    try:
        _checked(v)
    except (DecodeError, ValueError) as exc:
        raise ValueError(f"not a Stacks principal: {exc}") from None
    return v


@functools.lru_cache(maxsize=4096)  # the owners asked for again and again (a refusal raises, so is never kept)
def _checked(v: str) -> None:
    parse_principal(v)


_C32 = "0-9A-HJKMNP-TV-Z"
#: ``SP…`` or ``SP….contract-name``, checked by its c32 checksum
StacksPrincipal = Annotated[str, Field(max_length=170), AfterValidator(_principal), WithJsonSchema({
    "type": "string", "pattern": rf"^S[{_C32}]{{30,41}}(\.[a-zA-Z][a-zA-Z0-9_-]{{0,127}})?$",
    "description": "A Stacks principal (c32check address, optionally `.contract-name`)."})]

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a list in a stable order; pass `next_cursor` back as `cursor` for the next one."""

    items: list[T]
    next_cursor: str | None = Field(description="Opaque cursor of the next page; null on the last page.")
