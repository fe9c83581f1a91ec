"""Generated dbt macros: the print-event catalog of ``contracts/EVENTS.md`` (``event_catalog()``) and the
deploy-time seed of ``bithedge-parameters.clar`` (``deploy_seed()``: parameters and tiers the contract sets
at deploy without printing an event).

EVENTS.md is the one description of every event and field; the staging models decode fields, and the
quarantine model checks names and types, from the macro generated here. ``python -m transforms.catalog``
rewrites both files under ``project/macros/``; a test fails when a committed file is out of date.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from bithedge.settings import REPO_ROOT

EVENTS_MD = REPO_ROOT / "contracts" / "EVENTS.md"
PARAMETERS_CLAR = REPO_ROOT / "contracts" / "contracts" / "bithedge-parameters.clar"
MACROS = Path(__file__).resolve().parent / "project" / "macros"

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


#: a bound is a literal, a constant or `(if is-in-mainnet <mainnet> <other>)` (either of those)
_BOUND = r"(u\d+|[A-Z][A-Z0-9-]*|\(if is-in-mainnet \S+ \S+\))"
_PARAM = re.compile(r'^\(map-set params "([a-z.-]+)" \{ value: u(\d+), min: ' + _BOUND + ", max: " + _BOUND + r" \}\)",
                    re.M)
_CONSTANT = re.compile(r"^\(define-constant ([A-Z][A-Z0-9-]*) (.+)\)$", re.M)
_NETWORK_IF = re.compile(r"^\(if is-in-mainnet (\S+) (\S+)\)$")
_TIER = re.compile(r'^\(map-set tiers \{ kind: "([a-z]+)", name: "([a-z]+)" \}\s*\{([^}]*)\}\)', re.M)
_TIER_FIELD = re.compile(r"([a-z-]+): (u\d+|true|false)")


def bound(expr: str, constants: dict[str, str]) -> int:
    """A bound's value off mainnet (the devnet and testnet this seed describes): ``(if is-in-mainnet a b)``
    is ``b``; a constant is its definition."""
    if m := _NETWORK_IF.match(expr):
        return bound(m.group(2), constants)
    if expr in constants:
        return bound(constants[expr], constants)
    if not re.fullmatch(r"u\d+", expr):
        raise ValueError(f"parameter bound {expr!r} is not a uint, a constant or an is-in-mainnet choice")
    return int(expr[1:])


def deploy_seed(clar: str) -> dict[str, list]:
    constants = dict(_CONSTANT.findall(clar))
    params = [[k, int(v), bound(lo, constants), bound(hi, constants)] for k, v, lo, hi in _PARAM.findall(clar)]
    if len(params) != clar.count("(map-set params \""):  # a bound written another way must not drop a param
        raise ValueError("a `map-set params` line of the contract does not parse")
    tiers = []
    for kind, name, body in _TIER.findall(clar):
        fields = {f: (v == "true") if v in ("true", "false") else int(v[1:]) for f, v in _TIER_FIELD.findall(body)}
        tiers.append([kind, name, fields])
    return {"params": params, "tiers": tiers}


def render_seed(seed: dict[str, list]) -> str:
    def lit(v: object) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, dict):
            return "{" + ", ".join(f"'{k}': {lit(x)}" for k, x in v.items()) + "}"
        if isinstance(v, list):
            return "[" + ", ".join(lit(x) for x in v) + "]"
        return f"'{v}'" if isinstance(v, str) else str(v)

    return "\n".join([
        "{#- GENERATED from contracts/contracts/bithedge-parameters.clar by `python -m transforms.catalog`. -#}",
        "{#- Values the contract sets at deploy without an event: params [key, value, min, max], tiers [kind, name, fields]. -#}",
        "{% macro deploy_seed() %}",
        "{{ return({",
        f"  'params': {lit(seed['params'])},",
        f"  'tiers': {lit(seed['tiers'])},",
        "}) }}",
        "{% endmacro %}",
        "",
    ])


def generate() -> dict[Path, str]:
    """File -> content of every generated macro."""
    return {
        MACROS / "event_catalog.sql": render(parse(EVENTS_MD.read_text())),
        MACROS / "deploy_seed.sql": render_seed(deploy_seed(PARAMETERS_CLAR.read_text())),
    }


def main() -> int:
    for path, text in generate().items():
        path.write_text(text)
        print(f"wrote {path.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
