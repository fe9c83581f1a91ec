"""``/docs/``: the dbt docs site (the data dictionary) as ``bithedge transforms docs`` generated it."""

from __future__ import annotations

from flask import Flask, Response, send_from_directory

from dashboards import context

#: what dbt docs generate writes (index.html reads the two JSON files beside it)
FILES = {"index.html", "manifest.json", "catalog.json"}


def register(server: Flask) -> None:
    @server.get("/docs/")
    @server.get("/docs/<name>")
    def dbt_docs(name: str = "index.html"):
        folder = context.docs_dir()
        if name not in FILES:
            return Response("not found\n", status=404, mimetype="text/plain")
        if folder is None or not (folder / name).is_file():
            return Response("The data dictionary is not generated yet: run `bithedge transforms docs`, then "
                            "reload this page.\n", status=404, mimetype="text/plain")
        return send_from_directory(folder, name, max_age=0)
