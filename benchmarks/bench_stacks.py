"""Decode and signing rates of the ``stacks`` package on one core.

Decodes every print-event ``raw_value`` (and all other Clarity values and transactions)
found in ``../shared/fixtures/stacks`` repeatedly and prints values per second; then signs
contract calls.  Run: ``.venv/bin/python benchmarks/bench_stacks.py [seconds-per-figure]``.

Each figure is the best of many short rounds (as ``timeit`` advises): on a shared machine
the mean mostly measures the neighbours.  The single-pass JSON decoders are printed next to
the two-step path they replace (``to_json(decode(x))``, ``to_plain(decode(x))``).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from stacks import clarity  # noqa: E402
from stacks.keys import parse_private_key  # noqa: E402
from stacks.transaction import decode_transaction, make_contract_call, sign, with_fee  # noqa: E402
from tests.stacks import fixture_data  # noqa: E402

KEY = "b244296d5907de9864c0b0d51f98a13c52890be0404e83f273144cd5b9960eed01"


TARGET_PRINT_VALUES_PER_SECOND = 100_000


def measure(items: list, work: Callable[[object], object], seconds: float) -> float:
    """Run ``work`` over ``items`` in ~20 ms rounds for about ``seconds``; best items/s."""
    for item in items:  # warm up (and fill the decoders' memo tables)
        work(item)
    per_round = max(1, round(0.02 * len(items) / max(_time_once(items, work), 1e-9)))
    best, started = 0.0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        round_started = time.perf_counter()
        for _ in range(per_round):
            for item in items:
                work(item)
        best = max(best, per_round * len(items) / (time.perf_counter() - round_started))
    return best


def _time_once(items: list, work: Callable[[object], object]) -> float:
    started = time.perf_counter()
    for item in items:
        work(item)
    return time.perf_counter() - started


def rate(label: str, items: list, work: Callable[[object], object], seconds: float) -> float:
    per_second = measure(items, work, seconds)
    print(f"{label:<50} {per_second:>12,.0f} /s   ({len(items)} distinct inputs)")
    return per_second


def compare(label: str, items: list, new: Callable, old: Callable, seconds: float) -> float:
    """Print the new path next to the old one with the speed-up and the target check."""
    fast, slow = measure(items, new, seconds), measure(items, old, seconds)
    verdict = "meets" if fast >= TARGET_PRINT_VALUES_PER_SECOND else "misses"
    print(
        f"{label:<50} {fast:>12,.0f} /s   vs {slow:>9,.0f} /s two-step = x{fast / slow:.2f}"
        f"   ({verdict} {TARGET_PRINT_VALUES_PER_SECOND:,}/s)"
    )
    return fast


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("seconds", nargs="?", type=float, default=2.0, help="time spent on each figure")
    seconds = parser.parse_args().seconds
    if not fixture_data.available():
        sys.exit(f"fixtures not found at {fixture_data.FIXTURES}")
    items = fixture_data.raw_items()
    prints = [bytes.fromhex(i.hex[2:]) for i in items if i.kind == "raw_value" and i.topic == "print"]
    values = [bytes.fromhex(i.hex[2:]) for i in items if i.kind in ("raw_value", "raw_result")]
    txs = [
        bytes.fromhex(i.hex[2:])
        for i in items
        if i.kind in ("raw_tx", "mempool_tx") and i.hex != fixture_data.BURNCHAIN_OP_RAW_TX
    ]
    print(f"{len(prints)} print-event values, {sum(map(len, prints)) / len(prints):.0f} bytes on average")
    rate("print-event values: decode (value objects)", prints, clarity.decode, seconds)
    compare(
        "print-event values: decode_to_json (typed)",
        prints,
        clarity.decode_to_json,
        lambda raw: clarity.to_json(clarity.decode(raw)),
        seconds,
    )
    compare(
        "print-event values: decode_to_plain",
        prints,
        clarity.decode_to_plain,
        lambda raw: clarity.to_plain(clarity.decode(raw)),
        seconds,
    )
    rate("all Clarity values: decode", values, clarity.decode, seconds)
    rate("transactions: decode_transaction", txs, decode_transaction, seconds)

    unsigned = make_contract_call(
        contract="SP000000000000000000002Q6VF78.bns",
        function_name="name-renewal",
        function_args=[clarity.Buffer(b"id"), clarity.UInt(108330), clarity.OptionalNone()],
        sender_key=KEY,
        nonce=0,
        fee=1000,
        mainnet=True,
    )
    fees = [with_fee(unsigned, fee) for fee in range(1000, 1256)]
    key = parse_private_key(KEY)  # a keeper parses its key once
    rate("signatures: sign contract call (re-sign, new fee)", fees, lambda tx: sign(tx, key), seconds)


if __name__ == "__main__":
    main()
