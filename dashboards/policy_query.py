"""The policies table's filters, sort and page as one parameterised query over ``analytics.policies`` (shared by
the page and the CSV export, so both read the same rows). Only whitelisted columns reach the SQL text."""

from __future__ import annotations

from dataclasses import dataclass, field

#: what the table shows, in order (every one sortable)
COLUMNS = ("policy_id", "status", "owner", "token", "buyer_tier", "pool_tier", "strike", "amount", "premium",
           "collateral", "expiry", "created_burn_height", "payout", "settled_burn_height")
STATUSES = ("active", "expired", "settled-itm", "settled-otm", "voided")
TOKENS = ("STX", "sBTC")
PAGE_SIZE = 50
#: the most rows one CSV export streams (stated on the page)
CSV_ROW_CAP = 100_000


@dataclass
class PolicyFilter:
    statuses: list[str] = field(default_factory=list)
    owner: str = ""
    token: str = ""
    tier: str = ""
    expiry_min: int | None = None
    expiry_max: int | None = None
    strike_min: int | None = None  # USD×1e8
    strike_max: int | None = None
    sort: str = "policy_id"
    descending: bool = True

    @classmethod
    def from_mapping(cls, m) -> PolicyFilter:
        """From the page's controls or a query string (bad values are dropped, never sent to SQL)."""

        def num(key):
            v = m.get(key)
            try:
                return int(v) if v not in (None, "") else None
            except (TypeError, ValueError):
                return None

        statuses = m.get("status") or []
        if isinstance(statuses, str):
            statuses = [s for s in statuses.split(",") if s]
        sort = m.get("sort") or "policy_id"
        return cls(
            statuses=[s for s in statuses if s in STATUSES],
            owner=str(m.get("owner") or "").strip(),
            token=m.get("token") if m.get("token") in TOKENS else "",
            tier=str(m.get("tier") or "").strip(),
            expiry_min=num("expiry_min"), expiry_max=num("expiry_max"),
            strike_min=num("strike_min"), strike_max=num("strike_max"),
            sort=sort if sort in COLUMNS else "policy_id",
            descending=str(m.get("dir", "desc")) != "asc",
        )

    def as_query(self) -> dict[str, str]:
        """The filter as query-string fields (the CSV link)."""
        out = {"sort": self.sort, "dir": "desc" if self.descending else "asc"}
        if self.statuses:
            out["status"] = ",".join(self.statuses)
        for k in ("owner", "token", "tier", "expiry_min", "expiry_max", "strike_min", "strike_max"):
            v = getattr(self, k)
            if v not in (None, ""):
                out[k] = str(v)
        return out

    def where(self) -> tuple[str, dict]:
        clauses, params = [], {}
        if self.statuses:
            clauses.append("status = ANY(:statuses)")
            params["statuses"] = list(self.statuses)
        if self.owner:
            clauses.append("owner = :owner")
            params["owner"] = self.owner
        if self.token:
            clauses.append("token = :token")
            params["token"] = self.token
        if self.tier:
            clauses.append("(pool_tier = :tier OR buyer_tier = :tier)")
            params["tier"] = self.tier
        for col, lo, hi in (("expiry", self.expiry_min, self.expiry_max), ("strike", self.strike_min, self.strike_max)):
            if lo is not None:
                clauses.append(f"{col} >= :{col}_min")
                params[f"{col}_min"] = lo
            if hi is not None:
                clauses.append(f"{col} <= :{col}_max")
                params[f"{col}_max"] = hi
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params

    def order(self) -> str:
        d = "DESC" if self.descending else "ASC"
        if self.sort == "policy_id":
            # the key is never NULL, and `DESC NULLS LAST` is not the order of its index read backwards: with it,
            # Postgres sorts every row for one page (629 ms at 1M policies; 0.2 ms without)
            return f" ORDER BY policy_id {d}"
        return f" ORDER BY {self.sort} {d} NULLS LAST, policy_id {d}"

    def page_sql(self, page: int, size: int = PAGE_SIZE) -> tuple[str, dict]:
        where, params = self.where()
        params.update(limit=size, offset=max(page, 0) * size)
        return f"SELECT {', '.join(COLUMNS)} FROM analytics.policies{where}{self.order()} LIMIT :limit OFFSET :offset", params

    def count_sql(self) -> tuple[str, dict]:
        where, params = self.where()
        if set(params) <= {"statuses"}:
            # no filter but the status: analytics.policy_status_counts has the count (43 ms at 1M policies, where a
            # count(*) of the policies view computes every policy's status: 0.15 s on each new block)
            return ("SELECT coalesce(sum(policies), 0)::bigint FROM analytics.policy_status_counts"
                    + where), params
        return f"SELECT count(*) FROM analytics.policies{where}", params

    def csv_sql(self, cap: int = CSV_ROW_CAP) -> tuple[str, dict]:
        where, params = self.where()
        params["cap"] = cap
        return f"SELECT * FROM analytics.policies{where}{self.order()} LIMIT :cap", params
