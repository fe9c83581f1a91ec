"""Premium earned over time (an accounting view, no contract computes it: the vault earns a policy's pool
premium at settlement). `analytics.platform_daily` prorates each premium over the policy's coverage, from its
creation to its expiry in burn heights; the SQL side is `transforms/project/macros/earning.sql`."""

from __future__ import annotations

from fractions import Fraction


def earned_between(amount: int, created: int, expiry: int, lo: int, hi: int) -> Fraction:
    """The part of ``amount`` earned pro rata over the coverage [created, expiry) that falls in [lo, hi):
    amount × overlap / (expiry − created), exact (not rounded); 0 without overlap."""
    if expiry <= created:
        raise ValueError("empty coverage")
    return Fraction(amount * max(min(expiry, hi) - max(created, lo), 0), expiry - created)
