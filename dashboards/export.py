"""``/export/policies.csv``: the policies table's filtered, sorted set, streamed from a server-side cursor
(at most ``CSV_ROW_CAP`` rows; the page says so)."""

from __future__ import annotations

import csv
import io

from flask import Flask, Response, request, stream_with_context

from dashboards import context
from dashboards.db import Unavailable
from dashboards.policy_query import CSV_ROW_CAP, PolicyFilter


def _csv_lines(rows):
    buf = io.StringIO()
    writer = csv.writer(buf)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
        if buf.tell() > 64 * 1024:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()


def register(server: Flask) -> None:
    @server.get("/export/policies.csv")
    def policies_csv():
        flt = PolicyFilter.from_mapping(request.args)
        sql, params = flt.csv_sql(CSV_ROW_CAP)
        rows = context.db().stream(sql, params)
        try:
            header = next(rows)  # fail before the 200 when the database is away or the view is missing
        except Unavailable as u:
            return Response(str(u) + "\n", status=503, mimetype="text/plain")
        return Response(stream_with_context(_csv_lines(_chain(header, rows))),
                        mimetype="text/csv",
                        headers={"Content-Disposition": "attachment; filename=policies.csv",
                                 "X-Row-Cap": str(CSV_ROW_CAP)})


def _chain(first, rest):
    yield first
    yield from rest
