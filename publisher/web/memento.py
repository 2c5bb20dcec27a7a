"""Memento (RFC 7089): every release's document of a thing, found by date (issue 25).

- A thing's IRI (/id/…) and its document (/doc/…) are TimeGates: with `Accept-Datetime`
  they answer 302 to the memento of that time, the document of the release that was current
  then (the closest release in which the thing existed, when it did not exist then).
- /release/VERSION/doc/… is the memento: that release's document, with `Memento-Datetime`
  (when the release was first published) and Links original, timegate, timemap, first,
  last, prev and next.
- /timemap/doc/… lists every release in which the thing existed, in application/link-format
  or as RDF (the Memento vocabulary).
- A thing gone from the current release answers 410 with a link to its TimeMap.

Past releases are opened on demand from their on-disk stores, a few at a time
(publisher.store.past), each leased by the request that reads it until that request ends.
Which releases hold a thing comes from one index per release (ThingIndex: the IRIs each
release's graph describes, read once per process), not from asking every release's store
about every thing.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Sequence

from flask import Blueprint, Flask, Response, abort, current_app, g, request
from rdflib import Graph, Literal, URIRef
from werkzeug.http import http_date, parse_date

from publisher.iris import DOC, ID, document_path, is_safe_path, thing_path
from publisher.metadata.signposting import signposting_links
from publisher.namespaces import DCAT, DCTERMS, MEMENTO, RDF, XSD, bind
from publisher.releases import Release, find_release, list_releases
from publisher.store import Store
from publisher.store.past import PastStores
from publisher.web import memo
from publisher.web.http import CORS_HEADERS, add_vary, error_response, public_base
from publisher.web.links import exporting
from publisher.web.negotiation import OFFERS, offer_by_suffix
from publisher.web.resources import serve_document
from publisher.web.serialisation import render_graph
from publisher.web.state import Published, Slot, served

__all__ = ["LINK_FORMAT", "ThingIndex", "bp", "existed", "init_app", "past_stores",
           "release_store", "releases", "thing_index", "versioned_path"]

bp = Blueprint("memento", __name__)
LINK_FORMAT = "application/link-format"
RELEASE = "release/"
TIMEMAP = "timemap/"


class ThingIndex:
    """Which releases describe which things: for every base-relative IRI a release's graph
    has as a subject, a bit per release (one dict for all releases, so memory grows with
    the things, not with things × releases). A release is read once per process, when first
    asked about (its folder never changes); releases kept later get the next bits."""

    def __init__(self) -> None:
        self._bits: dict[str, int] = {}
        self._bit_of: dict[str, int] = {}  # build id -> its bit
        self._lock = threading.Lock()

    def indexed(self, release: Release) -> bool:
        return release.build_id in self._bit_of

    def add(self, release: Release, things: Sequence[str]) -> None:
        """Record the things (base-relative) a release describes."""
        with self._lock:
            if release.build_id in self._bit_of:
                return
            mask = 1 << len(self._bit_of)
            bits = self._bits
            for thing in things:
                bits[thing] = bits.get(thing, 0) | mask
            self._bit_of[release.build_id] = mask

    def holding(self, thing: str, releases: Sequence[Release]) -> list[Release]:
        """Those of these (indexed) releases that describe the thing, in their order."""
        bits = self._bits.get(thing, 0)
        return [r for r in releases if bits & self._bit_of[r.build_id]]


_PAST = Slot("kiezgraph.memento.past", PastStores)
_INDEX = Slot("kiezgraph.memento.things", ThingIndex)
# Per served build id: the releases in their order.
_KNOWN: Slot[dict] = Slot("kiezgraph.memento.known", dict)
_LEASES = "kiezgraph_past_leases"  # on flask.g: the past stores this request holds


def init_app(app: Flask) -> None:
    """Register the memento routes, the TimeGate and the headers of every document."""
    settings = served(app).settings
    _PAST.put(app, PastStores(settings.past_releases_open, settings.query_memory))
    _INDEX.put(app, ThingIndex())
    app.register_blueprint(bp)
    app.before_request(_timegate)
    app.after_request(_document_headers)
    app.teardown_request(_return_leases)


def _return_leases(_error: BaseException | None = None) -> None:
    """The request is done: the past stores it read may close (publisher.store.past)."""
    leases = g.pop(_LEASES, None)
    if leases:
        pool = past_stores()
        for store in leases:
            pool.release(store)


@bp.after_request
def _mark(response: Response) -> Response:
    return memo.mark(response)


def past_stores(app: Flask | None = None) -> PastStores:
    """The app's past releases opened on demand."""
    return _PAST.get(app)


