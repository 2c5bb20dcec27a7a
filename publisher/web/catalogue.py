"""The catalogue blueprint: DCAT-AP.de catalogue, VoID, downloads, robots.txt, sitemap."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from flask import Blueprint, Flask, Response, abort, render_template, request, send_file
from rdflib import RDF, Graph, URIRef
from rdflib.namespace import DCAT, DCTERMS, VOID

from publisher import describe
from publisher.config import Settings
from publisher.describe import label_of, text_of
from publisher.formats import rdf_format_by_name
from publisher.iris import rebase, rebase_graph
from publisher.layout import DATASET_NAME
from publisher.metadata.catalog import catalog_graph
from publisher.metadata.schemaorg import dataset_jsonld
from publisher.metadata.signposting import signposting_links
from publisher.metadata.void import void_graph
from publisher.releases import Release, list_releases
from publisher.web.cache import Rendered, render_cache
from publisher.web.http import add_vary, error_response, page_language, public_base, send
from publisher.web.links import page_root
from publisher.web.negotiation import HTML, OFFERS, choose, offer_by_suffix
from publisher.web.state import served
from publisher.web.view import Linker, ordered, rows_of

__all__ = ["KnownFile", "bp", "dataset_script", "init_app", "known_files", "page_signposting"]

bp = Blueprint("catalogue", __name__)

RDF_OFFERS = tuple(o for o in OFFERS if o.is_rdf)
# RDF first: a client that accepts anything (*/*) gets Turtle; one that names text/html
# (a browser, a search engine's crawler) gets the page.
PAGE_OFFERS = (*RDF_OFFERS, HTML)
SUFFIXES = ("ttl", "rdf", "jsonld", "nt", "html")
LATEST = "latest"
_GZIP = "application/gzip"


def init_app(app: Flask) -> None:
    """Register the catalogue routes and the Signposting fallback on the app."""
    app.register_blueprint(bp)


@dataclass(frozen=True)
class KnownFile:
    """A file /download/ serves: its public name, where it lies, what it is."""

    name: str
    path: Path
    media_type: str
    version: str
    bytes: int
    sha256: str
    alias_of: str | None = None


def known_files(settings: Settings, current: Release | None) -> dict[str, KnownFile]:
    """Every downloadable file by public name: each kept release's files, the `latest`
    aliases of the current release, and SHA256SUMS. Only these names are ever served."""
    files: dict[str, KnownFile] = {}
    releases = {r.version: r for r in list_releases(settings.out)}
    if current is not None:
        releases.setdefault(current.version, current)
    for version, release in releases.items():
        for entry in release.info.get("files", []):
            if not entry["name"].startswith(f"{DATASET_NAME}-{version}."):
                continue
            media = _GZIP if entry["compressed"] else entry["media_type"]
            files[entry["name"]] = KnownFile(entry["name"], Path(release.path) / entry["name"],
                                             media, version, entry["bytes"], entry["sha256"])
    if current is not None:
        prefix = f"{DATASET_NAME}-{current.version}."
        for name, known in list(files.items()):
            if name.startswith(prefix):
                alias = f"{DATASET_NAME}-{LATEST}.{name[len(prefix):]}"
                files[alias] = KnownFile(alias, known.path, known.media_type, known.version,
                                         known.bytes, known.sha256, alias_of=name)
        sums = Path(current.path) / "SHA256SUMS"
        if sums.is_file():
            files["SHA256SUMS"] = KnownFile("SHA256SUMS", sums, "text/plain", current.version,
                                            sums.stat().st_size, "")
            files.update(_listed(sums, current, files))
    return files


def _listed(sums: Path, current, known: dict[str, KnownFile]) -> dict[str, KnownFile]:
    """The other files SHA256SUMS lists (the release's catalog.ttl and void.ttl): what the
    checksum file names must be there to check."""
    listed = {}
    for line in sums.read_text(encoding="utf-8").splitlines():
        digest, _, name = line.partition("  ")
        name = name.strip()
        if not name or name in known or "/" in name or name.startswith("."):
            continue
        path = Path(current.path) / name
        if path.is_file():
            fmt = rdf_format_by_name(name.rpartition(".")[2])
            listed[name] = KnownFile(name, path, fmt.media_type if fmt else
                                     "application/octet-stream", current.version,
                                     path.stat().st_size, digest.strip())
    return listed


def _negotiated(kind: str, suffix: str | None, make_graph) -> Response:
    state = served()
    published = state.published
    release = published.release
    if release is None:
        abort(404, "Noch kein Build. / No build yet.")
    if suffix is not None:
        offer = offer_by_suffix(suffix) if suffix in SUFFIXES else None
        if offer is None:
            abort(404)
    else:
        offer = choose(request.accept_mimetypes, PAGE_OFFERS)
        if offer is None:
            return error_response(406, "Angeboten / offered: " + ", ".join(
                o.media_type for o in PAGE_OFFERS), offered=[o.media_type for o in PAGE_OFFERS])
    base = public_base(state.settings)
    lang = page_language() if offer is HTML else ""
    keep_lang = offer is HTML and bool(request.args.get("lang"))
    key = (kind, published.build_id, base, offer.name, lang, keep_lang, request.url_root)

    def render() -> Rendered:
        graph = make_graph(base, release.info, state.settings)
        if offer is HTML:
            page = _page(kind, graph + _labels(published.store, graph, state.settings.base_uri,
                                               base), base, lang, keep_lang)
            return Rendered(page.encode("utf-8"), offer.content_type)
        body = graph.serialize(format=offer.rdflib_format, encoding="utf-8")
        return Rendered(body, offer.content_type)

    rendered = render_cache().get_or_render(key, render)
    response = send(rendered, release=published.release)
    if suffix is None:
        add_vary(response, "Accept")
        response.headers["Content-Location"] = f"{request.path}.{offer.suffix}"
    if offer is HTML:
        response.content_language = lang
        if not keep_lang:
            add_vary(response, "Accept-Language")
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


# What the page shows, in this order: each typed subject gets a section.
_SECTIONS = (DCAT.Catalog, DCAT.Dataset, VOID.Dataset, DCAT.DataService, VOID.Linkset,
             DCAT.Distribution)
_PARTITIONS = (VOID.classPartition, VOID.propertyPartition)
_TITLES = {"catalog": ("Katalog", "Catalogue"), "void": ("Datensatzbeschreibung (VoID)",
                                                         "Dataset description (VoID)")}
_INTROS = {
    "catalog": ("Der DCAT-AP.de-Katalog des Datensatzes: wer ihn herausgibt, unter welcher "
                "Lizenz, in welchen Formaten er zu laden ist und wo sein SPARQL-Endpunkt ist. "
                "Harvester erhalten dieselben Angaben als RDF.",
                "The dataset's DCAT-AP.de catalogue: who publishes it, under which licence, "
                "in which formats it can be downloaded and where its SPARQL endpoint is. "
                "Harvesters get the same description as RDF."),
    "void": ("Die VoID-Beschreibung des Datensatzes: Umfang, Klassen, Eigenschaften, "
             "Abzüge und Verknüpfungen, für Menschen gesetzt; Werkzeuge erhalten sie als RDF.",
             "The dataset's VoID description: size, classes, properties, dumps and links, "
             "set for people; tools get it as RDF."),
}


def _labels(store, graph: Graph, content_base: str, base: str) -> Graph:
    """The store's labels (the ontology's @de/@en) of the classes and properties the
    description names, moved to the base the page shows."""
    terms = {o for p in (VOID["class"], VOID.property, RDF.type) for o in graph.objects(None, p)}
    terms |= set(graph.predicates())
    terms = {URIRef(rebase(t, base, content_base)) for t in terms if isinstance(t, URIRef)}
    return rebase_graph(describe.labels(store, terms), content_base, base)


def _page(kind: str, graph: Graph, base: str, lang: str, keep_lang: bool) -> str:
    """The catalogue or VoID description as a page in the site's look."""
    linker = Linker(graph, base, base, request.url_root, lang, keep_lang)
    sections: list[dict] = []
    seen: set[URIRef] = set()
    for cls in _SECTIONS:
        for subject in ordered(set(graph.subjects(RDF.type, cls))):
            if not isinstance(subject, URIRef) or subject in seen:
                continue
            if set(graph.predicates(subject)) <= {RDF.type}:
                continue  # a bare mention (a linkset's target), nothing to show
            seen.add(subject)
            sections.append(_section(graph, subject, linker, lang, len(sections)))
    de, en = _TITLES[kind]
    intro_de, intro_en = _INTROS[kind]
    here = request.url_root + request.path.lstrip("/").removesuffix(".html")
    return render_template(
        "catalogue.html", lang=lang, title=de if lang == "de" else en,
        intro=intro_de if lang == "de" else intro_en, sections=sections,
        formats=[(o, f"{here}.{o.suffix}") for o in RDF_OFFERS], here=here,
        other_lang="en" if lang == "de" else "de")


