"""Exceptions raised by the ``stacks`` package.

Everything derives from :class:`StacksError` so callers can catch the package as a whole;
the concrete classes also derive from ``ValueError`` because they all describe bad input.
"""

from __future__ import annotations


class StacksError(Exception):
    """Base class of every error this package raises on purpose."""


class DecodeError(StacksError, ValueError):
    """Bytes (or hex) that are not a valid encoding of what the caller asked for.

    ``offset`` is the byte position in the input where decoding stopped and ``expected``
    names what should have been there, so a log line is enough to find the bad byte.
    """

    def __init__(self, offset: int, expected: str, detail: str = "") -> None:
        self.offset = offset
        self.expected = expected
        self.detail = detail
        message = f"at byte {offset}: expected {expected}"
        super().__init__(f"{message} ({detail})" if detail else message)


class EncodeError(StacksError, ValueError):
    """A Python value that cannot be put on the wire (out of range, bad name, too deep...)."""


class SignatureError(StacksError, ValueError):
    """A signature that does not verify, or a key that cannot sign."""
