"""SPARQL 1.1 JSON results as a remote store sends them: their shape, and Virtuoso's blank nodes.

Apart from publisher.store.remote, which talks to the store, because this is only about the
answer's bytes: what a SELECT or ASK answer holds (as types), and Virtuoso's `nodeID://`
blank nodes relabelled so that pyoxigraph reads the answer.
"""

from __future__ import annotations

import json
from typing import TypedDict

__all__ = ["Results", "ResultsJson", "relabel_blank_nodes"]


class Results(TypedDict, total=False):
    """The "results" of SPARQL 1.1 JSON results: a binding per solution, a term per variable
    (its "type", "value" and maybe "xml:lang" or "datatype")."""

    bindings: list[dict[str, dict[str, str]]]


class ResultsJson(TypedDict, total=False):
    """SPARQL 1.1 JSON results as the store sends them: a SELECT's or an ASK's."""

    head: dict[str, list[str]]
    results: Results
    boolean: bool


_NODE_ID = b"nodeID://"


def relabel_blank_nodes(body: bytes) -> bytes:
    """SPARQL JSON results with Virtuoso's blank nodes (`{"type": "bnode", "value":
    "nodeID://b10006"}`) as blank node labels pyoxigraph reads (`b10006`); other answers as
    they are. Re-encoded only when a `nodeID://` occurs, which few answers hold."""
    if _NODE_ID not in body:
        return body
    try:
        data = json.loads(body)
    except ValueError:
        return body  # the caller reports what pyoxigraph finds wrong with it
    for row in data.get("results", {}).get("bindings", []):
        for value in row.values():
            if value.get("type") == "bnode":
                label = value.get("value", "").removeprefix("nodeID://")
                # a label of letters, digits and _ only: a valid BLANK_NODE_LABEL
                value["value"] = "b" + "".join(c if c.isalnum() else "_" for c in label)
    return json.dumps(data).encode()