def _section(graph: Graph, subject: URIRef, linker: Linker, lang: str, index: int) -> dict:
    """One described subject: its label, types, properties, and VoID partitions as tables."""
    title = text_of(graph, subject, (DCTERMS.title,), lang)
    classes = sorted(((linker.link(graph.value(p, VOID["class"]), term=True),
                       graph.value(p, VOID.entities))
                      for p in graph.objects(subject, VOID.classPartition)
                      if graph.value(p, VOID["class"]) is not None),
                     key=lambda item: item[0].label.lower())
    properties = sorted(((linker.link(graph.value(p, VOID.property), term=True),
                          graph.value(p, VOID.triples))
                         for p in graph.objects(subject, VOID.propertyPartition)
                         if graph.value(p, VOID.property) is not None),
                        key=lambda item: item[0].label.lower())
    return {"anchor": f"s{index}",
            "title": str(title) if title is not None else label_of(graph, subject, lang),
            "iri": str(subject),
            "types": [linker.link(t, term=True) for t in ordered(graph.objects(subject,
                                                                               RDF.type))],
            "rows": rows_of(graph, subject, linker, skip=(RDF.type, *_PARTITIONS)),
            "classes": classes, "properties": properties}


@bp.get("/catalog")
@bp.get("/catalog.<suffix>")
def catalog(suffix: str | None = None):
    """The DCAT-AP.de catalogue in Turtle, RDF/XML, JSON-LD (or N-Triples)."""
    return _negotiated("catalog", suffix, catalog_graph)


