"""The SPARQL 1.1 Service Description that GET /sparql without a query answers a tool with.

Apart from the protocol because it asks the store a question of its own (how many triples
each graph holds, once per snapshot) and answers in RDF, not in a query's format; the
description's triples themselves come from publisher.sparql.service_description.
"""

from __future__ import annotations

import json
import logging

from flask import Response, current_app, request
from rdflib import Graph, Literal, URIRef

from publisher.namespaces import DCAT, DCTERMS, SD, XSD
from publisher.releases import Release
from publisher.sparql.results import GRAPH_FORMATS, format_by_name
from publisher.sparql.service_description import service_description
from publisher.store.base import StoreError
from publisher.web.sparql_protocol import ProtocolError, accept_ranges, outward, values
from publisher.web.sparql_release import mark_release, snapshot
from publisher.web.state import Published, Slot, served

__all__ = ["description"]

log = logging.getLogger("publisher.web.sparql")  # the endpoint's log, as before the split

# The counts of the served snapshot, keyed by (id of the store, build id).
_CACHE: Slot[dict[tuple[int, str], tuple[int, dict[str, int]]]] = Slot(
    "kiezgraph.sparql.counts", dict)
_COUNTS = ("SELECT ?g (COUNT(*) AS ?n) WHERE { { SELECT DISTINCT ?s ?p ?o WHERE { ?s ?p ?o } } } "
           "GROUP BY ?g",
           "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")


def _counts(published: Published) -> tuple[int, dict[str, int]]:
    """Distinct triples of the default graph and of each named graph, asked of the store
    (once per snapshot): the store knows every graph it holds, the build info only some."""
    cache = _CACHE.setdefault(current_app, {})
    key = id(published.store), published.build_id
    if key not in cache:
        settings = served().settings
        found = []
        for query in _COUNTS:
            answer = published.store.run_query(
                query, "application/sparql-results+json", timeout=settings.query_timeout,
                max_results=settings.max_results)
            found.append({b.get("g", {}).get("value", ""): int(b["n"]["value"])
                          for b in json.loads(answer.body)["results"]["bindings"]})
        cache.clear()
        cache[key] = (sum(found[0].values()), found[1])
    return cache[key]


def description() -> Response:
    """The service description in the RDF format the client accepts (Turtle by default)."""
    settings = served().settings
    published = snapshot()  # the served release, or the one ?release= names (#25)
    try:
        triples, graphs = _counts(published)
    except StoreError as exc:
        # The store's own words can name its internal address: they go to the log only.
        log.warning("service description: the store did not answer: %s", exc)
        raise ProtocolError(503, "the store did not answer; try again shortly",
                            headers={"Retry-After": "2"}) from None
    graph = service_description(request.base_url, triples=triples, graphs=graphs,
                                max_results=settings.max_results,
                                timeout=settings.query_timeout)
    if published.release is not None:  # which release answers, in the description too
        _say_release(graph, published.release)
    names = [v for v in values("format") if v]
    fmt = next((f for f in (format_by_name("CONSTRUCT", n) for n in names)
                if f in GRAPH_FORMATS), None)  # N-Quads and TriG are for query answers
    if fmt is None:
        best = accept_ranges().best_match([t for f in GRAPH_FORMATS for t in f.media_types])
        fmt = next((f for f in GRAPH_FORMATS if best in f.media_types), GRAPH_FORMATS[0])
    rdflib_name = {"turtle": "turtle", "jsonld": "json-ld", "rdfxml": "xml",
                   "ntriples": "nt"}[fmt.name]
    # sd:endpoint is this request's address; the graphs' names go under it too
    body = outward(graph.serialize(format=rdflib_name, encoding="utf-8"))
    content_type = (f"{fmt.media_type}; charset=utf-8" if fmt.media_type.startswith("text/")
                    else fmt.media_type)
    response = Response(body, content_type=content_type)
    response.vary.add("Accept")
    return mark_release(response, published)


def _say_release(graph: Graph, release: Release) -> None:
    """The default dataset's release: its version and when it was published."""
    dataset = next(graph.objects(None, SD.defaultDataset), None)
    if dataset is None:
        return
    graph.add((dataset, URIRef(str(DCAT) + "version"), Literal(release.version)))
    graph.add((dataset, DCTERMS.issued, Literal(release.published_at.isoformat(),
                                                datatype=XSD.dateTime)))
