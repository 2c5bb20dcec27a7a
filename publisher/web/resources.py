"""The resources blueprint: things 303 to their documents, documents negotiate their format."""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Flask, Response, abort, current_app, render_template, request
from rdflib import Graph, Literal, URIRef
from werkzeug.exceptions import NotFound

from publisher import describe
from publisher.iris import (
    DOC,
    GRAPHS,
    ID,
    ONTOLOGY,
    ONTOLOGY_TERMS,
    document_path,
    graph_path,
    is_safe_path,
    rebase,
    rebase_graph,
    thing_path,
)
from publisher.metadata.names import Names
from publisher.namespaces import DCTERMS, OWL, RDF, RDFS, SD, SKOS, VOID, XSD, bind
from publisher.summary import summarise
from publisher.web import memo
from publisher.web.cache import Rendered, render_cache
from publisher.web.events import enrich_schema
from publisher.web.facts import breadcrumbs, fact_rows
from publisher.web.http import (
    CORS_HEADERS,
    add_vary,
    error_response,
    page_language,
    public_base,
    send,
)
from publisher.web.links import page_root
from publisher.web.negotiation import HTML, JSONLD, OFFERS, Offer, choose, offer_by_suffix
from publisher.web.recorded import file_of_graph, recorded_in
from publisher.web.serialisation import render_graph
from publisher.web.state import Published, Slot, served
from publisher.web.view import (
    DESCRIPTIONS,
    SOURCES,
    Link,
    Linker,
    incoming_rows,
    ordered,
    rows_of,
    schema_org,
    term_label,
)

__all__ = ["bp", "init_app", "serve_document"]

bp = Blueprint("resources", __name__)


def init_app(app: Flask) -> None:
    """Register the resources routes on the app, with the memo of their answers in front."""
    app.register_blueprint(bp)
    memo.init_app(app)


@bp.after_request
def _mark(response: Response) -> Response:
    return memo.mark(response)


class _Missing(LookupError):
    """The graph does not know the resource a document would be about."""


def _split_suffix(path: str) -> tuple[str, Offer | None, bool]:
    """A document path and the format its suffix asks for (path, offer, suffixed)."""
    head, dot, suffix = path.rpartition(".")
    if dot and "/" not in suffix:
        offer = offer_by_suffix(suffix)
        if offer is not None:
            return head, offer, True
    return path, None, False


def _not_acceptable() -> Response:
    offered = [o.media_type for o in OFFERS]
    return error_response(406, "Angeboten werden: / Offered: " + ", ".join(offered),
                          offered=offered)


def _see_other(path: str) -> Response:
    """303 from a thing's IRI to its document, when the graph knows the thing."""
    if not is_safe_path(path):
        abort(404)
    settings = served().settings
    store = served().published.store
    if not describe.exists(store, URIRef(settings.base_uri + path)):
        abort(404)
    document = document_path(path)
    if document is None:  # not under id/ or ontology/ (the routes only ask for those)
        abort(404)
    return _redirect(request.url_root + document)


@bp.route("/id/<path:rest>")
def thing(rest: str) -> Response:
    """A thing's IRI: 303 See Other to its document."""
    return _see_other(ID + rest)


@bp.route("/ontology/")
@bp.route("/ontology/<path:rest>")
def term(rest: str = "") -> Response:
    """An ontology term's IRI: 303 See Other to its document. The namespace itself
    (void:vocabulary) and the ontology's owl:versionIRI see the ontology's document."""
    if not rest:
        return _redirect(request.url_root + ONTOLOGY)
    try:
        return _see_other(ONTOLOGY_TERMS + rest)
    except NotFound:  # no such term: perhaps the version IRI (asked only then)
        if is_safe_path(rest) and _is_version(ONTOLOGY_TERMS + rest):
            return _redirect(request.url_root + ONTOLOGY)
        raise


def _is_version(path: str) -> bool:
    """Whether the path names the ontology's owl:versionIRI (the version being served)."""
    base = served().settings.base_uri
    return served().published.store.ask(
        f"ASK {{ <{base}{ONTOLOGY}> <{OWL.versionIRI}> <{base}{path}> }}")


def _redirect(target: str) -> Response:
    """303 See Other to a document on this server, the query string kept."""
    if request.query_string:
        target += "?" + request.query_string.decode("latin-1")
    response = Response(status=303, headers={"Location": target, **CORS_HEADERS})
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    return response