@bp.get("/.well-known/void")
@bp.get("/.well-known/void.<suffix>")
def void(suffix: str | None = None):
    """The VoID description of the dataset."""
    return _negotiated("void", suffix, lambda base, info, _settings: void_graph(base, info))


@bp.get("/download/")
def downloads():
    """The list of downloadable files: the current release, its aliases, older releases."""
    state = served()
    current = state.published.release
    files = known_files(state.settings, current)
    base = public_base(state.settings)
    versions: dict[str, list[KnownFile]] = {}
    for known in files.values():
        if known.alias_of is None and known.name != "SHA256SUMS":
            versions.setdefault(known.version, []).append(known)
    ordered = sorted(versions.items(), key=lambda kv: kv[0], reverse=True)
    latest = sorted((f for f in files.values() if f.alias_of), key=lambda f: f.name)
    lang = "en" if request.args.get("lang") == "en" else "de"
    html = render_template("download.html", lang=lang, current=current, latest=latest,
                           versions=[(v, sorted(fs, key=lambda f: f.name)) for v, fs in ordered],
                           has_sums="SHA256SUMS" in files, catalog=page_root() + "catalog",
                           )
    response = Response(html, content_type="text/html; charset=utf-8")
    if current is not None:
        response.headers["Link"] = page_signposting(base, state.settings)
    return response


