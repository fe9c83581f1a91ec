"""The Risk page's and the risk report's reads (one place, so the report shows what the page shows)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pandas as pd
import plotly.graph_objects as go

from dashboards.db import Database

#: a shock is a signed percentage; the oracle price cannot fall by 100 % or more
SHOCK_MIN, SHOCK_MAX = Decimal("-99"), Decimal("500")


def shock(percent) -> Decimal:
    """A control's percentage as the signed fraction stress_payout takes (numeric: no float rounding)."""
    try:
        p = Decimal(str(percent)) if percent not in (None, "") else Decimal(0)
    except ArithmeticError:
        p = Decimal(0)
    if not p.is_finite():
        p = Decimal(0)
    return min(max(p, SHOCK_MIN), SHOCK_MAX) / 100


@dataclass
class RiskData:
    pool_risk: pd.DataFrame
    grid: pd.DataFrame
    concentration: pd.DataFrame
    expiries: pd.DataFrame

    @property
    def pool_risk_long(self) -> pd.DataFrame:
        """pool_risk with one row per measure and one column per pool (the view is wide and grows)."""
        if self.pool_risk.empty:
            return self.pool_risk
        wide = self.pool_risk.assign(pool=self.pool_risk["token"] + " " + self.pool_risk["tier"])
        long = wide.drop(columns=["token", "tier"]).set_index("pool").T
        long.index.name = "measure"
        return long.reset_index().astype(object).where(long.reset_index().notna(), None)


def load(db: Database) -> RiskData:
    return RiskData(db.frame("pool_risk"), db.frame("exposure_grid"), db.frame("concentration"),
                    db.frame("expiries_soon"))


def stress_bars(df) -> dict[str, list]:
    """The stress graph's bars: each pool's stressed payout as a share of its assets (comparable across tokens)."""
    labels = [f"{t} {tier}" for t, tier in zip(df["token"], df["tier"], strict=True)]
    share = [float(p) / float(a) if a else 0.0 for p, a in zip(df["payout"], df["assets"], strict=True)]
    return {"x": labels, "y": share, "text": [f"{x:.2%}" for x in share]}


def bars_figure(bars: dict[str, list]) -> go.Figure:
    fig = go.Figure(go.Bar(name="payout / assets", **bars))
    # two decimals: a stressed payout is often a fraction of a percent of the pool, which ".0%" showed as 0 % on
    # every tick
    fig.update_layout(title="Stressed payout as a share of pool assets", yaxis_tickformat=".2%")
    return fig


def stress_figure(df) -> go.Figure:
    return bars_figure(stress_bars(df))


def heatmap_figure(grid):
    z = grid.pivot_table(index="moneyness_bucket", columns="expiry_bucket", values="notional_usd_e8",
                         aggfunc="sum", fill_value=0)
    fig = go.Figure(go.Heatmap(z=(z.astype(float) / 1e8).values, x=list(z.columns), y=list(z.index),
                               colorscale="Reds", colorbar=dict(title="USD")))
    fig.update_layout(title="Open notional (USD) by strike / spot × blocks to expiry",
                      xaxis_title="blocks to expiry", yaxis_title="strike / spot")
    return fig
