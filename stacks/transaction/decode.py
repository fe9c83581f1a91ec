"""Parse serialized Stacks transactions into :mod:`stacks.transaction.model` objects.

Every failure is a :class:`stacks.errors.DecodeError` carrying the byte offset and what
was expected there; unknown enum bytes are rejected as stacks-core rejects them.
"""

from __future__ import annotations

import struct
from enum import IntEnum
from typing import TypeVar

from stacks.clarity import ClarityValue, ContractPrincipal, OptionalNone, OptionalSome, StandardPrincipal
from stacks.clarity.codec import Bytes, as_bytes, read_name, read_value
from stacks.errors import DecodeError
from stacks.names import CONTRACT_MAX_NAME_LENGTH

from .model import (
    SINGLE_SIG_HASH_MODES,
    AnchorMode,
    AssetInfo,
    AuthField,
    AuthFieldType,
    Authorization,
    AuthType,
    CoinbasePayload,
    ContractCallPayload,
    FungibleConditionCode,
    FungiblePostCondition,
    HashMode,
    KeyEncoding,
    MicroblockHeader,
    MultiSigSpendingCondition,
    NonFungibleConditionCode,
    NonFungiblePostCondition,
    OriginPrincipal,
    Payload,
    PayloadType,
    PoisonMicroblockPayload,
    PostCondition,
    PostConditionMode,
    PostConditionPrincipal,
    PoxConditionCode,
    PoxPostCondition,
    SingleSigSpendingCondition,
    SmartContractPayload,
    SpendingCondition,
    StakingPostCondition,
    STXPostCondition,
    TenureChangeCause,
    TenureChangePayload,
    TokenTransferPayload,
    Transaction,
    TransactionVersion,
)

E = TypeVar("E", bound=IntEnum)

# stacks-core ClarityVersion: Clarity1..Clarity6 are defined at the time of writing.
CLARITY_VERSIONS = range(1, 7)


class _Reader:
    """Cursor over the input; each read checks bounds and names what it wanted."""

    __slots__ = ("buf", "pos")

    def __init__(self, buf: bytes) -> None:
        self.buf = buf
        self.pos = 0

    def take(self, length: int, what: str) -> bytes:
        start, end = self.pos, self.pos + length
        if end > len(self.buf):
            raise DecodeError(start, what, "end of input")
        self.pos = end
        return self.buf[start:end]

    def uint(self, length: int, what: str) -> int:
        return int.from_bytes(self.take(length, what))

    def enum(self, kind: type[E], what: str) -> E:
        offset = self.pos
        raw = self.uint(1, what)
        member = _MEMBERS[kind].get(raw)
        if member is None:
            raise DecodeError(offset, what, f"unknown value 0x{raw:02x}")
        return member

    def value(self) -> ClarityValue:
        value, self.pos = read_value(self.buf, self.pos, canonical=False)
        return value

    def name(self, *, contract: bool) -> str:
        max_length = CONTRACT_MAX_NAME_LENGTH if contract else 128
        name, self.pos = read_name(self.buf, self.pos, contract=contract, max_length=max_length)
        return name

    def issuer(self, what: str) -> tuple[int, bytes]:
        offset = self.pos
        version = self.uint(1, f"{what} address version")
        if version >= 32:
            raise DecodeError(offset, f"{what} address version below 32", f"got {version}")
        return version, self.take(20, f"{what} hash160")

    def principal_value(self, what: str) -> StandardPrincipal | ContractPrincipal:
        offset = self.pos
        value = self.value()
        if not isinstance(value, StandardPrincipal | ContractPrincipal):
            raise DecodeError(offset, f"a principal as {what}", type(value).__name__)
        return value


def decode_transaction(data: Bytes) -> Transaction:
    """Decode exactly one transaction from bytes or hex (``0x`` optional)."""
    reader = _Reader(as_bytes(data))
    head = _single_sig_head(reader)
    if head is not None:
        version, chain_id, auth, anchor_mode, pc_mode, count = head
    else:
        version = reader.enum(TransactionVersion, "a transaction version (0x00 or 0x80)")
        chain_id = reader.uint(4, "a 4-byte chain id")
        auth = _authorization(reader)
        anchor_mode = reader.enum(AnchorMode, "an anchor mode (1..3)")
        pc_mode = reader.enum(PostConditionMode, "a post-condition mode (1..3)")
        count = reader.uint(4, "a 4-byte post-condition count")
    post_conditions = tuple(_post_condition(reader) for _ in range(count))
    payload = _payload(reader)
    if reader.pos != len(reader.buf):
        raise DecodeError(reader.pos, "end of transaction", f"{len(reader.buf) - reader.pos} trailing bytes")
    return Transaction(version, chain_id, auth, anchor_mode, pc_mode, post_conditions, payload)


