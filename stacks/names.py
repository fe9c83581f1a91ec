"""Validation of Clarity names (tuple keys, functions, assets) and contract names.

Rules from stacks-core ``clarity-types/src/representations.rs``: both are at most 128
bytes on the wire (``MAX_STRING_LEN``); contract names in *transactions* are further
limited to 40 bytes (``CONTRACT_MAX_NAME_LENGTH``) by the transaction codec.
"""

from __future__ import annotations

import re

MAX_STRING_LEN = 128
CONTRACT_MAX_NAME_LENGTH = 40

# Leading "_" is accepted by the codec since Clarity 6 (older parsers reject it later).
# The length bound is in the pattern so the decoder's hot loop needs a single call.
CLARITY_NAME_PATTERN = re.compile(rb"[a-zA-Z_][a-zA-Z0-9\-_!?+<>=/*]{0,127}|[-+=/*]|[<>]=?")
_CONTRACT_NAME = re.compile(rb"[a-zA-Z][a-zA-Z0-9\-_]*|__transient")


def is_clarity_name(name: bytes) -> bool:
    """True for a valid tuple key / function / asset name given as ASCII bytes."""
    return CLARITY_NAME_PATTERN.fullmatch(name) is not None


def is_contract_name(name: bytes, max_length: int = MAX_STRING_LEN) -> bool:
    """True for a valid contract name; pass ``CONTRACT_MAX_NAME_LENGTH`` for tx payloads."""
    return 0 < len(name) <= max_length and _CONTRACT_NAME.fullmatch(name) is not None