def thing_index(app: Flask | None = None) -> ThingIndex:
    """The app's index of which releases describe which things."""
    return _INDEX.get(app)


def _known() -> dict:
    """What is known about the releases while this build is served (dropped on a swap)."""
    cache = _KNOWN.setdefault(current_app._get_current_object(), {})  # type: ignore[attr-defined]
    build = served().published.build_id
    if cache.get("build") != build:
        cache.clear()
        cache.update(build=build, releases=None)
    return cache


def releases() -> list[Release]:
    """The releases under the served base up to the served one, oldest first by publication."""
    known = _known()
    if known["releases"] is None:
        state = served()
        base = state.settings.base_uri
        found = [r for r in list_releases(state.settings.out)
                 if r.info.get("base_uri", base) == base]
        current = state.published.release
        if current is not None and find_release(found, current.version) is None:
            found.append(current)
        if current is not None:
            # A build newer than the served one (not yet swapped in, or watching off) is
            # not a memento yet: what only it holds answers 404, not 410 (and /changes
            # does not list it either).
            found = [r for r in found if r.published_at <= current.published_at]
        known["releases"] = sorted(found, key=lambda r: r.published_at)
    return list(known["releases"])


def release_store(release: Release) -> Store:
    """The store of a release: the served one for the current release, else opened and
    leased to this request until it ends (a past store is not closed under its query)."""
    published = served().published
    if published.release is not None and published.release.version == release.version:
        return published.store
    store = past_stores().acquire(release)
    g.setdefault(_LEASES, []).append(store)
    return store


def _things_of(store: Store, base: str) -> list[str]:
    """The base-relative IRIs the store's graph has as subjects (what describe.exists
    asks one at a time)."""
    query = ('SELECT DISTINCT ?s WHERE { ?s ?p ?o FILTER(isIRI(?s) && STRSTARTS(STR(?s), '
             f'"{base}")) }}')
    return [value[len(base):] for (value,) in store.select_values(query, ["s"]) if value]


def existed(thing: str) -> list[Release]:
    """The releases (oldest first) whose graph says something about the thing (base-relative)."""
    all_releases = releases()
    index = thing_index()
    missing = [r for r in all_releases if not index.indexed(r)]
    if missing:
        base = served().settings.base_uri
        published = served().published
        for release in missing:  # once per release and process; each store only briefly
            if published.release is not None and published.release.version == release.version:
                index.add(release, _things_of(published.store, base))
                continue
            with past_stores().lease(release) as store:
                index.add(release, _things_of(store, base))
    return index.holding(thing, all_releases)


def versioned_path(release: Release, doc_path: str) -> str:
    """The base-relative address of a release's document (a memento): release/V/doc/…"""
    return f"{RELEASE}{release.version}/{doc_path}"


def _when(release: Release) -> str:
    return http_date(release.published_at)


def _bilingual(de: str, en: str) -> str:
    return f"{de} / {en}"


def _doc_of(path: str) -> tuple[str, str] | None:
    """(document path, suffix with its dot) of a request path under /id/ or /doc/."""
    rel = path.lstrip("/")
    if rel.startswith(ID):
        doc = document_path(rel) if is_safe_path(rel) else None
        return (doc, "") if doc else None
    if not rel.startswith(DOC):
        return None
    head, dot, suffix = rel.rpartition(".")
    if dot and "/" not in suffix and offer_by_suffix(suffix) is not None:
        rel, suffix = head, "." + suffix
    else:
        suffix = ""
    if not is_safe_path(rel) or thing_path(rel) is None:
        return None
    return rel, suffix