@bp.route("/graph/<path:rest>")
def named_graph(rest: str) -> Response:
    """A named graph's IRI (one source file's triples, `sd:name` and the `?g` of queries):
    a description of the graph, in the format asked for by suffix or by Accept."""
    path, offer, suffixed = _split_suffix(GRAPHS + rest)
    if not is_safe_path(path):
        abort(404)
    return _serve(path, path, offer, suffixed, _render_named_graph)


@bp.route("/doc/<path:rest>")
def document(rest: str) -> Response:
    """A document about a thing, in the format asked for by suffix or by Accept."""
    path, offer, suffixed = _split_suffix(DOC + rest)
    if not is_safe_path(path):
        abort(404)
    thing_at = thing_path(path)
    if thing_at is None:
        abort(404)
    return _serve(path, thing_at, offer, suffixed, _render_description)


def serve_document(rest: str, published: Published, prefix: str) -> Response:
    """A thing's document from another release's snapshot, at prefix + doc/rest (a memento)."""
    path, offer, suffixed = _split_suffix(DOC + rest)
    thing_at = thing_path(path) if is_safe_path(path) else None
    if thing_at is None:
        abort(404)
    return _serve(path, thing_at, offer, suffixed, _render_description, published, prefix)


@bp.route("/ontology")
@bp.route("/ontology.<suffix>")
def ontology(suffix: str | None = None) -> Response:
    """The whole ontology (the IRI names the document itself, so no redirect)."""
    offer = None
    if suffix is not None:
        offer = offer_by_suffix(suffix)
        if offer is None:
            abort(404)
    return _serve(ONTOLOGY, ONTOLOGY, offer, suffix is not None, _render_ontology)


def _serve(doc_path: str, thing_at: str, offer: Offer | None, suffixed: bool,
           render, published: Published | None = None, prefix: str = "") -> Response:
    """Negotiate, render once per (build, path, format, language, host), and send.

    published and prefix: another release's snapshot and where its documents live
    (a memento, publisher.web.memento); default the served one, at the root."""
    state = served()
    settings, published = state.settings, published or state.published
    if offer is None:
        offer = choose(request.accept_mimetypes)
        if offer is None:
            return _not_acceptable()
    iri = URIRef(settings.base_uri + thing_at)
    public = public_base(settings)
    keep_lang = offer is HTML and bool(request.args.get("lang"))
    lang = page_language() if offer is HTML else ""
    key = (published.build_id, doc_path, offer.name, lang, keep_lang, public,
           request.url_root, page_root())

    def make() -> Rendered:
        body = render(published.store, iri, offer, settings.base_uri, public, lang, keep_lang)
        if body is None:  # not cached: random misses must not push documents out
            raise _Missing
        tag = hashlib.sha256(repr(key).encode("utf-8")).hexdigest()[:32]
        return Rendered(body, offer.content_type, etag=tag)

    try:
        rendered = render_cache().get_or_render(key, make)
    except _Missing:
        abort(404)
    here = request.url_root + prefix + doc_path
    headers = dict(CORS_HEADERS)
    alternate = _alternate(offer)
    links = [f'<{here}.{alternate.suffix}>; rel="alternate"; type="{alternate.media_type}"']
    if thing_at != doc_path:
        links.append(f'<{public}{thing_at}>; rel="describes"')
    headers["Link"] = ", ".join(links)
    if not suffixed:
        headers["Content-Location"] = f"{here}.{offer.suffix}"
    response = send(rendered, release=published.release, headers=headers)
    if not suffixed:
        add_vary(response, "Accept")
    if offer is HTML:
        response.content_language = lang
        if not keep_lang:
            add_vary(response, "Accept-Language")
    return response


def _alternate(offer: Offer) -> Offer:
    """The one representation a response's Link header names as rel="alternate".

    One, not every other format: pyld (the most used Python JSON-LD library) reads the
    alternate links as one value and fails on several, and JSON-LD 1.1's loader uses the
    alternate only to find the JSON-LD of a non-JSON answer. So every format names the
    JSON-LD, and the JSON-LD names the page. All formats stay listed in the page's
    <link rel="alternate"> elements and reachable by suffix.
    """
    return HTML if offer.name == "jsonld" else JSONLD


