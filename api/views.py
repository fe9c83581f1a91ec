"""Response models of the ``analytics`` views, generated from the one description of that interface
(``transforms/project/models/analytics/_schema.yml``, read by ``transforms.interface``): every column's name,
type, unit and meaning. A view that gains a column gains it here; the descriptions in ``/openapi.json`` are
the transforms' own.

Amounts never become floats: every numeric column is an exact decimal string (``"1250000"``; aggregates
priced in USD×1e8 and ratios can carry decimals), its unit named in the schema.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema, create_model

from transforms.interface import views as interface


def _plain(d: Decimal) -> str:
    return str(int(d)) if d == d.to_integral_value() else format(d, "f")


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


def row_model(view: str, name: str, *, only: tuple[str, ...] | None = None, drop: tuple[str, ...] = (),
              doc: str | None = None) -> type[ViewRow]:
    """A model of ``analytics.<view>``'s rows: all its columns (or ``only`` those, in that order) minus ``drop``."""
    spec = interface()[view]
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
    return model


def select_list(model: type[BaseModel]) -> str:
    """The columns of a view model, for a constant SELECT (names come from the interface, never from input)."""
    return ", ".join(f'"{n}"' for n in model.model_fields)
