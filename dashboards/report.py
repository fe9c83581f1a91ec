"""The risk report: one self-contained HTML file (plotly.js inlined, no request leaves the file) with the Risk
page's figures and tables as of a block, and the same file printed to PDF by Debian's chromium."""

from __future__ import annotations

import datetime as dt
import html as h
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pandas as pd
from flask import Flask, Response, request

from dashboards import context, risk_data, state
from dashboards.db import Unavailable

#: chromium flags for printing on a machine without a display or network
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--no-pdf-header-footer", "--virtual-time-budget=15000"]
PDF_TIMEOUT_S = 90


def _table(df: pd.DataFrame) -> str:
    if df is None or df.empty:
        return "<p>No rows.</p>"
    return df.to_html(index=False, na_rep="–", classes="data", border=0)


def build_html(btc_percent, stx_percent) -> str:
    """The report, or raises ``Unavailable`` (the route answers 503 with the reason)."""
    st = state.read_state()
    if st["status"] != "ok":
        raise Unavailable(st["status"], st["message"])
    db = context.db()
    b, s = risk_data.shock(btc_percent), risk_data.shock(stx_percent)
    stress = db.frame("stress", btc_shock=b, stx_shock=s)
    d = risk_data.load(db)
    figures = [("stress-chart", risk_data.stress_figure(stress))] if not stress.empty else []
    if not d.grid.empty:
        figures.append(("risk-heatmap", risk_data.heatmap_figure(d.grid)))
    parts = []
    for i, (fid, fig) in enumerate(figures):
        fig.update_layout(template="plotly_white", height=420, width=1000)
        parts.append(fig.to_html(full_html=False, include_plotlyjs=(i == 0), div_id=fid,
                                 config={"displaylogo": False, "staticPlot": True}))
    generated = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>BitHedge risk report · block {st['height']}</title>
<style>body{{font-family:sans-serif;margin:2em;color:#1d2733}} table.data{{border-collapse:collapse;font-size:12px;
margin:0.5em 0 1.5em}} table.data td,table.data th{{border:1px solid #ccd;padding:3px 6px;text-align:right}}
h2{{margin-top:1.5em;border-bottom:1px solid #ccd}} .meta{{color:#556}}</style></head>
<body>
<h1>BitHedge risk report</h1>
<p class="meta" id="asof">{h.escape(state.stamp(st))} · generated {generated}</p>
<p class="meta">Amounts in token base units (µSTX, sats) unless named; prices USD×1e8 (transforms/README.md).</p>
<h2>Stress: BTC {b * 100}%, STX {s * 100}%</h2>
<p class="meta">analytics.stress_payout({b}, {s})</p>
{_table(stress)}
{''.join(parts[:1])}
<h2>Measures per pool</h2><p class="meta">analytics.pool_risk</p>
{_table(d.pool_risk_long)}
<h2>Exposure</h2><p class="meta">analytics.exposure_grid</p>
{''.join(parts[1:])}
{_table(d.grid)}
<h2>Concentration (top 10)</h2><p class="meta">analytics.concentration</p>
{_table(d.concentration)}
<h2>Expiries due soon</h2><p class="meta">analytics.expiries</p>
{_table(d.expiries)}
</body></html>
"""


def chromium_path() -> str | None:
    return os.environ.get("BROWSER_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")


def html_to_pdf(html_text: str) -> bytes:
    exe = chromium_path()
    if exe is None:
        raise RuntimeError("PDF needs Debian's chromium (apt-get install chromium); the HTML report works without it")
    with tempfile.TemporaryDirectory(prefix="bithedge-report-") as tmp:
        src, out = Path(tmp) / "report.html", Path(tmp) / "report.pdf"
        src.write_text(html_text)
        subprocess.run([exe, *CHROMIUM_FLAGS, f"--user-data-dir={tmp}/profile", f"--print-to-pdf={out}",
                        src.as_uri()], check=True, timeout=PDF_TIMEOUT_S, capture_output=True)
        return out.read_bytes()


def _name(ext: str) -> str:
    return f"bithedge-risk-report.{ext}"


def register(server: Flask) -> None:
    @server.get("/report/risk.html")
    def risk_html():
        try:
            body = build_html(request.args.get("btc", -30), request.args.get("stx", -30))
        except Unavailable as u:
            return Response(str(u) + "\n", status=503, mimetype="text/plain")
        return Response(body, mimetype="text/html",
                        headers={"Content-Disposition": f"attachment; filename={_name('html')}"})

    @server.get("/report/risk.pdf")
    def risk_pdf():
        try:
            pdf = html_to_pdf(build_html(request.args.get("btc", -30), request.args.get("stx", -30)))
        except Unavailable as u:
            return Response(str(u) + "\n", status=503, mimetype="text/plain")
        except (RuntimeError, subprocess.SubprocessError, OSError) as e:
            return Response(f"The PDF could not be made: {e}\n", status=503, mimetype="text/plain")
        return Response(pdf, mimetype="application/pdf",
                        headers={"Content-Disposition": f"attachment; filename={_name('pdf')}"})