# Enum members by byte: a dict lookup instead of IntEnum.__call__, which dominated decoding time.
_MEMBERS: dict[type[IntEnum], dict[int, IntEnum]] = {
    kind: {int(m): m for m in kind}
    for kind in (TransactionVersion, AuthType, HashMode, KeyEncoding, AuthFieldType, AnchorMode, PostConditionMode,
                 FungibleConditionCode, NonFungibleConditionCode, PoxConditionCode, PayloadType, TenureChangeCause)
}
# version, chain id, auth type, hash mode, signer, nonce, fee, key encoding, signature, anchor mode,
# post-condition mode, post-condition count: everything before the post-conditions of a standard single-sig
# transaction (nearly every transaction on chain), read in one call.
_SINGLE_SIG_HEAD = struct.Struct(">BIBB20sQQB65sBBI")


def _single_sig_head(reader: _Reader) -> tuple | None:
    """The fixed-layout prefix of a standard single-sig transaction, or None (nothing consumed) when the bytes
    are anything else, too short or invalid: then the general path decodes them and names the error."""
    buf = reader.buf
    if len(buf) < _SINGLE_SIG_HEAD.size or buf[5] != AuthType.STANDARD:
        return None
    (version, chain_id, _auth, hash_mode, signer, nonce, fee, key_encoding, signature, anchor, pc_mode,
     count) = _SINGLE_SIG_HEAD.unpack_from(buf)
    version = _MEMBERS[TransactionVersion].get(version)
    hash_mode = _MEMBERS[HashMode].get(hash_mode)
    key_encoding = _MEMBERS[KeyEncoding].get(key_encoding)
    anchor = _MEMBERS[AnchorMode].get(anchor)
    pc_mode = _MEMBERS[PostConditionMode].get(pc_mode)
    if (version is None or hash_mode not in SINGLE_SIG_HASH_MODES or key_encoding is None or anchor is None
            or pc_mode is None):
        return None
    reader.pos = _SINGLE_SIG_HEAD.size
    origin = SingleSigSpendingCondition(hash_mode, signer, nonce, fee, key_encoding, signature)
    return version, chain_id, Authorization(origin), anchor, pc_mode, count


def _authorization(reader: _Reader) -> Authorization:
    auth_type = reader.enum(AuthType, "an authorization type (0x04 or 0x05)")
    origin = _spending_condition(reader)
    if auth_type == AuthType.STANDARD:
        return Authorization(origin)
    return Authorization(origin, _spending_condition(reader))


def _spending_condition(reader: _Reader) -> SpendingCondition:
    hash_mode = reader.enum(HashMode, "a hash mode (0x00-0x03, 0x05, 0x07)")
    signer = reader.take(20, "a signer hash160")
    nonce = reader.uint(8, "an 8-byte nonce")
    fee = reader.uint(8, "an 8-byte fee")
    if hash_mode in SINGLE_SIG_HASH_MODES:
        key_encoding = reader.enum(KeyEncoding, "a key encoding (0x00 or 0x01)")
        signature = reader.take(65, "a 65-byte signature")
        return SingleSigSpendingCondition(hash_mode, signer, nonce, fee, key_encoding, signature)
    count = reader.uint(4, "a 4-byte auth field count")
    fields = []
    for _ in range(count):
        field_type = reader.enum(AuthFieldType, "an auth field type (0x00-0x03)")
        length = 65 if field_type >= AuthFieldType.SIGNATURE_COMPRESSED else 33
        fields.append(AuthField(field_type, reader.take(length, f"a {length}-byte auth field")))
    required = reader.uint(2, "a 2-byte signature count")
    return MultiSigSpendingCondition(hash_mode, signer, nonce, fee, tuple(fields), required)


def _pc_principal(reader: _Reader) -> PostConditionPrincipal:
    offset = reader.pos
    kind = reader.uint(1, "a post-condition principal type")
    if kind == 0x01:
        return OriginPrincipal()
    if kind == 0x02:
        return StandardPrincipal(*reader.issuer("post-condition principal"))
    if kind == 0x03:
        version, hash160 = reader.issuer("post-condition principal")
        return ContractPrincipal(version, hash160, reader.name(contract=True))
    raise DecodeError(offset, "a post-condition principal type (0x01-0x03)", f"got 0x{kind:02x}")


def _asset_info(reader: _Reader) -> AssetInfo:
    version, hash160 = reader.issuer("asset contract")
    contract = ContractPrincipal(version, hash160, reader.name(contract=True))
    return AssetInfo(contract, reader.name(contract=False))