def _timegate() -> Response | None:
    """Accept-Datetime on a thing's IRI or document: 302 to the memento of that time."""
    asked = request.headers.get("Accept-Datetime")
    if asked is None or request.method not in ("GET", "HEAD"):
        return None
    found = _doc_of(request.path)
    if found is None:
        return None
    doc, suffix = found
    when = parse_date(asked)
    if when is None:
        return error_response(400, _bilingual(
            "Accept-Datetime ist kein HTTP-Datum (etwa: Tue, 05 May 2026 10:00:00 GMT)",
            "Accept-Datetime is not an HTTP date (e.g. Tue, 05 May 2026 10:00:00 GMT)"),
            headers={"Vary": "Accept-Datetime"})
    held = existed(thing_path(doc) or "")
    if not held:
        return None  # never existed: the route answers 404 as without the header
    chosen = held[0]
    for release in held:
        if release.published_at <= when.replace(tzinfo=dt.UTC):
            chosen = release
    target = request.url_root + versioned_path(chosen, doc) + suffix
    if request.query_string:
        target += "?" + request.query_string.decode("latin-1")
    response = Response(status=302, headers={"Location": target, **CORS_HEADERS})
    response.headers["Link"] = ", ".join(_links(doc, held, chosen, original=True))
    add_vary(response, "Accept-Datetime")
    return response


def _links(doc: str, held: list[Release], release: Release | None,
           original: bool) -> list[str]:
    """The Memento links of a document (original, timegate, timemap, first/last/prev/next)."""
    root = request.url_root
    links = [f'<{root}{doc}>; rel="original timegate"',
             f'<{root}{TIMEMAP}{doc}>; rel="timemap"; type="{LINK_FORMAT}"']
    if not held:
        return links
    marks: dict[str, list[str]] = {}
    first, last = held[0], held[-1]
    marks.setdefault(first.version, []).append("first")
    marks.setdefault(last.version, []).append("last")
    if release is not None and not original:
        at = [r.version for r in held].index(release.version)
        if at > 0:
            marks.setdefault(held[at - 1].version, []).append("prev")
        if at + 1 < len(held):
            marks.setdefault(held[at + 1].version, []).append("next")
    for r in held:
        if r.version in marks:
            rel = " ".join([*marks[r.version], "memento"])
            links.append(f'<{root}{versioned_path(r, doc)}>; rel="{rel}"; '
                         f'datetime="{_when(r)}"')
    return links


@bp.route("/release/<version>/doc/<path:rest>")
def memento(version: str, rest: str) -> Response:
    """One release's document of a thing (a Memento, RFC 7089)."""
    release = find_release(releases(), version)
    if release is None:
        return error_response(404, _bilingual(
            f"Eine Version {version[:80]!r} gibt es hier nicht; die Versionen nennt /download/",
            f"There is no release {version[:80]!r}; /download/ lists the releases"))
    published = Published(release=release, store=release_store(release))
    response = serve_document(rest, published, f"{RELEASE}{version}/")
    found = _doc_of("/" + DOC + rest)
    if found is None or response.status_code not in (200, 304):
        return response
    doc = found[0]
    held = existed(thing_path(doc) or "")
    response.headers["Memento-Datetime"] = _when(release)
    links = [response.headers.get("Link", ""), *_links(doc, held, release, original=False),
             f'<{request.url_root}{versioned_path(release, doc)}>; rel="cite-as"']
    response.headers["Link"] = ", ".join(x for x in links if x)
    return response


@bp.route("/timemap/doc/<path:rest>")
def timemap(rest: str) -> Response:
    """Every release in which the thing existed, with its date: link-format or RDF."""
    found = _doc_of("/" + DOC + rest)
    if found is None:
        abort(404)
    doc, suffix = found
    held = existed(thing_path(doc) or "")
    if not held:
        abort(404)
    offer = offer_by_suffix(suffix[1:]) if suffix else None
    if offer is None and not suffix:
        offers = [LINK_FORMAT, *(o.media_type for o in OFFERS if o.is_rdf)]
        best = request.accept_mimetypes.best_match(offers, default=LINK_FORMAT)
        offer = next((o for o in OFFERS if o.is_rdf and o.media_type == best), None)
    if offer is not None and not offer.is_rdf:
        abort(404)
    if offer is None:
        body = ",\n".join(_timemap_links(doc, held)) + "\n"
        response = Response(body, content_type=LINK_FORMAT)
    else:
        response = Response(render_graph(_timemap_graph(doc, held), offer),
                            content_type=offer.content_type)
    response.headers.update(CORS_HEADERS)
    response.cache_control.public = True
    response.cache_control.max_age = 300
    if not suffix:
        add_vary(response, "Accept")
    return response


