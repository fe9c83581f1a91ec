"""SIP-005 binary serialization of Clarity values, as stacks-core implements it.

Reference: stacks-core ``clarity-types/src/types/serialization.rs``.  The decoder is on
the indexer's hot path, so it is one recursive function with the common prefixes first
and with bounds checked by comparing offsets instead of catching exceptions.
"""

from __future__ import annotations

from stacks.errors import DecodeError, EncodeError
from stacks.names import CLARITY_NAME_PATTERN, is_clarity_name, is_contract_name

from .values import (
    Bool,
    Buffer,
    ClarityValue,
    ContractPrincipal,
    Int,
    List,
    OptionalNone,
    OptionalSome,
    ResponseErr,
    ResponseOk,
    StandardPrincipal,
    StringAscii,
    StringUtf8,
    Tuple,
    UInt,
)

# Limits from stacks-core clarity-types/src/types/mod.rs.
MAX_VALUE_SIZE = 1024 * 1024
BOUND_VALUE_SERIALIZATION_BYTES = 2 * MAX_VALUE_SIZE
MAX_TYPE_DEPTH = 32

# Clarity string-ascii admits alphanumerics, punctuation and ASCII whitespace only
# (Rust's is_ascii_whitespace: space, \t, \n, \x0c, \r).
_ASCII_ALLOWED = bytes(range(0x20, 0x7F)) + b"\t\n\x0c\r"

INT_MIN = -(1 << 127)
INT_MAX = (1 << 127) - 1
UINT_MAX = (1 << 128) - 1

Bytes = bytes | bytearray | memoryview | str


def as_bytes(data: Bytes) -> bytes:
    """Accept raw bytes or hex text (with or without ``0x``), as node payloads mix both."""
    if isinstance(data, str):
        text = data[2:] if data[:2] in ("0x", "0X") else data
        try:
            return bytes.fromhex(text)
        except ValueError:
            raise DecodeError(0, "hex text", f"{data[:40]!r}") from None
    return bytes(data)


def decode(data: Bytes) -> ClarityValue:
    """Decode exactly one serialized Clarity value; trailing bytes are an error."""
    buf = as_bytes(data)
    if len(buf) > BOUND_VALUE_SERIALIZATION_BYTES:
        raise DecodeError(
            BOUND_VALUE_SERIALIZATION_BYTES, "end of value", "serialized value larger than 2 MiB"
        )
    value, end = read_value(buf, 0)
    if end != len(buf):
        raise DecodeError(end, "end of input", f"{len(buf) - end} trailing bytes")
    return value


