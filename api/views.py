"""Response models of the ``analytics`` views, generated from the one description of that interface
(``transforms/project/models/analytics/_schema.yml``, read by ``transforms.interface``): every column's name,
type, unit and meaning. A view that gains a column gains it here; the descriptions in ``/openapi.json`` are
the transforms' own.

Amounts never become floats: every numeric column is an exact decimal string (``"1250000"``; aggregates
priced in USD×1e8 and ratios can carry decimals), its unit named in the schema.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar

import msgspec
from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema, create_model

from transforms.interface import views as interface


def _plain(d: Decimal) -> str:
    s = str(d)
    if "." not in s and "E" not in s and s != "-0":  # a whole number as PostgreSQL sends most amounts: str is the answer
        return s
    return str(int(d)) if d == d.to_integral_value() else format(d, "f")


def plain_text(s: str) -> str:
    """PostgreSQL's text of a numeric as ``_plain`` writes the same value's ``Decimal`` (a whole number without
    its zero decimals, any other value as PostgreSQL writes it; PostgreSQL never writes exponents)."""
    if "." not in s:
        return s
    whole, _, decimals = s.partition(".")
    if decimals.strip("0"):
        return s
    return "0" if whole == "-0" else whole


def decimal_string(unit: str) -> Any:
    """An exact decimal in ``unit`` as a decimal string: whole numbers without a point (``"1250000"``)."""
    return Annotated[Decimal, PlainSerializer(_plain, return_type=str),
                     WithJsonSchema({"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?$", "x-unit": unit,
                                     "description": f"Exact decimal in {unit}, as a string."})]


_SIMPLE: dict[str, Any] = {
    "bigint": int, "integer": int, "text": str, "boolean": bool, "date": date,
    "timestamp with time zone": datetime, "double precision": float, "_int8": list[int], "jsonb": Any,
}


def column_type(data_type: str, unit: str) -> Any:
    if data_type == "numeric":
        return decimal_string(unit)
    return _SIMPLE[data_type]


class ViewRow(BaseModel):
    model_config = ConfigDict(frozen=True)
    #: the fields in order, and the msgspec struct ``encode_row`` builds from a row's values in that order;
    #: set by ``row_model``
    __row_fields__: ClassVar[tuple[str, ...]] = ()
    __row_struct__: ClassVar[type[msgspec.Struct]]


@functools.cache
def _interface() -> dict[str, dict]:
    """Parsed once per process: every route module builds its row models from it (it was 84 YAML parses, ~3 s
    of the API's start-up)."""
    return interface()


def encode_row(model: type[ViewRow], values: Iterable[Any]) -> msgspec.Struct:
    """A row of the reads' pool (``ApiState.reads``: numerics as text), its values in ``model.__row_fields__``
    order (a record of ``select_list(model)``), as what msgspec writes as the JSON ``model(**row)`` serialises
    to, without building the model.

    Rows come from the view the model describes (the database already typed them), so validating them again
    costs without checking anything a client sent; the hot reads (a page of policies, a policy's lifecycle)
    spent most of their CPU there. The struct is built positionally (no dict per row: 0.4 µs a 39-column row,
    where a dict with the timestamps converted took 4 µs); msgspec writes numerics' strings as they are and
    timestamps and dates as pydantic does (RFC 3339, UTC as ``Z``). tests/api/test_row_encoding.py holds both
    paths byte for byte equal."""
    return model.__row_struct__(*values)


class Encoded:
    """A response body of the route's declared response model, already in values msgspec writes as its JSON
    (``encode_row``): ``api.routing`` writes it with msgspec instead of serialising models."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def json(self) -> bytes:
        return _ENCODER.encode(self.value)


_ENCODER = msgspec.json.Encoder()


def _row_struct(name: str, fields: tuple[str, ...]) -> type[msgspec.Struct]:
    """A struct with the model's fields in order, written under the columns' names (slots are named by position,
    so any column name works)."""
    slots = [f"c{i}" for i in range(len(fields))]
    return msgspec.defstruct(name, [(s, Any) for s in slots], rename=dict(zip(slots, fields, strict=True)))


def row_model(view: str, name: str, *, only: tuple[str, ...] | None = None, drop: tuple[str, ...] = (),
              doc: str | None = None) -> type[ViewRow]:
    """A model of ``analytics.<view>``'s rows: all its columns (or ``only`` those, in that order) minus ``drop``."""
    spec = _interface()[view]
    columns = {c[0]: c for c in spec["columns"]}
    names = only or tuple(columns)
    missing = [n for n in (*names, *drop) if n not in columns]
    if missing:
        raise KeyError(f"analytics.{view} has no column(s) {missing}")
    fields: dict[str, Any] = {}
    for n in names:
        if n in drop:
            continue
        _, data_type, unit, meaning = columns[n]
        described = meaning if unit in ("–", "timestamp", "date", "JSON") else f"{meaning} ({unit})"
        fields[n] = (column_type(data_type, unit) | None, Field(description=described))
    model = create_model(name, __base__=ViewRow, __doc__=doc or spec["description"], **fields)
    model.__module__ = __name__
    model.__row_fields__ = tuple(n for n in names if n not in drop)
    model.__row_struct__ = _row_struct(name, model.__row_fields__)
    return model


@functools.cache  # every page of a view asks for the same list
def select_list(model: type[BaseModel]) -> str:
    """The columns of a view model, for a constant SELECT (names come from the interface, never from input)."""
    return ", ".join(f'"{n}"' for n in model.model_fields)