def _post_condition(reader: _Reader) -> PostCondition:
    offset = reader.pos
    kind = reader.uint(1, "a post-condition type")
    if kind == 0x00:
        principal = _pc_principal(reader)
        code = reader.enum(FungibleConditionCode, "a fungible condition code (0x01-0x05)")
        return STXPostCondition(principal, code, reader.uint(8, "an 8-byte amount"))
    if kind == 0x01:
        principal = _pc_principal(reader)
        asset = _asset_info(reader)
        code = reader.enum(FungibleConditionCode, "a fungible condition code (0x01-0x05)")
        return FungiblePostCondition(principal, asset, code, reader.uint(8, "an 8-byte amount"))
    if kind == 0x02:
        principal = _pc_principal(reader)
        asset = _asset_info(reader)
        value = reader.value()
        code = reader.enum(NonFungibleConditionCode, "a non-fungible condition code (0x10-0x12)")
        return NonFungiblePostCondition(principal, asset, value, code)
    if kind == 0x03:
        principal = _pc_principal(reader)
        code = reader.enum(FungibleConditionCode, "a fungible condition code (0x01-0x05)")
        return StakingPostCondition(principal, code, reader.uint(8, "an 8-byte amount"))
    if kind == 0x04:
        principal = _pc_principal(reader)
        return PoxPostCondition(principal, reader.enum(PoxConditionCode, "a PoX condition code (0x30-0x32)"))
    raise DecodeError(offset, "a post-condition type (0x00-0x04)", f"got 0x{kind:02x}")


def _microblock_header(reader: _Reader) -> MicroblockHeader:
    return MicroblockHeader(
        version=reader.uint(1, "a microblock header version"),
        sequence=reader.uint(2, "a microblock sequence"),
        prev_block=reader.take(32, "a 32-byte previous block hash"),
        tx_merkle_root=reader.take(32, "a 32-byte merkle root"),
        signature=reader.take(65, "a 65-byte microblock signature"),
    )


def _contract_code(reader: _Reader) -> str:
    length = reader.uint(4, "a 4-byte code length")
    offset = reader.pos
    body = reader.take(length, f"{length} bytes of contract code")
    try:
        return body.decode("ascii")
    except UnicodeDecodeError as exc:
        raise DecodeError(offset + exc.start, "ASCII contract code") from None


def _payload(reader: _Reader) -> Payload:
    kind = reader.enum(PayloadType, "a payload type (0x00-0x08)")
    if kind == PayloadType.TOKEN_TRANSFER:
        recipient = reader.principal_value("token-transfer recipient")
        amount = reader.uint(8, "an 8-byte amount")
        return TokenTransferPayload(recipient, amount, reader.take(34, "a 34-byte memo"))
    if kind == PayloadType.CONTRACT_CALL:
        version, hash160 = reader.issuer("contract")
        contract = ContractPrincipal(version, hash160, reader.name(contract=True))
        function_name = reader.name(contract=False)
        count = reader.uint(4, "a 4-byte argument count")
        return ContractCallPayload(contract, function_name, tuple(reader.value() for _ in range(count)))
    if kind in (PayloadType.SMART_CONTRACT, PayloadType.VERSIONED_SMART_CONTRACT):
        clarity_version = None
        if kind == PayloadType.VERSIONED_SMART_CONTRACT:
            offset = reader.pos
            clarity_version = reader.uint(1, "a Clarity version")
            if clarity_version not in CLARITY_VERSIONS:
                raise DecodeError(offset, "a known Clarity version", f"got {clarity_version}")
        name = reader.name(contract=True)
        return SmartContractPayload(name, _contract_code(reader), clarity_version)
    if kind == PayloadType.POISON_MICROBLOCK:
        return PoisonMicroblockPayload(_microblock_header(reader), _microblock_header(reader))
    if kind == PayloadType.TENURE_CHANGE:
        return TenureChangePayload(
            tenure_consensus_hash=reader.take(20, "a 20-byte tenure consensus hash"),
            prev_tenure_consensus_hash=reader.take(20, "a 20-byte previous tenure consensus hash"),
            burn_view_consensus_hash=reader.take(20, "a 20-byte burn view consensus hash"),
            previous_tenure_end=reader.take(32, "a 32-byte previous tenure end"),
            previous_tenure_blocks=reader.uint(4, "a 4-byte previous tenure block count"),
            cause=reader.enum(TenureChangeCause, "a tenure change cause (0-6)"),
            pubkey_hash=reader.take(20, "a 20-byte pubkey hash"),
        )
    buffer = reader.take(32, "a 32-byte coinbase buffer")
    if kind == PayloadType.COINBASE:
        return CoinbasePayload(kind, buffer)
    if kind == PayloadType.COINBASE_TO_ALT_RECIPIENT:
        return CoinbasePayload(kind, buffer, reader.principal_value("coinbase recipient"))
    offset = reader.pos
    option = reader.value()
    if isinstance(option, OptionalNone):
        recipient = None
    elif isinstance(option, OptionalSome) and isinstance(option.value, StandardPrincipal | ContractPrincipal):
        recipient = option.value
    else:
        raise DecodeError(offset, "an optional principal as Nakamoto coinbase recipient")
    return CoinbasePayload(kind, buffer, recipient, reader.take(80, "an 80-byte VRF proof"))