def read_value(buf: bytes, pos: int, depth: int = 1, canonical: bool = True) -> tuple[ClarityValue, int]:
    """Read one value at ``pos``; return it and the offset just past it.

    ``canonical=False`` accepts tuple keys in any order (duplicates are still rejected)
    and keeps them in wire order: stacks-core reads them into a map, so a transaction
    built by a client that sorts differently (stacks.js uses ``localeCompare``) is valid
    on chain and must still decode and re-serialize byte for byte.
    """
    if depth > MAX_TYPE_DEPTH:
        raise DecodeError(pos, f"a value nested at most {MAX_TYPE_DEPTH} deep")
    size = len(buf)
    if pos >= size:
        raise DecodeError(pos, "a Clarity type prefix", "end of input")
    prefix = buf[pos]
    pos += 1
    if prefix == 1 or prefix == 0:
        end = pos + 16
        if end > size:
            raise DecodeError(pos, "a 16-byte integer", "end of input")
        if prefix:
            return UInt(int.from_bytes(buf[pos:end])), end
        return Int(int.from_bytes(buf[pos:end], signed=True)), end
    if prefix == 12:
        return _read_tuple(buf, pos, depth, canonical)
    if prefix == 2 or prefix == 13 or prefix == 14:
        end = pos + 4
        if end > size:
            raise DecodeError(pos, "a 4-byte length", "end of input")
        length = int.from_bytes(buf[pos:end])
        if length > MAX_VALUE_SIZE:
            raise DecodeError(pos, f"a length of at most {MAX_VALUE_SIZE}", f"got {length}")
        start, end = end, end + length
        if end > size:
            raise DecodeError(start, f"{length} bytes of data", "end of input")
        raw = buf[start:end]
        if prefix == 2:
            return Buffer(raw), end
        if prefix == 13:
            if raw.translate(None, _ASCII_ALLOWED):
                raise DecodeError(start, "printable ASCII string data")
            return StringAscii(raw.decode("ascii")), end
        try:
            return StringUtf8(raw.decode("utf-8")), end
        except UnicodeDecodeError as exc:
            raise DecodeError(start + exc.start, "valid UTF-8 string data") from None
    if prefix == 5 or prefix == 6:
        end = pos + 21
        if end > size:
            raise DecodeError(pos, "a principal version byte and hash160", "end of input")
        version = buf[pos]
        if version >= 32:
            raise DecodeError(pos, "a principal version below 32", f"got {version}")
        if prefix == 5:
            return StandardPrincipal(version, buf[pos + 1 : end]), end
        name, name_end = read_name(buf, end, contract=True)
        return ContractPrincipal(version, buf[pos + 1 : end], name), name_end
    if prefix == 3:
        return Bool(True), pos
    if prefix == 4:
        return Bool(False), pos
    if prefix == 9:
        return OptionalNone(), pos
    if prefix == 10:
        inner, pos = read_value(buf, pos, depth + 1, canonical)
        return OptionalSome(inner), pos
    if prefix == 7:
        inner, pos = read_value(buf, pos, depth + 1, canonical)
        return ResponseOk(inner), pos
    if prefix == 8:
        inner, pos = read_value(buf, pos, depth + 1, canonical)
        return ResponseErr(inner), pos
    if prefix == 11:
        end = pos + 4
        if end > size:
            raise DecodeError(pos, "a 4-byte list length", "end of input")
        count = int.from_bytes(buf[pos:end])
        if count > MAX_VALUE_SIZE:
            raise DecodeError(pos, f"a list length of at most {MAX_VALUE_SIZE}", f"got {count}")
        items = []
        append = items.append
        pos = end
        depth += 1
        for _ in range(count):
            item, pos = read_value(buf, pos, depth, canonical)
            append(item)
        return List(items), pos
    raise DecodeError(pos - 1, "a Clarity type prefix 0x00..0x0e", f"got 0x{prefix:02x}")


def _read_tuple(
    buf: bytes, pos: int, depth: int, canonical: bool, valid_name=CLARITY_NAME_PATTERN.fullmatch
) -> tuple[Tuple, int]:
    size = len(buf)
    end = pos + 4
    if end > size:
        raise DecodeError(pos, "a 4-byte tuple length", "end of input")
    count = int.from_bytes(buf[pos:end])
    if count == 0 or count > MAX_VALUE_SIZE:
        raise DecodeError(pos, f"a tuple length of 1..{MAX_VALUE_SIZE}", f"got {count}")
    pos = end
    depth += 1
    data: dict[str, ClarityValue] = {}
    previous = b""
    for _ in range(count):
        if pos >= size:
            raise DecodeError(pos, "a tuple key length", "end of input")
        end = pos + 1 + buf[pos]
        if end > size:
            raise DecodeError(pos + 1, "tuple key bytes", "end of input")
        key = buf[pos + 1 : end]
        if valid_name(key) is None:
            raise DecodeError(pos + 1, "a valid Clarity name", repr(key))
        name = key.decode("ascii")
        # stacks-core writes keys from a BTreeMap, so anything not strictly increasing
        # byte-wise can only be a non-canonical (or duplicated) encoding.
        if canonical:
            if key <= previous:
                raise DecodeError(
                    pos, "tuple keys in strictly increasing byte order", f"{key!r} after {previous!r}"
                )
            previous = key
        elif name in data:
            raise DecodeError(pos, "unique tuple keys", f"{key!r} repeated")
        data[name], pos = read_value(buf, end, depth, canonical)
    return Tuple(data), pos


def read_name(buf: bytes, pos: int, *, contract: bool, max_length: int = 128) -> tuple[str, int]:
    """Read a 1-byte-length-prefixed contract name (``contract=True``) or Clarity name."""
    if pos >= len(buf):
        raise DecodeError(pos, "a name length byte", "end of input")
    end = pos + 1 + buf[pos]
    if end > len(buf):
        raise DecodeError(pos + 1, "name bytes", "end of input")
    name = buf[pos + 1 : end]
    valid = is_contract_name(name, max_length) if contract else is_clarity_name(name)
    if not valid:
        kind = "contract name" if contract else "Clarity name"
        raise DecodeError(pos + 1, f"a valid {kind} of at most {max_length} bytes", repr(name))
    return name.decode("ascii"), end


