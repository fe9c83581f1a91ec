"""Which marts a per-block run must build, from what was written since each mart's last good run.

dbt's fixed cost per model (~30-40 ms of Python, several times that on a loaded machine) is most of a
per-block run, so a mart none of whose inputs changed is not run at all. A mart's inputs come from the parsed
manifest: the contracts whose staging models it reads (``meta.contract``, set by the ``contract_events``
macro). A mart with a contract upstream changes only when one of those contracts prints: its other inputs (the
block of each event, for times and heights) are read for those events only. A mart with no contract upstream
(the chain's blocks, the contract calls) changes with every new block.

A mart is built when, since its position in ``marts.build_state`` (the last ``raw.observer_requests`` id and
``raw.reorgs`` id it has seen), a fork was reported, or a block was written (new or a gap fill) that carries a
print of one of its contracts (any print: canonical or not, well-formed or quarantined), or, without a contract
upstream, any block; or when it has no position yet. Every other mart is moved to the same snapshot's
position and tip in the transaction that found nothing for it, so ``analytics.freshness`` reports it current
and its next window starts at the next new block, exactly as if dbt had run it over an empty window.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg

#: the build state of every mart, grouped by position; per group: a fork since, any new block, the contracts
#: that printed in the new blocks. One round trip, in one snapshot with the positions it reports.
_PLAN_SQL = """
with snapshot as (
    select (select coalesce(max(id), 0) from raw.observer_requests) as request_id,
           (select coalesce(max(id), 0) from raw.reorgs) as reorg_id,
           (select block_height from raw.chain_tip) as tip_height,
           (select burn_block_height from raw.chain_tip) as tip_burn_height
),
positions as (
    select request_id, reorg_id, array_agg(model) as models
    from marts.build_state group by request_id, reorg_id
)
select p.models,
       exists (select from raw.reorgs r where r.id > p.reorg_id) as forked,
       exists (select from raw.blocks b where b.request_id > p.request_id) as new_blocks,
       -- each new block's events through the events key (offset 0 keeps the lateral a per-block probe):
       -- with the position a correlated value, a plain join was planned for an unknown number of blocks and
       -- hashed against a sequential scan of every print in raw.events, a cost that grew with the chain
       array(select distinct e.contract_identifier
             from raw.blocks b
             cross join lateral (select e.contract_identifier from raw.events e
                                 where e.index_block_hash = b.index_block_hash and e.topic = 'print'
                                   and e.contract_identifier = any(%(contracts)s) offset 0) as e
             where b.request_id > p.request_id) as printed,
       s.request_id, s.reorg_id, s.tip_height, s.tip_burn_height
from positions p cross join snapshot s
"""

_ADVANCE_SQL = """
update marts.build_state set request_id = %(request_id)s, reorg_id = %(reorg_id)s,
    next_request_id = %(request_id)s, next_reorg_id = %(reorg_id)s,
    tip_height = %(tip_height)s, tip_burn_height = %(tip_burn_height)s,
    included_height = %(tip_height)s, included_burn_height = %(tip_burn_height)s, built_at = now()
where model = any(%(models)s)
"""


@dataclass(frozen=True)
class Mart:
    name: str  #: the dbt model name (what --select takes)
    table: str  #: its table in marts (its key in marts.build_state)
    contracts: frozenset[str]  #: contract ids upstream; empty: it changes with every block


@dataclass
class Plan:
    build: list[Mart] = field(default_factory=list)
    advanced: list[Mart] = field(default_factory=list)


def marts(manifest, deployer: str) -> list[Mart]:
    """The marts of a parsed manifest (``materialized: mart``), each with the contracts it reads."""
    nodes = manifest.nodes

    def contracts(uid: str, seen: set[str]) -> set[str]:
        if uid in seen or uid not in nodes:
            return set()
        seen.add(uid)
        node = nodes[uid]
        own = (node.config.meta or {}).get("contract")
        found = {f"{deployer}.{own}"} if own else set()
        for up in node.depends_on.nodes:
            found |= contracts(up, seen)
        return found

    return sorted((Mart(n.name, n.alias or n.name, frozenset(contracts(uid, set())))
                   for uid, n in nodes.items()
                   if n.resource_type == "model" and n.config.materialized == "mart"),
                  key=lambda m: m.name)


def plan(url: str, all_marts: list[Mart]) -> Plan:
    """Decide, and move every mart with nothing new to the current position (committed before returning)."""
    contracts = sorted(set().union(*(m.contracts for m in all_marts)))
    by_table = {m.table: m for m in all_marts}
    out = Plan()
    with psycopg.connect(url) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        try:
            rows = conn.execute(_PLAN_SQL, {"contracts": contracts}).fetchall()
        except psycopg.errors.UndefinedTable:  # nothing built yet (the on-run-start hook creates build_state)
            return Plan(build=list(all_marts))
        placed: set[str] = set()
        snapshot = None
        for models, forked, new_blocks, printed, *position in rows:
            snapshot = position
            for table in models:
                mart = by_table.get(table)
                if mart is None:
                    continue  # a mart no longer in the project
                placed.add(table)
                changed = forked or (bool(mart.contracts & set(printed)) if mart.contracts else new_blocks)
                (out.build if changed else out.advanced).append(mart)
        out.build += [m for m in all_marts if m.table not in placed]  # never built: its first window is all
        if out.advanced and snapshot is not None:
            request_id, reorg_id, tip_height, tip_burn_height = snapshot
            conn.execute(_ADVANCE_SQL, {"request_id": request_id, "reorg_id": reorg_id, "tip_height": tip_height,
                                        "tip_burn_height": tip_burn_height,
                                        "models": [m.table for m in out.advanced]})
        conn.commit()
    return out
