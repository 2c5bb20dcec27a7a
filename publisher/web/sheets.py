"""The sheets blueprint: /sheets/KIND.ods|xlsx, a workbook template with the current names."""

from __future__ import annotations

import tempfile
from pathlib import Path

from flask import Blueprint, Flask, Response, abort

from publisher.namespaces import prefixes
from publisher.sheets import KINDS, mappings
from publisher.sheets.layout import workbook_sheets
from publisher.sheets.workbook import write_workbook
from publisher.sparql.prefixes import prologue
from publisher.web.cache import Rendered, render_cache
from publisher.web.http import send
from publisher.web.state import served

__all__ = ["MEDIA_TYPES", "bp", "init_app"]

bp = Blueprint("sheets", __name__)
MEDIA_TYPES = {"ods": "application/vnd.oasis.opendocument.spreadsheet",
               "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
# The drop-down lists only need the things' names.
NAMES_QUERY = prologue(prefixes("rdfs", "skos", "schema")) + """
CONSTRUCT { ?s ?p ?o } WHERE {
  ?s ?p ?o FILTER(?p IN (rdfs:label, skos:prefLabel, schema:name))
}
"""


def init_app(app: Flask) -> None:
    """Register the sheets routes on the app."""
    app.register_blueprint(bp)


@bp.get("/sheets/<kind>.<suffix>")
def template(kind: str, suffix: str) -> Response:
    """A workbook template for a kind, its drop-down lists filled from the served graph."""
    if kind not in KINDS or suffix not in MEDIA_TYPES:
        abort(404)
    published = served().published
    key = (published.build_id, "sheet", kind, suffix)

    def make() -> Rendered:
        graph = published.store.construct(NAMES_QUERY)
        sheets = workbook_sheets(mappings()[kind], graph, served().settings.base_uri)
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / f"{kind}.{suffix}"
            write_workbook(path, sheets)
            return Rendered(path.read_bytes(), MEDIA_TYPES[suffix])

    response = send(render_cache().get_or_render(key, make), release=published.release)
    response.headers["Content-Disposition"] = f'attachment; filename="kiezgraph-{kind}.{suffix}"'
    return response