def encode(value: ClarityValue) -> bytes:
    """Serialize a value; tuple keys are written in byte order as stacks-core does."""
    out = bytearray()
    write_value(value, out)
    return bytes(out)


def write_value(value: ClarityValue, out: bytearray, depth: int = 1, sort_keys: bool = True) -> None:
    """Append the serialization of ``value`` to ``out`` after validating it.

    ``sort_keys=False`` writes tuple keys in dict order, to reproduce a transaction
    decoded with ``canonical=False`` byte for byte.
    """
    if depth > MAX_TYPE_DEPTH:
        raise EncodeError(f"value nested deeper than {MAX_TYPE_DEPTH}")
    kind = type(value)
    if kind is UInt:
        if not 0 <= value.value <= UINT_MAX:
            raise EncodeError(f"uint out of range: {value.value}")
        out += b"\x01"
        out += value.value.to_bytes(16)
    elif kind is Int:
        if not INT_MIN <= value.value <= INT_MAX:
            raise EncodeError(f"int out of range: {value.value}")
        out += b"\x00"
        out += value.value.to_bytes(16, signed=True)
    elif kind is Bool:
        out += b"\x03" if value.value else b"\x04"
    elif kind is Buffer:
        _write_sized(out, 2, bytes(value.value))
    elif kind is StringAscii:
        raw = value.value.encode("ascii", errors="replace")
        if raw.translate(None, _ASCII_ALLOWED) or not value.value.isascii():
            raise EncodeError(f"string-ascii has characters Clarity does not allow: {value.value[:40]!r}")
        _write_sized(out, 13, raw)
    elif kind is StringUtf8:
        try:
            raw = value.value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise EncodeError(f"string-utf8 is not encodable: {exc}") from None
        _write_sized(out, 14, raw)
    elif kind is StandardPrincipal:
        out.append(5)
        _write_issuer(value, out)
    elif kind is ContractPrincipal:
        out.append(6)
        _write_issuer(value, out)
        write_name(value.name, out, contract=True)
    elif kind is OptionalNone:
        out.append(9)
    elif kind is OptionalSome or kind is ResponseOk or kind is ResponseErr:
        out.append(10 if kind is OptionalSome else 7 if kind is ResponseOk else 8)
        write_value(value.value, out, depth + 1, sort_keys)
    elif kind is List:
        if len(value.items) > MAX_VALUE_SIZE:
            raise EncodeError(f"list longer than {MAX_VALUE_SIZE}")
        out.append(11)
        out += len(value.items).to_bytes(4)
        for item in value.items:
            write_value(item, out, depth + 1, sort_keys)
    elif kind is Tuple:
        if not value.data:
            raise EncodeError("Clarity has no empty tuples")
        out.append(12)
        out += len(value.data).to_bytes(4)
        # Valid names are ASCII, where code-point order equals byte order.
        for key in sorted(value.data) if sort_keys else value.data:
            write_name(key, out, contract=False)
            write_value(value.data[key], out, depth + 1, sort_keys)
    else:
        raise EncodeError(f"not a Clarity value: {value!r}")


def _write_sized(out: bytearray, prefix: int, raw: bytes) -> None:
    if len(raw) > MAX_VALUE_SIZE:
        raise EncodeError(f"sequence longer than {MAX_VALUE_SIZE} bytes")
    out.append(prefix)
    out += len(raw).to_bytes(4)
    out += raw


def _write_issuer(value: StandardPrincipal | ContractPrincipal, out: bytearray) -> None:
    if not 0 <= value.version < 32 or len(value.hash160) != 20:
        raise EncodeError(f"principal needs version 0..31 and a 20-byte hash160: {value!r}")
    out.append(value.version)
    out += value.hash160


def write_name(name: str, out: bytearray, *, contract: bool, max_length: int = 128) -> None:
    """Append a 1-byte-length-prefixed contract name or Clarity name after validating it."""
    raw = name.encode("ascii", errors="replace") if isinstance(name, str) else b""
    valid = is_contract_name(raw, max_length) if contract else is_clarity_name(raw)
    if not valid or not name.isascii():
        kind = "contract name" if contract else "Clarity name"
        raise EncodeError(f"invalid {kind} (max {max_length} bytes): {name!r}")
    out.append(len(raw))
    out += raw