def _render_description(store, iri: URIRef, offer: Offer, base: str, public: str, lang: str,
                        keep_lang: bool) -> bytes | None:
    """A thing's document in one format; None when the graph does not know the thing."""
    if not describe.exists(store, iri):
        return None
    graph = describe.describe(store, iri, base)
    if offer.is_rdf:
        return render_graph(rebase_graph(graph, base, public), offer)
    return _html(store, graph, iri, base, public, lang, keep_lang).encode("utf-8")


def _term_labels(store, graph: Graph) -> Graph:
    """Labels of the predicates and classes a page shows, and the classes' superclasses."""
    terms = {p for _s, p, _o in graph} | set(graph.objects(None, RDF.type))
    terms |= {o.datatype for o in graph.objects() if isinstance(o, Literal) and o.datatype}
    return describe.labels(store, terms)


def _html(store, graph: Graph, iri: URIRef, base: str, public: str, lang: str,
          keep_lang: bool) -> str:
    labels = _term_labels(store, graph)
    page_graph = graph + labels
    page_graph.namespace_manager = graph.namespace_manager
    linker = Linker(page_graph, base, public, page_root(), lang, keep_lang)
    path = graph_path(str(iri), base) or ""
    here = request.url_root + (document_path(path) or path)
    types = [linker.link(t, term=True) for t in ordered(graph.objects(iri, RDF.type))]
    description = describe.text_of(graph, iri, DESCRIPTIONS, lang)
    rows = rows_of(page_graph, iri, linker, skip=(RDF.type, *SOURCES))
    sources = sorted({str(o) for p in SOURCES for o in graph.objects(iri, p)})
    files = recorded_in(describe.sources(store, iri), str(iri), base, served().published.release)
    superclasses = describe.superclasses(store, set(graph.objects(iri, RDF.type)))
    schema = schema_org(graph, iri, linker, here, superclasses)
    schema = enrich_schema(schema, iri, lang)  # events: place, organiser, status (#17, #23)
    key_facts = summarise(store, iri, base, lang)
    if key_facts is not None:
        page_graph += key_facts.labels
    title = describe.label_of(page_graph, iri, lang)
    return render_template(
        "resource.html", lang=lang, title=title,
        crumbs=breadcrumbs(iri, base, title, lang, keep_lang),
        facts=fact_rows(key_facts, linker, lang,
                        shown=str(description) if description is not None else None),
        kind=key_facts.profile if key_facts is not None else None,
        iri=linker.shown(str(iri)), types=types,
        description=str(description) if description is not None else None,
        rows=rows, incoming=incoming_rows(page_graph, iri, linker),
        sources=[linker.link(URIRef(s), label=s) for s in sources], files=files,
        formats=[(o, f"{page_root()}{document_path(path) or path}.{o.suffix}")
                 for o in OFFERS if o.is_rdf],
        schema=schema,
        other_lang="en" if lang == "de" else "de", here=here)


# The served store's named graphs and their sizes, keyed by (id of the store, build id).
_GRAPHS: Slot[dict[tuple[int, str], dict[str, int]]] = Slot("kiezgraph.resources.graphs", dict)


def _graph_count(store, iri: URIRef) -> int:
    """How many triples the named graph holds (0: no such graph).

    The store's named graphs and their sizes, asked once per served store and build: asking
    `GRAPH <iri>` alone is no test of existence (Virtuoso counts a triple in a graph it does
    not hold), the list of graphs the store has is."""
    cache = _GRAPHS.setdefault(current_app, {})
    key = (id(store), served().published.build_id)
    counts = cache.get(key)
    if counts is None:
        rows = store.select("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } "
                            "GROUP BY ?g")
        counts = {str(row["g"]): int(row["n"]) for row in rows if "g" in row}
        cache.clear()
        cache[key] = counts
    return counts.get(str(iri), 0)


