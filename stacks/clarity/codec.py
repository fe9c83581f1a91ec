"""SIP-005 binary serialization of Clarity values, as stacks-core implements it.

Reference: stacks-core ``clarity-types/src/types/serialization.rs``.  The decoder is on
the indexer's hot path: :func:`make_reader` is the only implementation of the wire
format, one iterative single pass (common prefixes first, no call per leaf, memoized
tuple keys / contract names / c32 addresses).  It is instantiated for value objects here
(:func:`decode`, :func:`read_value`) and for the typed and plain JSON forms in
:mod:`stacks.clarity.json_form` (``decode_to_json`` / ``decode_to_plain``), so all of them
share every limit and every :class:`DecodeError`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

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
    return decode_with(_read_canonical, data)


def decode_with(read: Reader, data: Bytes) -> Any:
    """Run a reader made by :func:`make_reader` over exactly one standalone value."""
    buf = as_bytes(data)
    if len(buf) > BOUND_VALUE_SERIALIZATION_BYTES:
        raise DecodeError(
            BOUND_VALUE_SERIALIZATION_BYTES, "end of value", "serialized value larger than 2 MiB"
        )
    value, end = read(buf, 0, 1)
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
    if type(buf) is not bytes:
        buf = bytes(buf)  # the readers' caches key on bytes slices
    return (_read_canonical if canonical else _read_any_order)(buf, pos, depth)


# Memo tables of the hot path.  Print events repeat a handful of tuple keys and contract
# names, so each distinct input is validated once (addresses: :func:`stacks.c32.memo_address`).
# Only valid entries are stored; a table is emptied when full.
_CACHE_LIMIT = 1 << 16
_clarity_names: dict[bytes, str] = {}
_contract_names: dict[bytes, str] = {}


def _remember(table: dict[bytes, str], key: bytes, text: str) -> str:
    if len(table) >= _CACHE_LIMIT:
        table.clear()
    table[key] = text
    return text


def clarity_name(key: bytes) -> str | None:
    """Tuple key bytes -> ``str`` if they are a valid Clarity name, else ``None``."""
    name = _clarity_names.get(key)
    if name is None and CLARITY_NAME_PATTERN.fullmatch(key) is not None:
        name = _remember(_clarity_names, key, key.decode("ascii"))
    return name


def contract_name(raw: bytes) -> str | None:
    """Contract-name bytes (inside a Clarity value) -> ``str`` if valid, else ``None``."""
    name = _contract_names.get(raw)
    if name is None and is_contract_name(raw):
        name = _remember(_contract_names, raw, raw.decode("ascii"))
    return name




Reader = Callable[[bytes, int, int], tuple[Any, int]]


def make_reader(
    *,
    uint: Callable[[int], Any],
    int_: Callable[[int], Any],
    bool_: Callable[[bool], Any],
    buffer: Callable[[bytes], Any],
    string_ascii: Callable[[str], Any],
    string_utf8: Callable[[str], Any],
    standard: Callable[[bytes], Any],
    contract: Callable[[bytes, str], Any],
    none: Callable[[], Any],
    some: Callable[[Any], Any] | None,
    ok: Callable[[Any], Any],
    err: Callable[[Any], Any],
    list_: Callable[[list], Any] | None,
    tuple_: Callable[[dict], Any] | None,
    canonical: bool = True,
) -> Reader:
    """Build ``read(buf, pos, depth) -> (node, end)``, the one Clarity decoder.

    The wire parsing, limits and errors live here once; the arguments only say which node
    to build from each decoded piece (``None`` = use the piece as is), so value objects,
    the typed JSON and the plain JSON all come out of the same single pass with no
    intermediate objects.  Principals arrive as their 21 ``version ‖ hash160`` bytes
    (plus the validated contract name), ready for :func:`stacks.c32.memo_address`.  The branches
    are ordered by how often print events use each type.
    """
    clarity_names_get = _clarity_names.get
    contract_names_get = _contract_names.get
    ascii_allowed = _ASCII_ALLOWED
    max_size = MAX_VALUE_SIZE
    max_depth = MAX_TYPE_DEPTH

    def read(buf: bytes, pos: int, depth: int) -> tuple[Any, int]:
        # Iterative: the container being filled lives in locals (`kind`, `data`, `remaining`,
        # `previous`, `name`) and its parents on `stack`, so a leaf costs no Python call.
        # `kind` is the type prefix of that container (literals: this is the hot loop), or
        # -1 at the top level.  Bounds before an index are checked by catching IndexError
        # (free in 3.11 unless raised), bounds before a slice by comparing offsets.
        size = len(buf)
        stack: list[tuple] = []
        kind = -1
        data: Any = None
        remaining = 0
        previous = b""
        name = ""
        while True:
            if kind == 12:  # in a tuple, a value starts with its key
                try:
                    end = pos + 1 + buf[pos]
                except IndexError:
                    raise DecodeError(pos, "a tuple key length", "end of input") from None
                if end > size:
                    raise DecodeError(pos + 1, "tuple key bytes", "end of input")
                key = buf[pos + 1 : end]
                name = clarity_names_get(key)
                if name is None:
                    name = clarity_name(key)
                    if name is None:
                        raise DecodeError(pos + 1, "a valid Clarity name", repr(key))
                # stacks-core writes keys from a BTreeMap, so anything not strictly
                # increasing byte-wise can only be a non-canonical (or duplicated) encoding.
                if canonical:
                    if key <= previous:
                        raise DecodeError(
                            pos, "tuple keys in strictly increasing byte order", f"{key!r} after {previous!r}"
                        )
                    previous = key
                elif name in data:
                    raise DecodeError(pos, "unique tuple keys", f"{key!r} repeated")
                pos = end
            if depth > max_depth:
                raise DecodeError(pos, f"a value nested at most {MAX_TYPE_DEPTH} deep")
            try:
                prefix = buf[pos]
            except IndexError:
                raise DecodeError(pos, "a Clarity type prefix", "end of input") from None
            pos += 1
            # Read one value into `node`; a non-empty container is entered with `continue`.
            if prefix == 1:
                end = pos + 16
                if end > size:
                    raise DecodeError(pos, "a 16-byte integer", "end of input")
                node = uint(int.from_bytes(buf[pos:end]))
                pos = end
            elif prefix == 12:
                end = pos + 4
                if end > size:
                    raise DecodeError(pos, "a 4-byte tuple length", "end of input")
                count = int.from_bytes(buf[pos:end])
                if count == 0 or count > max_size:
                    raise DecodeError(pos, f"a tuple length of 1..{MAX_VALUE_SIZE}", f"got {count}")
                pos = end
                stack.append((kind, data, remaining, previous, name))
                kind, data, remaining, previous, depth = 12, {}, count, b"", depth + 1
                continue
            elif prefix == 2 or prefix == 13 or prefix == 14:
                end = pos + 4
                if end > size:
                    raise DecodeError(pos, "a 4-byte length", "end of input")
                length = int.from_bytes(buf[pos:end])
                if length > max_size:
                    raise DecodeError(pos, f"a length of at most {MAX_VALUE_SIZE}", f"got {length}")
                start, pos = end, end + length
                if pos > size:
                    raise DecodeError(start, f"{length} bytes of data", "end of input")
                raw = buf[start:pos]
                if prefix == 2:
                    node = buffer(raw)
                elif prefix == 13:
                    if raw.translate(None, ascii_allowed):
                        raise DecodeError(start, "printable ASCII string data")
                    node = string_ascii(raw.decode("ascii"))
                else:
                    try:
                        node = string_utf8(raw.decode("utf-8"))
                    except UnicodeDecodeError as exc:
                        raise DecodeError(start + exc.start, "valid UTF-8 string data") from None
            elif prefix == 5 or prefix == 6:
                end = pos + 21
                if end > size:
                    raise DecodeError(pos, "a principal version byte and hash160", "end of input")
                if buf[pos] >= 32:
                    raise DecodeError(pos, "a principal version below 32", f"got {buf[pos]}")
                if prefix == 5:
                    node = standard(buf[pos:end])
                    pos = end
                else:
                    try:
                        name_end = end + 1 + buf[end]
                    except IndexError:
                        raise DecodeError(end, "a name length byte", "end of input") from None
                    if name_end > size:
                        raise DecodeError(end + 1, "name bytes", "end of input")
                    raw = buf[end + 1 : name_end]
                    contract_text = contract_names_get(raw)
                    if contract_text is None:
                        contract_text = contract_name(raw)
                        if contract_text is None:
                            raise DecodeError(
                                end + 1, "a valid contract name of at most 128 bytes", repr(raw)
                            )
                    node = contract(buf[pos:end], contract_text)
                    pos = name_end
            elif prefix == 10 or prefix == 7 or prefix == 8:
                stack.append((kind, data, remaining, previous, name))
                kind, depth = prefix, depth + 1
                continue
            elif prefix == 9:
                node = none()
            elif prefix == 0:
                end = pos + 16
                if end > size:
                    raise DecodeError(pos, "a 16-byte integer", "end of input")
                node = int_(int.from_bytes(buf[pos:end], signed=True))
                pos = end
            elif prefix == 3 or prefix == 4:
                node = bool_(prefix == 3)
            elif prefix == 11:
                end = pos + 4
                if end > size:
                    raise DecodeError(pos, "a 4-byte list length", "end of input")
                count = int.from_bytes(buf[pos:end])
                if count > max_size:
                    raise DecodeError(pos, f"a list length of at most {MAX_VALUE_SIZE}", f"got {count}")
                pos = end
                if count:
                    stack.append((kind, data, remaining, previous, name))
                    kind, data, remaining, depth = 11, [], count, depth + 1
                    continue
                node = [] if list_ is None else list_([])
            else:
                raise DecodeError(pos - 1, "a Clarity type prefix 0x00..0x0e", f"got 0x{prefix:02x}")
            # Put `node` into the open container; close every container that is now full.
            while True:
                if kind == 12:  # tuple
                    data[name] = node
                    remaining -= 1
                    if remaining:
                        break
                    if tuple_ is not None:
                        node = tuple_(data)
                    else:
                        node = data
                elif kind == 10:  # some
                    if some is not None:
                        node = some(node)
                elif kind == 7:  # ok
                    node = ok(node)
                elif kind == 8:  # err
                    node = err(node)
                elif kind == 11:  # list
                    data.append(node)
                    remaining -= 1
                    if remaining:
                        break
                    node = data if list_ is None else list_(data)
                else:
                    return node, pos
                kind, data, remaining, previous, name = stack.pop()
                depth -= 1

    return read


def _value_reader(canonical: bool) -> Reader:
    return make_reader(
        uint=UInt,
        int_=Int,
        bool_=Bool,
        buffer=Buffer,
        string_ascii=StringAscii,
        string_utf8=StringUtf8,
        standard=lambda issuer: StandardPrincipal(issuer[0], issuer[1:]),
        contract=lambda issuer, name: ContractPrincipal(issuer[0], issuer[1:], name),
        none=OptionalNone,
        some=OptionalSome,
        ok=ResponseOk,
        err=ResponseErr,
        list_=List,
        tuple_=Tuple,
        canonical=canonical,
    )


_read_canonical = _value_reader(canonical=True)
_read_any_order = _value_reader(canonical=False)


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
