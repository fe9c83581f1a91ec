"""Hypothesis strategies for Clarity values and transactions."""

from __future__ import annotations

from hypothesis import strategies as st

from stacks import clarity
from stacks.transaction import (
    AnchorMode,
    AssetInfo,
    Authorization,
    ContractCallPayload,
    FungibleConditionCode,
    FungiblePostCondition,
    HashMode,
    KeyEncoding,
    NonFungibleConditionCode,
    NonFungiblePostCondition,
    OriginPrincipal,
    PostConditionMode,
    SingleSigSpendingCondition,
    STXPostCondition,
    TokenTransferPayload,
    Transaction,
    TransactionVersion,
)

hash160s = st.binary(min_size=20, max_size=20)
versions = st.integers(0, 31)
clarity_names = st.from_regex(r"[a-zA-Z_][a-zA-Z0-9\-_!?+<>=/*]{0,20}", fullmatch=True)
contract_names = st.from_regex(r"[a-zA-Z][a-zA-Z0-9\-_]{0,39}", fullmatch=True)
ascii_text = st.text(
    st.sampled_from([chr(c) for c in range(0x20, 0x7F)] + ["\t", "\n", "\r", "\x0c"]), max_size=40
)

standard_principals = st.builds(clarity.StandardPrincipal, versions, hash160s)
contract_principals = st.builds(clarity.ContractPrincipal, versions, hash160s, contract_names)

leaves = st.one_of(
    st.builds(clarity.Int, st.integers(clarity.codec.INT_MIN, clarity.codec.INT_MAX)),
    st.builds(clarity.UInt, st.integers(0, clarity.codec.UINT_MAX)),
    st.builds(clarity.Bool, st.booleans()),
    st.builds(clarity.Buffer, st.binary(max_size=64)),
    st.builds(clarity.StringAscii, ascii_text),
    st.builds(clarity.StringUtf8, st.text(st.characters(exclude_categories=("Cs",)), max_size=20)),
    standard_principals,
    contract_principals,
    st.builds(clarity.OptionalNone),
)


def _containers(children: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(
        st.builds(clarity.OptionalSome, children),
        st.builds(clarity.ResponseOk, children),
        st.builds(clarity.ResponseErr, children),
        st.builds(clarity.List, st.lists(children, max_size=4)),
        st.builds(clarity.Tuple, st.dictionaries(clarity_names, children, min_size=1, max_size=4)),
    )


values = st.recursive(leaves, _containers, max_leaves=20)

pc_principals = st.one_of(st.builds(OriginPrincipal), standard_principals, contract_principals)
assets = st.builds(AssetInfo, contract_principals, clarity_names)
post_conditions = st.one_of(
    st.builds(
        STXPostCondition, pc_principals, st.sampled_from(FungibleConditionCode), st.integers(0, 2**64 - 1)
    ),
    st.builds(
        FungiblePostCondition,
        pc_principals,
        assets,
        st.sampled_from(FungibleConditionCode),
        st.integers(0, 2**64 - 1),
    ),
    st.builds(
        NonFungiblePostCondition, pc_principals, assets, leaves, st.sampled_from(NonFungibleConditionCode)
    ),
)
payloads = st.one_of(
    st.builds(
        TokenTransferPayload,
        st.one_of(standard_principals, contract_principals),
        st.integers(0, 2**64 - 1),
        st.binary(min_size=34, max_size=34),
    ),
    st.builds(
        ContractCallPayload,
        contract_principals,
        clarity_names,
        st.lists(values, max_size=3).map(tuple),
    ),
)
origins = st.builds(
    SingleSigSpendingCondition,
    st.sampled_from([HashMode.P2PKH, HashMode.P2WPKH]),
    hash160s,
    st.integers(0, 2**64 - 1),
    st.integers(0, 2**64 - 1),
    st.sampled_from(KeyEncoding),
    st.binary(min_size=65, max_size=65),
)
transactions = st.builds(
    Transaction,
    st.sampled_from(TransactionVersion),
    st.integers(0, 2**32 - 1),
    st.builds(Authorization, origins, st.one_of(st.none(), origins)),
    st.sampled_from(AnchorMode),
    st.sampled_from(PostConditionMode),
    st.lists(post_conditions, max_size=3).map(tuple),
    payloads,
)