def _timemap_links(doc: str, held: list[Release]) -> list[str]:
    root = request.url_root
    links = [f'<{root}{doc}>; rel="original"', f'<{root}{doc}>; rel="timegate"',
             f'<{root}{TIMEMAP}{doc}>; rel="self"; type="{LINK_FORMAT}"; '
             f'from="{_when(held[0])}"; until="{_when(held[-1])}"']
    for at, release in enumerate(held):
        rel = "memento"
        if at == len(held) - 1:
            rel = "last memento"
        if at == 0:
            rel = "first memento" if len(held) > 1 else "first last memento"
        links.append(f'<{root}{versioned_path(release, doc)}>; rel="{rel}"; '
                     f'datetime="{_when(release)}"')
    return links


def _timemap_graph(doc: str, held: list[Release]) -> Graph:
    """The TimeMap as RDF: the Memento vocabulary, each memento's version and date."""
    root = request.url_root
    original, timemap_iri = URIRef(root + doc), URIRef(root + TIMEMAP + doc)
    graph = Graph()
    bind(graph, ("memento", "dcterms", "dcat", "xsd"))
    graph.add((timemap_iri, RDF.type, MEMENTO.TimeMap))
    graph.add((timemap_iri, MEMENTO.original, original))
    graph.add((original, RDF.type, MEMENTO.OriginalResource))
    graph.add((original, MEMENTO.timegate, original))
    graph.add((original, MEMENTO.timemap, timemap_iri))
    for release in held:
        memento_iri = URIRef(root + versioned_path(release, doc))
        graph.add((timemap_iri, MEMENTO.memento, memento_iri))
        graph.add((original, DCTERMS.hasVersion, memento_iri))
        graph.add((memento_iri, RDF.type, MEMENTO.Memento))
        graph.add((memento_iri, MEMENTO.original, original))
        graph.add((memento_iri, DCTERMS.isVersionOf, original))
        graph.add((memento_iri, MEMENTO.mementoDatetime,
                   Literal(release.published_at.isoformat().replace("+00:00", "Z"),
                           datatype=XSD.dateTime)))
        graph.add((memento_iri, URIRef(str(DCAT) + "version"), Literal(release.version)))
    return graph


def _document_headers(response: Response) -> Response:
    """Vary and Memento links on a thing's IRI and document; cite-as the versioned IRI;
    410 with the TimeMap for a thing gone from the current release."""
    if request.endpoint not in ("resources.document", "resources.thing"):
        return response
    if exporting():
        # The static export (publisher.static) holds the current documents only: no
        # mementos, TimeMaps or citations (they need the past releases' stores, and nginx's
        # maps negotiate no Accept-Datetime). Its documents advertise none of them; their
        # cite-as is what it was before issue 25.
        return response
    add_vary(response, "Accept-Datetime")
    found = _doc_of(request.path)
    if found is None:
        return response
    doc = found[0]
    if response.status_code == 404:
        held = existed(thing_path(doc) or "")
        if not held:
            return response
        timemap_url = f"{request.url_root}{TIMEMAP}{doc}"
        gone = error_response(410, _bilingual(
            f"Dies gibt es in der aktuellen Version nicht mehr; frühere Fassungen: "
            f"{timemap_url}",
            f"This is gone from the current release; earlier versions: {timemap_url}"),
            headers={"Link": f'<{timemap_url}>; rel="timemap"; type="{LINK_FORMAT}"'})
        add_vary(gone, "Accept-Datetime")
        return gone
    if request.endpoint != "resources.document" or response.status_code not in (200, 304):
        return response
    current = served().published.release
    held = existed(thing_path(doc) or "")
    cite = request.url_root + (versioned_path(current, doc) if current else doc)
    # This hook runs before the catalogue's Signposting (publisher.web.__init__), so the
    # document's Link header holds no cite-as yet: it gets the versioned one here.
    links = [response.headers.get("Link", ""), *_links(doc, held, None, original=True)]
    if response.mimetype == "text/html":  # the page's Signposting, cite-as made versioned
        links.append(signposting_links(public_base(served().settings),
                                       served().settings.license, cite_as=cite))
    else:
        links.append(f'<{cite}>; rel="cite-as"')
    response.headers["Link"] = ", ".join(x for x in links if x)
    return response