def _graph_description(iri: URIRef, count: int, base: str) -> tuple[Graph, str, str]:
    """What we say about a named graph: its source file, size, dataset and endpoint; with
    the file's name and a query URL for its triples."""
    file = file_of_graph(str(iri), base, served().published.release)
    query = base + "sparql?" + urlencode(
        {"query": f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{iri}> {{ ?s ?p ?o }} }}"})
    names = Names(base)
    graph = Graph()
    bind(graph, ("sd", "void", "dcterms", "rdfs"))
    graph.add((iri, RDF.type, SD.Graph))
    graph.add((iri, RDFS.label, Literal(file)))
    graph.add((iri, VOID.triples, Literal(count, datatype=XSD.integer)))
    graph.add((iri, DCTERMS.isPartOf, names.dataset))
    graph.add((iri, VOID.sparqlEndpoint, names.sparql))
    graph.add((iri, RDFS.seeAlso, URIRef(query)))
    return graph, file, query


def _render_named_graph(store, iri: URIRef, offer: Offer, base: str, public: str, lang: str,
                        keep_lang: bool) -> bytes | None:
    """A named graph's description in one format; None when the store has no such graph."""
    count = _graph_count(store, iri)
    if not count:
        return None
    graph, file, query = _graph_description(iri, count, base)
    graph = rebase_graph(graph, base, public)
    if offer.is_rdf:
        return render_graph(graph, offer)
    linker = Linker(graph, public, public, request.url_root, lang, keep_lang)
    shown = rebase(iri, base, public)
    here = request.url_root + str(iri)[len(base):]
    return render_template(
        "graph.html", lang=lang, title=file, iri=str(shown), count=count, file=file,
        rows=rows_of(graph, shown, linker, skip=(RDF.type,)),
        query=request.url_root + query[len(base):],
        formats=[(o, f"{here}.{o.suffix}") for o in OFFERS if o.is_rdf],
        other_lang="en" if lang == "de" else "de", here=here).encode("utf-8")


_TERM_KINDS = (
    (OWL.Class, "Klassen", "Classes"),
    (OWL.ObjectProperty, "Objekteigenschaften", "Object properties"),
    (OWL.DatatypeProperty, "Dateneigenschaften", "Datatype properties"),
    (SKOS.ConceptScheme, "Begriffsschemata", "Concept schemes"),
)


def _render_ontology(store, iri: URIRef, offer: Offer, base: str, public: str, lang: str,
                     keep_lang: bool) -> bytes | None:
    """The whole ontology in one format; its HTML documents every term."""
    graph = describe.ontology(store, base)
    if len(graph) == 0:
        return None
    if offer.is_rdf:
        return render_graph(rebase_graph(graph, base, public), offer)
    linker = Linker(graph, base, public, page_root(), lang, keep_lang)
    sections = []
    for cls, de, en in _TERM_KINDS:
        terms: list[dict[str, Any]] = []  # what the template shows of each term
        for subject in ordered(set(graph.subjects(RDF.type, cls))):
            if not isinstance(subject, URIRef):
                continue
            text = describe.text_of(graph, subject, (SKOS.definition, RDFS.comment), lang)
            rows = rows_of(graph, subject, linker, skip=(RDF.type, RDFS.label, SKOS.prefLabel,
                                                         RDFS.comment, SKOS.definition,
                                                         RDFS.isDefinedBy))
            members: list[Link] = []
            if cls == SKOS.ConceptScheme:
                members = sorted((linker.link(c) for c in graph.subjects(SKOS.inScheme,
                                                                         subject)),
                                 key=lambda k: k.label.lower())
            anchor = str(subject).rsplit("/", 1)[-1]
            terms.append({"link": linker.link(subject), "anchor": anchor,
                          "text": str(text) if text is not None else "", "rows": rows,
                          "members": members})
        terms.sort(key=lambda t: t["link"].label.lower())
        if terms:
            sections.append({"title": de if lang == "de" else en, "terms": terms})
    title = describe.label_of(graph, iri, lang)
    about = describe.text_of(graph, iri, (DESCRIPTIONS[2], *DESCRIPTIONS), lang)
    here = request.url_root + ONTOLOGY
    schema = schema_org(graph, iri, linker, here)
    rows = rows_of(graph, iri, linker, skip=(RDF.type, RDFS.label))
    return render_template(
        "ontology.html", lang=lang, title=title, iri=linker.shown(str(iri)),
        description=str(about) if about is not None else None, rows=rows, sections=sections,
        formats=[(o, f"{page_root()}{ONTOLOGY}.{o.suffix}")
                 for o in OFFERS if o.is_rdf],
        schema=schema,
        other_lang="en" if lang == "de" else "de", here=here,
        term_label=lambda t: term_label(graph, t, lang)).encode("utf-8")
