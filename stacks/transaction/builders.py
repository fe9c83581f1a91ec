"""Build and sign single-sig transactions the way @stacks/transactions 7.x does.

With the same key, nonce, fee, modes, post-conditions and payload, the bytes equal
``makeContractCall`` / ``makeSTXTokenTransfer`` output (tested against the pinned npm
package in ``tests/stacks/js``).  Nothing here talks to a node: nonce and fee are
always explicit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from stacks.address import parse_principal
from stacks.clarity import ClarityValue, ContractPrincipal, StandardPrincipal, decode, encode
from stacks.errors import EncodeError
from stacks.hashing import hash160
from stacks.keys import PrivateKey, parse_private_key

from .model import (
    CHAIN_ID_MAINNET,
    CHAIN_ID_TESTNET,
    MEMO_LENGTH,
    AnchorMode,
    Authorization,
    ContractCallPayload,
    HashMode,
    KeyEncoding,
    NonFungiblePostCondition,
    Payload,
    PostCondition,
    PostConditionMode,
    SingleSigSpendingCondition,
    TokenTransferPayload,
    Transaction,
    TransactionVersion,
)
from .signing import sign


def _canonical(value: ClarityValue) -> ClarityValue:
    """Re-read the canonical encoding, so tuple keys end up byte-sorted (and validated)."""
    return decode(encode(value))


def _canonical_post_condition(condition: PostCondition) -> PostCondition:
    if isinstance(condition, NonFungiblePostCondition):
        return replace(condition, asset_value=_canonical(condition.asset_value))
    return condition


def _principal(value: str | StandardPrincipal | ContractPrincipal) -> StandardPrincipal | ContractPrincipal:
    return parse_principal(value) if isinstance(value, str) else value


def make_unsigned(
    payload: Payload,
    *,
    public_key: bytes,
    nonce: int,
    fee: int,
    mainnet: bool,
    chain_id: int | None = None,
    anchor_mode: AnchorMode = AnchorMode.ANY,
    post_condition_mode: PostConditionMode = PostConditionMode.DENY,
    post_conditions: Iterable[PostCondition] = (),
) -> Transaction:
    """A single-sig P2PKH transaction with an empty signature; Clarity values in
    post-conditions are canonicalized (pass canonical payload arguments)."""
    encoding = KeyEncoding.COMPRESSED if len(public_key) == 33 else KeyEncoding.UNCOMPRESSED
    origin = SingleSigSpendingCondition(HashMode.P2PKH, hash160(public_key), nonce, fee, encoding)
    return Transaction(
        version=TransactionVersion.MAINNET if mainnet else TransactionVersion.TESTNET,
        chain_id=chain_id if chain_id is not None else CHAIN_ID_MAINNET if mainnet else CHAIN_ID_TESTNET,
        auth=Authorization(origin),
        anchor_mode=anchor_mode,
        post_condition_mode=post_condition_mode,
        post_conditions=tuple(map(_canonical_post_condition, post_conditions)),
        payload=payload,
    )


def _build(payload: Payload, sender_key: str | bytes | PrivateKey, **options) -> Transaction:
    key = parse_private_key(sender_key)
    return sign(make_unsigned(payload, public_key=key.public_key, **options), key)


def make_contract_call(
    *,
    contract: str | ContractPrincipal,
    function_name: str,
    function_args: Iterable[ClarityValue],
    sender_key: str | bytes | PrivateKey,
    nonce: int,
    fee: int,
    mainnet: bool,
    chain_id: int | None = None,
    anchor_mode: AnchorMode = AnchorMode.ANY,
    post_condition_mode: PostConditionMode = PostConditionMode.DENY,
    post_conditions: Iterable[PostCondition] = (),
) -> Transaction:
    """Signed contract call to ``contract`` (``"SP….name"``).

    Defaults mirror @stacks/transactions 7: anchor mode ``ANY``, post-condition mode
    ``DENY``, chain id 1 on mainnet and 0x80000000 otherwise.
    """
    target = _principal(contract)
    if not isinstance(target, ContractPrincipal):
        raise EncodeError(f"contract call target must be a contract principal: {contract}")
    payload = ContractCallPayload(target, function_name, tuple(map(_canonical, function_args)))
    return _build(
        payload,
        sender_key,
        nonce=nonce,
        fee=fee,
        mainnet=mainnet,
        chain_id=chain_id,
        anchor_mode=anchor_mode,
        post_condition_mode=post_condition_mode,
        post_conditions=post_conditions,
    )


def make_token_transfer(
    *,
    recipient: str | StandardPrincipal | ContractPrincipal,
    amount: int,
    sender_key: str | bytes | PrivateKey,
    nonce: int,
    fee: int,
    mainnet: bool,
    memo: str | bytes = b"",
    chain_id: int | None = None,
    anchor_mode: AnchorMode = AnchorMode.ANY,
    post_condition_mode: PostConditionMode = PostConditionMode.DENY,
    post_conditions: Iterable[PostCondition] = (),
) -> Transaction:
    """Signed STX transfer of ``amount`` µSTX; ``memo`` (≤ 34 bytes) is zero-padded."""
    raw_memo = memo.encode() if isinstance(memo, str) else bytes(memo)
    if len(raw_memo) > MEMO_LENGTH:
        raise EncodeError(f"memo longer than {MEMO_LENGTH} bytes")
    payload = TokenTransferPayload(_principal(recipient), amount, raw_memo.ljust(MEMO_LENGTH, b"\x00"))
    return _build(
        payload,
        sender_key,
        nonce=nonce,
        fee=fee,
        mainnet=mainnet,
        chain_id=chain_id,
        anchor_mode=anchor_mode,
        post_condition_mode=post_condition_mode,
        post_conditions=post_conditions,
    )
