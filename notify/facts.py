"""Triggering facts from the ``analytics`` views, and the decision to notify (the outbox rows).

Each scan reads the current facts of every kind (``FACT_QUERIES``: one SQL per kind over the interface views,
parametrized by the distinct parameters subscribers asked for) and, in one transaction:

- records new facts (``first_seen_at``: when the fact became visible in analytics);
- marks *removed* the recorded facts of a reorg-sensitive kind that analytics no longer shows (their keys name
  transactions, so a fact re-mined in another block keeps its key); their queued deliveries are cancelled, and
  each one already sent gets a correction delivery; a removed fact that comes back is decided again;
- decides the facts at least ``confirmations`` burn blocks deep: one outbox row per matching subscription,
  ``dedupe_key = <subscription>:<fact>:notify`` unique, ``delivery_id`` derived from it.

Threshold facts (pool coverage below a level) are episodes: each time the condition starts to hold is a new fact;
they are states, never removed. The first scan ever (``notify.scan_state``) records what exists as already
decided, so a new deployment does not notify history.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal

import asyncpg

#: kinds whose facts a reorg can take away (the others are states of the present)
REORG_KINDS = ("policy_created", "policy_settled", "policy_voided", "policy_expiring", "proposal_created",
               "proposal_voting_ending", "proposal_executed", "price_crossing")

_SUBS = "SELECT DISTINCT params, param_key FROM notify.subscriptions WHERE enabled AND kind = '{kind}'"
_POLICY = ("jsonb_build_object('policy_id', p.policy_id, 'owner', p.owner, 'token', p.token, 'pool_tier', p.pool_tier,"
           " 'strike', p.strike::text, 'amount', p.amount::text, 'premium', p.premium::text, 'expiry', p.expiry,"
           " 'status', p.status, 'created_txid', p.created_txid)")
_PROPOSAL = ("jsonb_build_object('proposal_id', q.proposal_id, 'proposer', q.proposer, 'kind', q.kind, 'key', q.key,"
             " 'value', q.value::text, 'state', q.state, 'end_burn_height', q.end_burn_height,"
             " 'created_txid', q.created_txid)")


def _within_blocks(kind: str, source: str, deadline: str, active: str, audience: str, payload: str) -> str:
    """Facts "``deadline`` is within N burn blocks" for each N subscribers asked for: while ``active``, or already
    recorded (so a policy that settles later is not taken for a removed fact). ``source``'s alias has
    ``created_txid`` and ``created_burn_height``."""
    alias = source.rsplit(" ", 1)[1]
    blocks = "(s.params->>'blocks')::bigint"
    key = f"'{kind}:' || {alias}.created_txid || ':' || s.param_key"
    return f"""
        SELECT {key}, '{kind}', s.param_key, {audience},
               greatest({alias}.created_burn_height, {deadline} - {blocks}),
               {payload} || jsonb_build_object('blocks', {blocks})
        FROM {source} CROSS JOIN ({_SUBS.format(kind=kind)}) s
        WHERE {deadline} - {blocks} <= $1
          AND ({active} OR EXISTS (SELECT 1 FROM notify.facts f WHERE f.fact_key = {key}))"""


# Columns: fact_key, kind, param_key, audience, owner, pool_token, pool_tier, burn_height, payload
FACT_QUERIES: dict[str, str] = {
    "policy_created": f"""
        SELECT 'policy_created:' || p.created_txid, 'policy_created', '', 'owner', p.owner, p.token, p.pool_tier,
               p.created_burn_height, {_POLICY}
        FROM analytics.policies p""",
    "policy_settled": f"""
        SELECT 'policy_settled:' || p.created_txid || ':' || p.settled_txid, 'policy_settled', '', 'owner', p.owner,
               p.token, p.pool_tier, p.settled_burn_height,
               {_POLICY} || jsonb_build_object('outcome', p.status_onchain, 'payout', p.payout::text,
                 'fund_cover', p.fund_cover::text, 'settlement_price', p.settlement_price::text,
                 'settled_txid', p.settled_txid)
        FROM analytics.policies p WHERE p.status_onchain IN ('settled-itm', 'settled-otm')""",
    "policy_voided": f"""
        SELECT 'policy_voided:' || p.created_txid || ':' || coalesce(p.settled_txid, ''), 'policy_voided', '',
               'owner', p.owner, p.token, p.pool_tier, coalesce(p.settled_burn_height, p.expiry),
               {_POLICY} || jsonb_build_object('refund', p.refund::text, 'missing_asset', p.missing_asset)
        FROM analytics.policies p WHERE p.status_onchain = 'voided'""",
    "policy_expiring": _within_blocks("policy_expiring", "analytics.policies p", "p.expiry", "p.status = 'active'",
                                      "'owner', p.owner, p.token, p.pool_tier", _POLICY),
    "proposal_created": f"""
        SELECT 'proposal_created:' || q.created_txid, 'proposal_created', '', 'all', NULL, NULL, NULL,
               q.created_burn_height, {_PROPOSAL}
        FROM analytics.proposals q""",
    "proposal_voting_ending": _within_blocks("proposal_voting_ending", "analytics.proposals q", "q.end_burn_height",
                                             "q.state = 'active'", "'all', NULL, NULL, NULL", _PROPOSAL),
    "proposal_executed": f"""
        SELECT 'proposal_executed:' || q.created_txid, 'proposal_executed', '', 'all', NULL, NULL, NULL,
               coalesce(q.ended_burn_height, q.created_burn_height), {_PROPOSAL}
        FROM analytics.proposals q WHERE q.state = 'executed'""",
    "price_crossing": f"""
        SELECT 'price_crossing:' || o.txid || ':' || o.event_index || ':' || s.param_key, 'price_crossing',
               s.param_key, 'all', NULL, NULL, NULL, o.burn_height,
               jsonb_build_object('asset', o.asset, 'price', o.price::text, 'previous_price', o.previous_price::text,
                 'level', s.params->>'level', 'direction', CASE WHEN o.price > o.previous_price THEN 'up' ELSE 'down' END,
                 'txid', o.txid)
        FROM analytics.oracle_prices o JOIN ({_SUBS.format(kind='price_crossing')}) s ON o.asset = s.params->>'asset'
        WHERE o.previous_height > 0 AND (
          (s.params->>'direction' IN ('up', 'either') AND o.previous_price < (s.params->>'level')::numeric
             AND o.price >= (s.params->>'level')::numeric)
          OR (s.params->>'direction' IN ('down', 'either') AND o.previous_price > (s.params->>'level')::numeric
             AND o.price <= (s.params->>'level')::numeric))""",
}
# The pool_risk column a coverage subscription names (notify.kinds.COVERAGE_METRICS), as a CASE.
_COVERAGE = f"""
    SELECT r.token, r.tier, s.param_key,
           CASE s.params->>'metric' WHEN 'coverage_ratio' THEN r.coverage_ratio WHEN 'adequacy_btc_m10' THEN r.adequacy_btc_m10
             WHEN 'adequacy_btc_m20' THEN r.adequacy_btc_m20 WHEN 'adequacy_btc_m30' THEN r.adequacy_btc_m30
             WHEN 'adequacy_btc_m50' THEN r.adequacy_btc_m50 END AS value, s.params
    FROM analytics.pool_risk r CROSS JOIN ({_SUBS.format(kind='pool_coverage_low')}) s"""
# The keeper's alerts view, when it exists: its row id, else the row's hash, names the fact.
_ALERTS = """
    SELECT 'operator_alert:' || coalesce(a.j->>'alert_id', a.j->>'id', md5(a.j::text)), 'operator_alert', '', 'admin',
           NULL, NULL, NULL, coalesce((a.j->>'burn_height')::bigint, $1), a.j
    FROM (SELECT to_jsonb(x) AS j FROM analytics.alerts x) a"""

_DECIDE = """
WITH ready AS (
  SELECT * FROM notify.facts
  WHERE decided_at IS NULL AND removed_at IS NULL AND burn_height + $1 <= $2
  FOR UPDATE
), matched AS (
  SELECT f.fact_key, f.kind, f.payload, f.first_seen_at, s.subscription_id, s.user_id, s.channel_id, s.digest
  FROM ready f
  JOIN notify.subscriptions s ON s.kind = f.kind AND s.param_key = f.param_key AND s.enabled
       AND s.created_at <= f.first_seen_at
  JOIN notify.channels c ON c.channel_id = s.channel_id AND c.verified_at IS NOT NULL AND c.disabled_at IS NULL
  JOIN notify.users u ON u.user_id = s.user_id
  WHERE f.audience = 'all'
     OR (f.audience = 'admin' AND u.is_admin)
     OR (f.audience = 'owner' AND EXISTS (SELECT 1 FROM notify.user_addresses a
                                          WHERE a.user_id = s.user_id AND a.address = f.owner))
     OR (f.audience = 'provider' AND EXISTS (
           SELECT 1 FROM notify.user_addresses a JOIN analytics.providers pr ON pr.provider = a.address
           WHERE a.user_id = s.user_id AND pr.token = f.pool_token AND pr.tier = f.pool_tier AND pr.shares > 0))
), inserted AS (
  INSERT INTO notify.outbox (delivery_id, dedupe_key, purpose, subscription_id, fact_key, user_id, channel_id,
                             status, payload, visible_at)
  SELECT md5(m.subscription_id || ':' || m.fact_key || ':notify')::uuid, m.subscription_id || ':' || m.fact_key || ':notify',
         'notify', m.subscription_id, m.fact_key, m.user_id, m.channel_id,
         CASE WHEN m.digest THEN 'held' ELSE 'queued' END,
         jsonb_build_object('kind', m.kind, 'fact_key', m.fact_key, 'data', m.payload), m.first_seen_at
  FROM matched m
  ON CONFLICT (dedupe_key) DO NOTHING
  RETURNING 1
), requeued AS (
  -- a fact a reorg removed and brought back: its cancelled deliveries go out after all
  UPDATE notify.outbox o SET status = 'queued', next_attempt_at = now()
  WHERE o.fact_key IN (SELECT fact_key FROM ready) AND o.status = 'cancelled' AND o.purpose = 'notify'
  RETURNING 1
), decided AS (
  UPDATE notify.facts f SET decided_at = now() FROM ready WHERE f.fact_key = ready.fact_key RETURNING 1
)
SELECT (SELECT count(*) FROM inserted) + (SELECT count(*) FROM requeued), (SELECT count(*) FROM decided)
"""

def corrections_sql(sent: str) -> str:
    """INSERT of one correction per sent notification in ``sent`` (a relation with the outbox's columns) whose fact
    is removed; idempotent (its own dedupe key)."""
    return f"""
INSERT INTO notify.outbox (delivery_id, dedupe_key, purpose, subscription_id, fact_key, user_id, channel_id, payload,
                           visible_at)
SELECT md5(o.subscription_id || ':' || o.fact_key || ':correction')::uuid,
       o.subscription_id || ':' || o.fact_key || ':correction', 'correction', o.subscription_id, o.fact_key,
       o.user_id, o.channel_id, o.payload || jsonb_build_object('correction_of', o.delivery_id::text), now()
FROM {sent} o
WHERE o.purpose = 'notify'
  AND EXISTS (SELECT 1 FROM notify.facts f WHERE f.fact_key = o.fact_key AND f.removed_at IS NOT NULL)
ON CONFLICT (dedupe_key) DO NOTHING"""


_CORRECT_REMOVED = corrections_sql(
    "(SELECT * FROM notify.outbox WHERE fact_key = ANY($1::text[]) AND purpose = 'notify' AND status = 'sent')")


@dataclass
class ScanResult:
    tip: int | None
    new: int = 0
    removed: int = 0
    restored: int = 0
    queued: int = 0
    decided: int = 0


async def _tip(conn: asyncpg.Connection) -> int | None:
    if await conn.fetchval("SELECT to_regclass('analytics.freshness')") is None:
        return None
    return await conn.fetchval("SELECT marts_burn_height FROM analytics.freshness")


async def _current_facts(conn: asyncpg.Connection, tip: int) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = []
    for sql in FACT_QUERIES.values():
        rows.extend(await conn.fetch(sql, *([tip] if "$1" in sql else [])))
    if await conn.fetchval("SELECT to_regclass('analytics.alerts')") is not None:
        rows.extend(await conn.fetch(_ALERTS, tip))
    rows.extend(await _coverage_facts(conn, tip))
    return rows


async def _coverage_facts(conn: asyncpg.Connection, tip: int) -> list[tuple]:
    facts = []
    for row in await conn.fetch(_COVERAGE):
        params = json.loads(row["params"])
        key = f"pool_coverage_low:{row['token']}:{row['tier']}:{row['param_key']}"
        holding = row["value"] is not None and row["value"] < Decimal(params["below"])
        episode = await conn.fetchval(
            "INSERT INTO notify.conditions AS c (condition_key, holding, episode)"
            " VALUES ($1, $2::boolean, $2::boolean::int)"
            " ON CONFLICT (condition_key) DO UPDATE SET holding = EXCLUDED.holding,"
            "   episode = c.episode + (EXCLUDED.holding AND NOT c.holding)::int,"
            "   changed_at = CASE WHEN c.holding <> EXCLUDED.holding THEN now() ELSE c.changed_at END"
            " RETURNING CASE WHEN holding THEN episode END", key, holding)
        if episode is not None:
            facts.append((f"{key}:{episode}", "pool_coverage_low", row["param_key"], "provider", None, row["token"],
                          row["tier"], tip, {"token": row["token"], "tier": row["tier"], "value": str(row["value"]),
                                             "metric": params["metric"], "below": params["below"]}))
    return facts


async def scan(conn: asyncpg.Connection, confirmations: int) -> ScanResult:
    """One pass: record, remove, restore and decide facts, in one transaction."""
    async with conn.transaction():
        # one scanner at a time: a second worker (or a restart overlapping the old one) waits here
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext('bithedge_notify_scan'))")
        tip = await _tip(conn)
        result = ScanResult(tip)
        if tip is None:
            return result
        baseline = await conn.fetchval(
            "INSERT INTO notify.scan_state (baseline_burn_height) VALUES ($1) ON CONFLICT DO NOTHING RETURNING true",
            tip) or False
        current = await _current_facts(conn, tip)
        keys = [row[0] for row in current]
        new = await conn.fetch(
            # first_seen_at is the clock now, not the scan transaction's start (now()): facts are read by a later
            # statement than the one that began it, and a subscription made in between must still see them
            """INSERT INTO notify.facts AS f (fact_key, kind, param_key, audience, owner, pool_token, pool_tier,
                                             burn_height, payload, decided_at, first_seen_at)
               SELECT k, kd, pk, au, ow, tk, tr, bh, pl, CASE WHEN $10 THEN now() END, clock_timestamp()
               FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                           $8::bigint[], $9::jsonb[]) AS u(k, kd, pk, au, ow, tk, tr, bh, pl)
               ON CONFLICT (fact_key) DO UPDATE SET removed_at = NULL, decided_at = NULL,
                 burn_height = EXCLUDED.burn_height, payload = EXCLUDED.payload
               WHERE f.removed_at IS NOT NULL
               RETURNING (xmax = 0) AS inserted""",
            keys, *[[row[i] for row in current] for i in range(1, 8)],
            [row[8] if isinstance(row[8], str) else json.dumps(row[8]) for row in current], baseline)
        result.new = sum(1 for r in new if r["inserted"])
        result.restored = len(new) - result.new
        removed = await conn.fetch(
            "UPDATE notify.facts SET removed_at = now() WHERE kind = ANY($1::text[]) AND removed_at IS NULL"
            " AND NOT (fact_key = ANY($2::text[])) RETURNING fact_key", list(REORG_KINDS), keys)
        gone = [r["fact_key"] for r in removed]
        result.removed = len(gone)
        if gone:
            await conn.execute(
                "UPDATE notify.outbox SET status = 'cancelled' WHERE fact_key = ANY($1::text[])"
                " AND purpose = 'notify' AND status IN ('queued', 'held')", gone)
            await conn.execute(_CORRECT_REMOVED, gone)
        result.queued, result.decided = await conn.fetchrow(_DECIDE, confirmations, tip)
        return result
