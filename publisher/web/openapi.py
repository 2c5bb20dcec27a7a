"""The OpenAPI 3 description of every public route, served at /openapi.json.

Written by hand, next to the routes it describes, rather than generated: the routes are
few and content-negotiated, which generators describe poorly. tests/test_openapi.py walks
the app's url_map and fails when a route and this document disagree.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, jsonify, request

from publisher import __version__, labels

__all__ = ["bp", "document", "init_app"]

bp = Blueprint("openapi", __name__)

RDF = ("text/turtle", "application/ld+json", "application/rdf+xml", "application/n-triples")
SPARQL_RESULTS = ("application/sparql-results+json", "application/sparql-results+xml",
                  "text/csv", "text/tab-separated-values")
# Negotiated bodies: documented by media type, not by shape.
_ANY: dict[str, dict[str, object]] = {"schema": {}}


def init_app(app: Flask) -> None:
    """Register /openapi.json on the app."""
    app.register_blueprint(bp)


def _content(*types: str) -> dict[str, dict[str, dict[str, object]]]:
    return {t: _ANY for t in types}


def _errors(*codes: str) -> dict:
    """Error responses every route may give: any client error (negotiated body), and 503."""
    described = {
        "302": "Found: the memento of the time Accept-Datetime asks for (RFC 7089).",
        "303": "See Other: the thing's document.",
        "304": "Not Modified (conditional request).",
        "400": "Bad request: a parameter is malformed.",
        "404": "Nothing at this address.",
        "406": "None of the formats offered is acceptable.",
        "410": "Gone from the current release; Link rel=timemap lists earlier versions.",
        "413": "The request body is larger than max_body_bytes.",
        "414": "The URL is too long.",
        "431": "Too many or too large request headers.",
    }
    out = {code: {"description": described[code]} for code in codes}
    out["4XX"] = {"description": "A client error, described in the body (HTML, RDF, JSON or "
                                 "text, as negotiated)."}
    out["503"] = {"description": "Busy or no graph loaded; see Retry-After."}
    return out


def _param(name: str, where: str = "query", description: str = "", *, required: bool = False,
           enum: list[str] | None = None) -> dict:
    schema: dict[str, Any] = {"type": "string"}
    if enum:
        schema["enum"] = enum
    return {"name": name, "in": where, "required": required or where == "path",
            "description": description, "schema": schema}


_LANG = _param("lang", description="Page language (de or en); default from Accept-Language.",
               enum=["de", "en"])


def _get(summary: str, ok: dict, *, params: list | None = None, codes: tuple = (),
         tag: str = "pages") -> dict:
    return {"get": {"summary": summary, "tags": [tag], "parameters": params or [],
                    "responses": {"200": ok, **_errors("304", *codes)}}}


def _ok(description: str, *types: str) -> dict:
    return {"description": description, "content": _content(*types)} if types \
        else {"description": description}


def _negotiated(summary: str, param: str | None, tag: str) -> dict:
    params = [_param(param, "path", "The format's file suffix.",
                     enum=["ttl", "jsonld", "rdf", "nt", "html"])] if param else [_LANG]
    return _get(summary, _ok("The description in the negotiated RDF format, or as a page.",
                             *RDF, "text/html"),
                params=params, codes=("404", "406"), tag=tag)


def _sparql() -> dict:
    params = [
        _param("query", description="A SPARQL 1.1 query (SELECT, ASK, CONSTRUCT, DESCRIBE). "
                                    "Without it: the service description."),
        _param("default-graph-uri", description="Default graph of the query's dataset."),
        _param("named-graph-uri", description="A named graph of the query's dataset."),
        _param("format", description="Answer format by name instead of Accept."),
        _param("release", description="Answer from this past release (a version, as "
                                      "/download/ lists them); default the current one. "
                                      "X-Release names the release that answered."),
    ]
    responses = {
        "200": _ok("The answer (or the service description, or the query page).",
                   *SPARQL_RESULTS, *RDF, "application/n-quads", "application/trig", "text/html"),
        **_errors("400", "406", "413", "414"),
        "403": {"description": "Refused: updates, LOAD and SERVICE are not accepted."},
        "415": {"description": "The body's media type is not a SPARQL query."},
    }
    responses["503"] = {"description": "Too many queries at once, or the query ran past "
                                       "query_timeout or query_memory, or its worker "
                                       "stopped; see Retry-After."}
    form = {"type": "object", "properties": {"query": {"type": "string"}},
            "required": ["query"]}
    return {
        "get": {"summary": "SPARQL 1.1 Protocol query (read-only, time-limited, row-capped).",
                "tags": ["sparql"], "parameters": params, "responses": responses},
        "post": {"summary": "SPARQL 1.1 Protocol query by POST (form or direct).",
                 "tags": ["sparql"], "parameters": params[1:],
                 "requestBody": {"required": True, "content": {
                     "application/x-www-form-urlencoded": {"schema": form},
                     "application/sparql-query": {"schema": {"type": "string"}}}},
                 "responses": responses},
    }


def document(server_url: str = "/") -> dict:
    """The OpenAPI 3.0 document (servers point at server_url)."""
    html = _ok("An HTML page.", "text/html")
    rest = _param("rest", "path", "The rest of the IRI: <kind>/<slug> (a document may end in "
                                  ".ttl, .jsonld, .rdf, .nt or .html).")
    doc_formats = _ok("The document in the negotiated format.", *RDF, "text/html")
    # Memento (RFC 7089, issue 25): /id/ and /doc/ are TimeGates.
    accept_datetime = _param("Accept-Datetime", "header", "An HTTP date: 302 to the memento "
                             "of the release current then (RFC 7089 TimeGate).")
    version = _param("version", "path", "A release's version, as /download/ lists them.")
    thing = {"get": {"summary": "A thing's IRI: 303 See Other to its document.",
                     "tags": ["linked data"], "parameters": [rest, accept_datetime],
                     "responses": {"303": {"description": "See Other: its document."},
                                   **_errors("302", "404", "410")}}}
    document_get = _get("A thing's document: its description, labels and incoming links.",
                        doc_formats, params=[rest, accept_datetime, _LANG],
                        codes=("302", "404", "406", "410"), tag="linked data")
    status = {"type": "object", "properties": {
        "status": {"type": "string"}, "build_id": {"type": "string"},
        "triples": {"type": "integer"}, "problems": {"type": "array",
                                                     "items": {"type": "string"}}}}
    probe = {"description": "The state as JSON.",
             "content": {"application/json": {"schema": status}}}
    paths = {
        "/": _get("Home page: the kinds of things with their counts.", html, params=[_LANG]),
        "/id/{rest}": thing,
        "/ontology/{rest}": {"get": {**thing["get"],
                                     "summary": "An ontology term: 303 to its document (the "
                                                "ontology's versionIRI: to /ontology)."}},
        "/ontology/": {"get": {"summary": "The ontology's namespace (void:vocabulary): 303 "
                                          "to the ontology document.",
                               "tags": ["linked data"],
                               "responses": {"303": {"description": "See Other: /ontology."}}}},
        "/graph/{rest}": _get("A named graph (one source file's triples; sd:name, the ?g of "
                              "queries): its description.", doc_formats,
                              params=[_param("rest", "path", "The source file's path without "
                                             ".ttl, e.g. data/organisations (may end in .ttl, "
                                             ".jsonld, .rdf, .nt or .html)."), _LANG],
                              codes=("404", "406"), tag="linked data"),
        "/doc/{rest}": document_get,
        "/release/{version}/doc/{rest}": _get(
            "A thing's document as one release had it (a Memento, RFC 7089: "
            "Memento-Datetime, Links to original, timegate, timemap, first, last, prev, "
            "next; cite-as).", doc_formats, params=[version, rest, _LANG],
            codes=("404", "406"), tag="linked data"),
        "/timemap/doc/{rest}": _get(
            "A thing's TimeMap: every release that held it, with its date (RFC 7089).",
            _ok("The TimeMap as link-format or RDF.", "application/link-format", *RDF),
            params=[_param("rest", "path", "The rest of the document's address: "
                           "<kind>/<slug> (may end in .ttl, .jsonld, .rdf or .nt).")],
            codes=("404",), tag="linked data"),
        "/cite/{fmt}/release/{version}/doc/{rest}": _get(
            "A citation of a release's document (its versioned IRI, release and access "
            "date).", _ok("The citation.", "application/x-bibtex",
                          "application/x-research-info-systems",
                          "application/vnd.citationstyles.csl+json"),
            params=[_param("fmt", "path", "The citation format.",
                           enum=["bibtex", "ris", "csl"]), version, rest, _LANG],
            codes=("404",), tag="linked data"),
        "/doc/{kind}/": _get("Every thing of one kind (id/<kind>/…), by label, as a page.",
                             html, params=[_param("kind", "path", "A kind, e.g. organisation, "
                                                  "stadtteilzentrum, agreement, place."), _LANG],
                             codes=("404",)),
        "/ontology": _get("The ontology document.", doc_formats, params=[_LANG],
                          codes=("406",), tag="linked data"),
        "/ontology.{suffix}": _get("The ontology document in one format.", doc_formats,
                                   params=[_param("suffix", "path", "ttl, jsonld, rdf, nt, "
                                                  "html", enum=["ttl", "jsonld", "rdf", "nt",
                                                                "html"])],
                                   codes=("404",), tag="linked data"),
        "/sparql": _sparql(),
        "/catalog": _negotiated("The DCAT-AP.de catalogue.", None, "catalogue"),
        "/catalog.{suffix}": _negotiated("The DCAT-AP.de catalogue in one format.", "suffix",
                                         "catalogue"),
        "/.well-known/void": _negotiated("The VoID description.", None, "catalogue"),
        "/.well-known/void.{suffix}": _negotiated("The VoID description in one format.",
                                                  "suffix", "catalogue"),
        "/download/": _get("Every downloadable file of every kept release.", html,
                           params=[_LANG], tag="downloads"),
        "/download/{name}": _get("One dump, its .gz, or SHA256SUMS (Digest header).",
                                 _ok("The file."), params=[_param("name", "path",
                                                                  "The file's name.")],
                                 codes=("404",), tag="downloads"),
        "/search": _get("Label search (German spelling folded).",
                        _ok("Results as a page or JSON.", "text/html", "application/json"),
                        params=[_param("q", description="The search text (≤ 200 characters)."),
                                _param("kind", description="Only things of this kind.",
                                       enum=list(labels.kinds())),
                                {**_param("limit", description="Most results (1–100)."),
                                 "schema": {"type": "integer", "minimum": 1, "maximum": 100}},
                                _param("format", enum=["html", "json"]), _LANG],
                        codes=("400",), tag="search"),
        "/network": _get("The cooperation network as a diagram and a list.", html,
                         params=[_LANG]),
        "/network.svg": _get("The network diagram as SVG.", _ok("SVG.", "image/svg+xml"),
                             params=[_LANG]),
        "/events": _get("Events: upcoming first, then past ones by year.", html,
                        params=[_LANG], tag="events"),
        "/events.ics": _get("Every event dated to a day, as an iCalendar feed (RFC 5545).",
                            _ok("iCalendar.", "text/calendar"), tag="events"),
        "/events/{name}.ics": _get("One event as an iCalendar file.",
                                   _ok("iCalendar.", "text/calendar"),
                                   params=[_param("name", "path",
                                                  "The event's slug (or kind/slug).")],
                                   codes=("404",), tag="events"),
        "/changes": _get("The releases, newest first, with what each changed.", html,
                         params=[_LANG], tag="changes"),
        "/changes/{name}": _get(
            "The quads a release added or removed against the previous one "
            "(VERSION-added.nq, VERSION-removed.nq).", _ok("N-Quads.", "application/n-quads"),
            params=[_param("name", "path", "VERSION-added.nq or VERSION-removed.nq.")],
            codes=("404",), tag="changes"),
        "/sheets/{kind}.{suffix}": _get(
            "A workbook template for maintainers, drop-down lists filled from the graph.",
            _ok("The workbook.", "application/vnd.oasis.opendocument.spreadsheet",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            params=[_param("kind", "path", "What the workbook holds.",
                           enum=["organisation", "stadtteilzentrum", "event", "membership"]),
                    _param("suffix", "path", "The file format.", enum=["ods", "xlsx"])],
            codes=("404",), tag="changes"),
        "/robots.txt": _get("robots.txt.", _ok("Text.", "text/plain"), tag="catalogue"),
        "/sitemap.xml": _get("Every HTML document.", _ok("A sitemap.", "application/xml",
                                                         "text/xml"), tag="catalogue"),
        "/static/{filename}": _get("Style sheets, scripts and icons.", _ok("The file."),
                                   params=[_param("filename", "path", "The file's name.")],
                                   codes=("404",)),
        "/health": _get("Liveness: the graph is loaded (triples, build id, problems).", probe,
                        tag="operations"),
        "/ready": _get("Readiness: a valid graph is loaded and answers.", probe,
                       tag="operations"),
        "/metrics": _get("Prometheus metrics: requests and latency by route, query "
                         "timeouts, cache hits.", _ok("Prometheus text format.", "text/plain"),
                         tag="operations"),
        "/openapi.json": _get("This document.", _ok("OpenAPI 3.0.", "application/json"),
                              tag="operations"),
    }
    return {
        "openapi": "3.0.3",
        "info": {"title": "kiezgraph Pankow", "version": __version__,
                 "description": "Linked Data, SPARQL and the DCAT-AP.de catalogue of the "
                                "cooperation network of neighbourhood work in Berlin-Pankow. "
                                "Read-only: no route accepts writes."},
        "servers": [{"url": server_url}],
        "paths": paths,
    }


@bp.get("/openapi.json")
def openapi_json() -> Response:
    """The OpenAPI document, its server being the host the request came to."""
    response = jsonify(document(request.url_root.rstrip("/") or "/"))
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
