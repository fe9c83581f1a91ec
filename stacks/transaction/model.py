"""Stacks transaction objects and their byte-exact serialization.

Layout per SIP-005 "Transaction Encoding" as extended by stacks-core
(``stacks-codec/src/transaction.rs``): mainnet chain id 1, payload types 5-8,
post-condition mode 3, post-condition types 3-4 and NFT code 0x12.  Every object
writes itself with ``write(out)``; parsing lives in :mod:`stacks.transaction.decode`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import IntEnum
from typing import ClassVar

from stacks.clarity import ClarityValue, ContractPrincipal, StandardPrincipal, write_value
from stacks.clarity.codec import write_name
from stacks.errors import EncodeError
from stacks.hashing import sha512_256
from stacks.names import CONTRACT_MAX_NAME_LENGTH

CHAIN_ID_MAINNET = 0x00000001
CHAIN_ID_TESTNET = 0x80000000
MEMO_LENGTH = 34
EMPTY_SIGNATURE = bytes(65)


class TransactionVersion(IntEnum):
    MAINNET = 0x00
    TESTNET = 0x80


class AuthType(IntEnum):
    STANDARD = 0x04
    SPONSORED = 0x05


class HashMode(IntEnum):
    P2PKH = 0x00
    P2SH = 0x01
    P2WPKH = 0x02
    P2WSH = 0x03
    P2SH_NON_SEQUENTIAL = 0x05  # SIP-027 order-independent multisig
    P2WSH_NON_SEQUENTIAL = 0x07


SINGLE_SIG_HASH_MODES = frozenset({HashMode.P2PKH, HashMode.P2WPKH})


class KeyEncoding(IntEnum):
    COMPRESSED = 0x00
    UNCOMPRESSED = 0x01


class AuthFieldType(IntEnum):
    PUBLIC_KEY_COMPRESSED = 0x00
    PUBLIC_KEY_UNCOMPRESSED = 0x01
    SIGNATURE_COMPRESSED = 0x02
    SIGNATURE_UNCOMPRESSED = 0x03


class AnchorMode(IntEnum):
    ON_CHAIN_ONLY = 0x01
    OFF_CHAIN_ONLY = 0x02
    ANY = 0x03


class PostConditionMode(IntEnum):
    ALLOW = 0x01
    DENY = 0x02
    ORIGINATOR = 0x03  # stacks-core 3.4+


class FungibleConditionCode(IntEnum):
    EQ = 0x01
    GT = 0x02
    GE = 0x03
    LT = 0x04
    LE = 0x05


class NonFungibleConditionCode(IntEnum):
    SENT = 0x10
    NOT_SENT = 0x11
    MAYBE_SENT = 0x12  # stacks-core 3.4+


class PoxConditionCode(IntEnum):
    NOT_PERFORMED = 0x30
    MAYBE_PERFORMED = 0x31
    PERFORMED = 0x32


class PayloadType(IntEnum):
    TOKEN_TRANSFER = 0
    SMART_CONTRACT = 1
    CONTRACT_CALL = 2
    POISON_MICROBLOCK = 3
    COINBASE = 4
    COINBASE_TO_ALT_RECIPIENT = 5
    VERSIONED_SMART_CONTRACT = 6
    TENURE_CHANGE = 7
    NAKAMOTO_COINBASE = 8


class TenureChangeCause(IntEnum):
    BLOCK_FOUND = 0
    EXTENDED = 1
    # SIP-034 per-dimension extensions
    EXTENDED_RUNTIME = 2
    EXTENDED_READ_COUNT = 3
    EXTENDED_READ_LENGTH = 4
    EXTENDED_WRITE_COUNT = 5
    EXTENDED_WRITE_LENGTH = 6


def _u8(out: bytearray, value: int) -> None:
    out.append(value)


def _fixed(out: bytearray, data: bytes, length: int, what: str) -> None:
    if len(data) != length:
        raise EncodeError(f"{what} must be {length} bytes, got {len(data)}")
    out += data


def _u64(out: bytearray, value: int, what: str) -> None:
    if not 0 <= value < 1 << 64:
        raise EncodeError(f"{what} out of u64 range: {value}")
    out += value.to_bytes(8)


def _u32(out: bytearray, value: int, what: str) -> None:
    if not 0 <= value < 1 << 32:
        raise EncodeError(f"{what} out of u32 range: {value}")
    out += value.to_bytes(4)


def _contract_name(out: bytearray, name: str) -> None:
    write_name(name, out, contract=True, max_length=CONTRACT_MAX_NAME_LENGTH)


def _issuer(out: bytearray, principal: StandardPrincipal | ContractPrincipal) -> None:
    if not 0 <= principal.version < 32:
        raise EncodeError(f"address version must be 0..31: {principal.version}")
    out.append(principal.version)
    _fixed(out, principal.hash160, 20, "hash160")


# --- authorization -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SingleSigSpendingCondition:
    hash_mode: HashMode
    signer: bytes  # hash160
    nonce: int
    fee: int
    key_encoding: KeyEncoding
    signature: bytes = EMPTY_SIGNATURE  # 65 bytes, recovery id first ("VRS")

    def write(self, out: bytearray) -> None:
        _u8(out, self.hash_mode)
        _fixed(out, self.signer, 20, "signer hash160")
        _u64(out, self.nonce, "nonce")
        _u64(out, self.fee, "fee")
        _u8(out, self.key_encoding)
        _fixed(out, self.signature, 65, "signature")

    def cleared(self) -> SingleSigSpendingCondition:
        """The form that goes into the initial sighash."""
        return self.with_signature(EMPTY_SIGNATURE, nonce=0, fee=0)

    def with_signature(
        self, signature: bytes, *, nonce: int | None = None, fee: int | None = None
    ) -> SingleSigSpendingCondition:
        # Direct construction: dataclasses.replace() costs as much as the hashing.
        return SingleSigSpendingCondition(
            self.hash_mode,
            self.signer,
            self.nonce if nonce is None else nonce,
            self.fee if fee is None else fee,
            self.key_encoding,
            signature,
        )


@dataclass(frozen=True, slots=True)
class AuthField:
    """A multisig field: a 33-byte public key or a 65-byte signature, with its flag."""

    field_type: AuthFieldType
    data: bytes

    @property
    def is_signature(self) -> bool:
        return self.field_type >= AuthFieldType.SIGNATURE_COMPRESSED

    @property
    def compressed(self) -> bool:
        return self.field_type in (AuthFieldType.PUBLIC_KEY_COMPRESSED, AuthFieldType.SIGNATURE_COMPRESSED)

    def write(self, out: bytearray) -> None:
        _u8(out, self.field_type)
        _fixed(out, self.data, 65 if self.is_signature else 33, "auth field")


@dataclass(frozen=True, slots=True)
class MultiSigSpendingCondition:
    hash_mode: HashMode
    signer: bytes
    nonce: int
    fee: int
    fields: tuple[AuthField, ...]
    signatures_required: int

    def write(self, out: bytearray) -> None:
        _u8(out, self.hash_mode)
        _fixed(out, self.signer, 20, "signer hash160")
        _u64(out, self.nonce, "nonce")
        _u64(out, self.fee, "fee")
        _u32(out, len(self.fields), "field count")
        for field in self.fields:
            field.write(out)
        if not 0 <= self.signatures_required < 1 << 16:
            raise EncodeError(f"signatures_required out of u16 range: {self.signatures_required}")
        out += self.signatures_required.to_bytes(2)

    def cleared(self) -> MultiSigSpendingCondition:
        return replace(self, nonce=0, fee=0, fields=())


SpendingCondition = SingleSigSpendingCondition | MultiSigSpendingCondition

# What a sponsor condition is replaced with while computing the initial sighash.
SIGHASH_SPONSOR_SENTINEL = SingleSigSpendingCondition(HashMode.P2PKH, bytes(20), 0, 0, KeyEncoding.COMPRESSED)


@dataclass(frozen=True, slots=True)
class Authorization:
    origin: SpendingCondition
    sponsor: SpendingCondition | None = None  # present iff sponsored

    @property
    def auth_type(self) -> AuthType:
        return AuthType.STANDARD if self.sponsor is None else AuthType.SPONSORED

    def write(self, out: bytearray) -> None:
        _u8(out, self.auth_type)
        self.origin.write(out)
        if self.sponsor is not None:
            self.sponsor.write(out)


# --- post-conditions ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OriginPrincipal:
    """Post-condition principal 0x01: whoever signed as origin."""


PostConditionPrincipal = OriginPrincipal | StandardPrincipal | ContractPrincipal


def _write_pc_principal(out: bytearray, principal: PostConditionPrincipal) -> None:
    if isinstance(principal, OriginPrincipal):
        out.append(0x01)
    elif isinstance(principal, StandardPrincipal):
        out.append(0x02)
        _issuer(out, principal)
    else:
        out.append(0x03)
        _issuer(out, principal)
        _contract_name(out, principal.name)


@dataclass(frozen=True, slots=True)
class AssetInfo:
    """``ADDR.contract::asset``."""

    contract: ContractPrincipal
    asset_name: str

    def write(self, out: bytearray) -> None:
        _issuer(out, self.contract)
        _contract_name(out, self.contract.name)
        write_name(self.asset_name, out, contract=False)

    def __str__(self) -> str:
        return f"{self.contract}::{self.asset_name}"


@dataclass(frozen=True, slots=True)
class STXPostCondition:
    principal: PostConditionPrincipal
    code: FungibleConditionCode
    amount: int

    def write(self, out: bytearray) -> None:
        out.append(0x00)
        _write_pc_principal(out, self.principal)
        _u8(out, self.code)
        _u64(out, self.amount, "amount")


@dataclass(frozen=True, slots=True)
class FungiblePostCondition:
    principal: PostConditionPrincipal
    asset: AssetInfo
    code: FungibleConditionCode
    amount: int

    def write(self, out: bytearray) -> None:
        out.append(0x01)
        _write_pc_principal(out, self.principal)
        self.asset.write(out)
        _u8(out, self.code)
        _u64(out, self.amount, "amount")


@dataclass(frozen=True, slots=True)
class NonFungiblePostCondition:
    principal: PostConditionPrincipal
    asset: AssetInfo
    asset_value: ClarityValue
    code: NonFungibleConditionCode

    def write(self, out: bytearray) -> None:
        out.append(0x02)
        _write_pc_principal(out, self.principal)
        self.asset.write(out)
        write_value(self.asset_value, out, sort_keys=False)
        _u8(out, self.code)


@dataclass(frozen=True, slots=True)
class StakingPostCondition:
    """Type 0x03 (stacks-core 4.0+): bounds on STX locked by the principal."""

    principal: PostConditionPrincipal
    code: FungibleConditionCode
    amount: int

    def write(self, out: bytearray) -> None:
        out.append(0x03)
        _write_pc_principal(out, self.principal)
        _u8(out, self.code)
        _u64(out, self.amount, "amount")


@dataclass(frozen=True, slots=True)
class PoxPostCondition:
    """Type 0x04 (stacks-core 4.0+): whether a PoX operation may happen."""

    principal: PostConditionPrincipal
    code: PoxConditionCode

    def write(self, out: bytearray) -> None:
        out.append(0x04)
        _write_pc_principal(out, self.principal)
        _u8(out, self.code)


PostCondition = (
    STXPostCondition
    | FungiblePostCondition
    | NonFungiblePostCondition
    | StakingPostCondition
    | PoxPostCondition
)


# --- payloads ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TokenTransferPayload:
    payload_type: ClassVar[PayloadType] = PayloadType.TOKEN_TRANSFER
    recipient: StandardPrincipal | ContractPrincipal
    amount: int
    memo: bytes = bytes(MEMO_LENGTH)

    def write(self, out: bytearray) -> None:
        out.append(self.payload_type)
        write_value(self.recipient, out)
        _u64(out, self.amount, "amount")
        _fixed(out, self.memo, MEMO_LENGTH, "memo")


@dataclass(frozen=True, slots=True)
class SmartContractPayload:
    """Types 1 and 6: ``clarity_version`` is ``None`` for the unversioned form."""

    name: str
    code: str
    clarity_version: int | None = None

    @property
    def payload_type(self) -> PayloadType:
        return PayloadType.SMART_CONTRACT if self.clarity_version is None else PayloadType.VERSIONED_SMART_CONTRACT

    def write(self, out: bytearray) -> None:
        out.append(self.payload_type)
        if self.clarity_version is not None:
            _u8(out, self.clarity_version)
        _contract_name(out, self.name)
        body = self.code.encode("ascii")
        _u32(out, len(body), "code length")
        out += body


@dataclass(frozen=True, slots=True)
class ContractCallPayload:
    payload_type: ClassVar[PayloadType] = PayloadType.CONTRACT_CALL
    contract: ContractPrincipal
    function_name: str
    args: tuple[ClarityValue, ...]

    def write(self, out: bytearray) -> None:
        out.append(self.payload_type)
        _issuer(out, self.contract)
        _contract_name(out, self.contract.name)
        write_name(self.function_name, out, contract=False)
        _u32(out, len(self.args), "argument count")
        for arg in self.args:
            write_value(arg, out, sort_keys=False)


@dataclass(frozen=True, slots=True)
class MicroblockHeader:
    version: int
    sequence: int
    prev_block: bytes  # 32
    tx_merkle_root: bytes  # 32
    signature: bytes  # 65

    def write(self, out: bytearray) -> None:
        _u8(out, self.version)
        out += self.sequence.to_bytes(2)
        _fixed(out, self.prev_block, 32, "prev_block")
        _fixed(out, self.tx_merkle_root, 32, "tx_merkle_root")
        _fixed(out, self.signature, 65, "microblock signature")


@dataclass(frozen=True, slots=True)
class PoisonMicroblockPayload:
    payload_type: ClassVar[PayloadType] = PayloadType.POISON_MICROBLOCK
    header_1: MicroblockHeader
    header_2: MicroblockHeader

    def write(self, out: bytearray) -> None:
        out.append(self.payload_type)
        self.header_1.write(out)
        self.header_2.write(out)


@dataclass(frozen=True, slots=True)
class CoinbasePayload:
    """Types 4, 5 and 8.

    ``recipient`` is set for type 5 (required) and may be set for type 8; ``vrf_proof``
    (80 bytes) is present exactly for type 8, the Nakamoto coinbase.
    """

    payload_type: PayloadType
    buffer: bytes  # 32
    recipient: StandardPrincipal | ContractPrincipal | None = None
    vrf_proof: bytes | None = None

    def write(self, out: bytearray) -> None:
        out.append(self.payload_type)
        _fixed(out, self.buffer, 32, "coinbase buffer")
        if self.payload_type == PayloadType.COINBASE_TO_ALT_RECIPIENT:
            if self.recipient is None:
                raise EncodeError("coinbase-to-alt-recipient needs a recipient")
            write_value(self.recipient, out)
        elif self.payload_type == PayloadType.NAKAMOTO_COINBASE:
            if self.vrf_proof is None:
                raise EncodeError("Nakamoto coinbase needs a VRF proof")
            if self.recipient is None:
                out.append(0x09)
            else:
                out.append(0x0A)
                write_value(self.recipient, out)
            _fixed(out, self.vrf_proof, 80, "VRF proof")


@dataclass(frozen=True, slots=True)
class TenureChangePayload:
    payload_type: ClassVar[PayloadType] = PayloadType.TENURE_CHANGE
    tenure_consensus_hash: bytes  # 20
    prev_tenure_consensus_hash: bytes  # 20
    burn_view_consensus_hash: bytes  # 20
    previous_tenure_end: bytes  # 32
    previous_tenure_blocks: int
    cause: TenureChangeCause
    pubkey_hash: bytes  # 20

    def write(self, out: bytearray) -> None:
        out.append(self.payload_type)
        _fixed(out, self.tenure_consensus_hash, 20, "tenure_consensus_hash")
        _fixed(out, self.prev_tenure_consensus_hash, 20, "prev_tenure_consensus_hash")
        _fixed(out, self.burn_view_consensus_hash, 20, "burn_view_consensus_hash")
        _fixed(out, self.previous_tenure_end, 32, "previous_tenure_end")
        _u32(out, self.previous_tenure_blocks, "previous_tenure_blocks")
        _u8(out, self.cause)
        _fixed(out, self.pubkey_hash, 20, "pubkey_hash")


Payload = (
    TokenTransferPayload
    | SmartContractPayload
    | ContractCallPayload
    | PoisonMicroblockPayload
    | CoinbasePayload
    | TenureChangePayload
)


# --- transaction -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Transaction:
    version: TransactionVersion
    chain_id: int
    auth: Authorization
    anchor_mode: AnchorMode
    post_condition_mode: PostConditionMode
    post_conditions: tuple[PostCondition, ...]
    payload: Payload

    def serialize(self) -> bytes:
        out = bytearray()
        out.append(self.version)
        _u32(out, self.chain_id, "chain id")
        self.auth.write(out)
        _u8(out, self.anchor_mode)
        _u8(out, self.post_condition_mode)
        _u32(out, len(self.post_conditions), "post-condition count")
        for condition in self.post_conditions:
            condition.write(out)
        self.payload.write(out)
        return bytes(out)

    def with_auth(self, auth: Authorization) -> Transaction:
        return Transaction(
            self.version,
            self.chain_id,
            auth,
            self.anchor_mode,
            self.post_condition_mode,
            self.post_conditions,
            self.payload,
        )

    @property
    def txid(self) -> str:
        """SHA-512/256 of the serialized transaction, lowercase hex without ``0x``."""
        return sha512_256(self.serialize()).hex()

    @property
    def is_mainnet(self) -> bool:
        return self.version == TransactionVersion.MAINNET

    @property
    def origin(self) -> SpendingCondition:
        return self.auth.origin

    @property
    def sponsor(self) -> SpendingCondition | None:
        return self.auth.sponsor