@bp.get("/download/<name>")
def download(name: str):
    """One file, looked up by name in the list of known files (never a path from the URL)."""
    state = served()
    known = known_files(state.settings, state.published.release).get(name)
    if known is None or not known.path.is_file():
        abort(404)
    response = send_file(known.path, mimetype=known.media_type, conditional=True,
                         etag=known.sha256 or True, download_name=known.name,
                         max_age=60 if known.alias_of or known.name == "SHA256SUMS" else 86400)
    response.direct_passthrough = True
    if known.alias_of:
        response.headers["Content-Location"] = f"{public_base(state.settings)}download/" \
                                               f"{known.alias_of}"
    if known.sha256:
        response.headers["Digest"] = f"sha-256={_b64(known.sha256)}"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _b64(hexdigest: str) -> str:
    return base64.b64encode(bytes.fromhex(hexdigest)).decode("ascii")


@bp.get("/robots.txt")
def robots():
    """Crawlers are welcome, the endpoint and the catalogue included; the sitemap lists pages."""
    base = public_base(served().settings)
    text = ("User-agent: *\nAllow: /\nAllow: /sparql\nAllow: /catalog\nAllow: /download/\n"
            f"\nSitemap: {base}sitemap.xml\n")
    return Response(text, content_type="text/plain; charset=utf-8")


@bp.get("/sitemap.xml")
def sitemap():
    """Every resource page (doc/...html) of the graph, with the date the data last changed."""
    state = served()
    published = state.published
    base = public_base(state.settings)
    content_base = state.settings.base_uri
    key = ("sitemap", published.build_id, base)

    def render() -> Rendered:
        rows = published.store.select(
            'SELECT DISTINCT ?s WHERE { ?s ?p ?o FILTER(isIRI(?s) && '
            f'STRSTARTS(STR(?s), "{_literal(content_base)}")) }}')
        urls = {f"{base}", f"{base}catalog", f"{base}sparql", f"{base}download/",
                f"{base}events", f"{base}events.ics", f"{base}changes"}
        for row in rows:
            local = str(row["s"])[len(content_base):]
            if local.startswith("id/") and "#" not in local:
                urls.add(f"{base}doc/{local[3:]}.html")
            elif local.startswith("ontology/") and "#" not in local:
                urls.add(f"{base}doc/{local}.html")
        modified = published.release.info["modified"] if published.release else None
        lastmod = f"<lastmod>{modified}</lastmod>" if modified else ""
        body = ['<?xml version="1.0" encoding="UTF-8"?>',
                '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
        body += [f"<url><loc>{escape(u)}</loc>{lastmod}</url>" for u in sorted(urls)]
        body.append("</urlset>")
        return Rendered(("\n".join(body) + "\n").encode("utf-8"), "application/xml")

    return send(render_cache().get_or_render(key, render), release=published.release)


def _literal(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def page_signposting(base: str, settings: Settings, cite_as: str | None = None) -> str:
    """The Signposting Link header value for a page under base (see publisher.metadata)."""
    return signposting_links(base, settings.license, cite_as=cite_as)


def dataset_script(lang: str = "de") -> str | None:
    """The home page's schema.org Dataset as a ready <script type="application/ld+json">."""
    state = served()
    release = state.published.release
    if release is None:
        return None
    data = dataset_jsonld(public_base(state.settings), release.info, state.settings, lang)
    text = json.dumps(data, ensure_ascii=False, indent=1).replace("</", "<\\/")
    return f'<script type="application/ld+json">\n{text}\n</script>'


@bp.after_app_request
def _signpost(response: Response) -> Response:
    """Every HTML page gets Signposting; pages that set their own Link header keep theirs."""
    if (response.mimetype == "text/html" and response.status_code == 200
            and 'rel="cite-as"' not in response.headers.get("Link", "")):
        state = served()
        link = page_signposting(public_base(state.settings), state.settings)
        existing = response.headers.get("Link")
        response.headers["Link"] = f"{existing}, {link}" if existing else link
    return response
