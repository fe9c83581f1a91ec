"""The print-event catalog of ``contracts/EVENTS.md`` as the dbt macro ``event_catalog()``.

EVENTS.md is the one description of every event and field; the staging models decode fields, and the
quarantine model checks names and types, from the macro generated here. ``python -m transforms.catalog``
rewrites ``project/macros/event_catalog.sql``; a test fails when the committed file is out of date.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from bithedge.settings import REPO_ROOT

EVENTS_MD = REPO_ROOT / "contracts" / "EVENTS.md"
MACRO = Path(__file__).resolve().parent / "project" / "macros" / "event_catalog.sql"

_CONTRACT = re.compile(r"^## (bithedge-[a-z-]+)\s*$")
_EVENT = re.compile(r"^### `([a-z0-9-]+)`")
_ROW = re.compile(r"^\|\s*`([a-z0-9-]+)`\s*\|\s*([^|]+?)\s*\|")


def clarity_type(text: str) -> str:
    """EVENTS.md's type cell as the typed-JSON ``type`` (``(string-ascii 12)`` -> ``string-ascii``)."""
    t = text.strip().strip("()").split()[0]
    return {"buff": "buffer"}.get(t, t)


def parse(md: str) -> dict[str, dict[str, list[tuple[str, str]]]]:
    """{contract name: {event name: [(field, clarity type), ...]}} in document order, ``event`` excluded."""
    out: dict[str, dict[str, list[tuple[str, str]]]] = {}
    contract = event = None
    for line in md.splitlines():
        if m := _CONTRACT.match(line):
            contract, event = m.group(1), None
            out[contract] = {}
        elif (m := _EVENT.match(line)) and contract:
            event = m.group(1)
            out[contract][event] = []
        elif (m := _ROW.match(line)) and contract and event and m.group(1) != "event":
            out[contract][event].append((m.group(1), clarity_type(m.group(2))))
    return {c: evs for c, evs in out.items() if evs}


def render(catalog: dict[str, dict[str, list[tuple[str, str]]]]) -> str:
    lines = [
        "{#- GENERATED from contracts/EVENTS.md by `python -m transforms.catalog`; do not edit. -#}",
        "{#- {contract name: {event name: [[field, typed-JSON type], ...]}} -#}",
        "{% macro event_catalog() %}",
        "{{ return({",
    ]
    for contract, events in catalog.items():
        lines.append(f"  '{contract}': {{")
        for event, fields in events.items():
            inner = ", ".join(f"['{f}', '{t}']" for f, t in fields)
            lines.append(f"    '{event}': [{inner}],")
        lines.append("  },")
    lines += ["}) }}", "{% endmacro %}", ""]
    return "\n".join(lines)


def generate() -> str:
    return render(parse(EVENTS_MD.read_text()))


def main() -> int:
    MACRO.write_text(generate())
    print(f"wrote {MACRO.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
