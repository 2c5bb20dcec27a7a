"""Virtuoso's own wall behind kiezgraph's check: the hardening script and its parameters.

The script (`virtuoso_harden.sql`, beside this module) is SQL for Virtuoso's `isql`, run once
as dba: anonymous readers see only graphs a load published, and a guard on Virtuoso's own
SPARQL lexer refuses store functions, pragmas and any function IRI but the XSD casts in
front of /sparql and /sparql-auth (SECURITY.md, issue #26). kiezgraph prints it with the
loader account and the graph namespace filled in (`kiezgraph harden-sql`); it never holds
the store's dba password.
"""

from __future__ import annotations

import re
from importlib.resources import files

__all__ = ["PUBLISH_PROCEDURE", "harden_sql"]

# The procedure the script defines and `kiezgraph load` calls to publish a graph.
PUBLISH_PROCEDURE = "KG_PUBLISH_GRAPH"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")


def harden_sql(loader: str, base: str) -> str:
    """The hardening script for this loader account and base IRI."""
    if not _NAME.fullmatch(loader or ""):
        raise ValueError(f"the loader account {loader!r} is not a plain Virtuoso user name "
                         "(set KIEZGRAPH_STORE_USER)")
    graphs = f"{base}graph/"
    if "'" in graphs or "%" in graphs:
        raise ValueError(f"the base {base!r} cannot be written into SQL")
    # LIKE's wildcards in the base match themselves only when escaped; a base has none
    # in practice, and a `_` matching any character still names only our own graphs' shape.
    text = files("publisher.store").joinpath("virtuoso_harden.sql").read_text(encoding="utf-8")
    return text.format(loader=loader, graphs=graphs)
