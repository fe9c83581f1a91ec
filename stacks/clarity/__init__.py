"""Clarity values: SIP-005 bytes, typed Python objects, JSON forms and printed form.

>>> from stacks import clarity
>>> v = clarity.decode("0x0c00000001066576656e740d0000000178")
>>> clarity.to_repr(v)
'{event: "x"}'
>>> clarity.to_plain(v)
{'event': 'x'}
"""

from .codec import (
    BOUND_VALUE_SERIALIZATION_BYTES,
    MAX_TYPE_DEPTH,
    MAX_VALUE_SIZE,
    decode,
    encode,
    read_value,
    write_value,
)
from .display import to_repr
from .json_form import decode_to_json, decode_to_plain, from_json, to_json, to_plain
from .values import (
    Bool,
    Buffer,
    ClarityValue,
    ContractPrincipal,
    Int,
    List,
    OptionalNone,
    OptionalSome,
    Principal,
    ResponseErr,
    ResponseOk,
    StandardPrincipal,
    StringAscii,
    StringUtf8,
    Tuple,
    UInt,
)

__all__ = [
    "BOUND_VALUE_SERIALIZATION_BYTES",
    "MAX_TYPE_DEPTH",
    "MAX_VALUE_SIZE",
    "Bool",
    "Buffer",
    "ClarityValue",
    "ContractPrincipal",
    "Int",
    "List",
    "OptionalNone",
    "OptionalSome",
    "Principal",
    "ResponseErr",
    "ResponseOk",
    "StandardPrincipal",
    "StringAscii",
    "StringUtf8",
    "Tuple",
    "UInt",
    "decode",
    "decode_to_json",
    "decode_to_plain",
    "encode",
    "from_json",
    "read_value",
    "to_json",
    "to_plain",
    "to_repr",
    "write_value",
]
