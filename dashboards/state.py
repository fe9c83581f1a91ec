"""The app-wide state every page reads: how current the analytics are (``analytics.freshness``) and whether
they can be shown at all (database down, views missing, nothing indexed, another deployment)."""

from __future__ import annotations

from dashboards import context
from dashboards.db import Unavailable

#: whether BitHedge events exist, by (database, raw height, marts height): the block poll asks every 2 s and
#: the answer can change only when a block arrives
_events_seen: dict[tuple, bool] = {}


def read_state() -> dict:
    """``{"status": "ok", "height", "burn", "age_s", "raw_height", "build"}`` or ``{"status": <why not>,
    "message"}``. ``build`` names the marts' last build (its time): a reorg can give the same height other
    contents, never the same build."""
    db = context.db()
    try:
        rows = db.rows("freshness")
    except Unavailable as u:
        if u.kind == "missing":
            return {"status": "missing", "message": "The analytics views are not built yet (analytics.freshness "
                                                    "is missing): run `bithedge transforms build`."}
        return {"status": u.kind, "message": str(u)}
    nothing = {"status": "empty", "message": "No blocks indexed yet: the analytics are empty. Start the "
                                             "indexer (`bithedge up`) and the views fill as blocks arrive."}
    if not rows:
        return nothing
    f = rows[0]._mapping
    if not f["raw_stacks_height"]:  # built over an empty index: the transforms ran, there was nothing to read
        return nothing
    if f["marts_stacks_height"] is None:
        return {"status": "empty", "message": "Blocks are indexed but the transforms have not run yet."}
    state = {"status": "ok", "height": int(f["marts_stacks_height"]), "burn": int(f["marts_burn_height"] or 0),
             "raw_height": int(f["raw_stacks_height"] or 0),
             "age_s": None if f["built_age_s"] is None else round(float(f["built_age_s"])),
             "build": None if f["built_at"] is None else float(f["built_at"])}
    key = (db.url, state["raw_height"], state["height"])
    found = _events_seen.get(key)
    if found is None:
        try:
            (found,) = db.rows("any_bithedge_events")[0]
        except Unavailable as u:
            return {"status": u.kind, "message": str(u)}
        _events_seen.clear()  # one height at a time: the answer changes only with the indexed data
        _events_seen[key] = bool(found)
    if not found:
        return {**state, "status": "no-events",
                "message": f"No BitHedge events in the {state['raw_height']:,} indexed blocks: this chain is not "
                           "the deployment these views were built for. Check BITHEDGE_TRANSFORMS_DEPLOYER "
                           "(the deployer address of the BitHedge contracts) and rebuild the transforms."}
    return state


def version(state: dict) -> tuple:
    """What the analytics' contents are keyed by for a cache: the marts' height and build."""
    return state.get("height"), state.get("build")


def stamp(state: dict) -> str:
    """The line under every title: ``as of block N · burn height H · t s ago``."""
    if state.get("status") not in ("ok", "no-events") or "burn" not in state:
        return state.get("message", "")
    age = "–" if state.get("age_s") is None else f"{state['age_s']:,} s ago"
    return f"as of block {state['height']:,} · burn height {state['burn']:,} · {age}"


def changed(old: dict | None, new: dict) -> bool:
    """Pages re-query only on a new build of the marts (a new block, or the same height rebuilt after a reorg) or a
    change of status (the age ticks in the stamp alone)."""
    if not old:
        return True
    return (old.get("status"), old.get("height"), old.get("build"), old.get("message")) != (
        new.get("status"), new.get("height"), new.get("build"), new.get("message"))
