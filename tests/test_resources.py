"""Walk every resource as a client would: follow the 303, parse each format, compare triples."""

from __future__ import annotations

import json
import re

import pytest
from rdflib import RDF, Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCAT, XSD

from publisher import describe
from publisher.iris import document_path, graph_path, rebase_graph
from publisher.store import EmbeddedStore
from publisher.web.negotiation import OFFERS

BASE = "https://w3id.org/kiezgraph/pankow/"
HERE = "http://localhost/"
RDF_OFFERS = [o for o in OFFERS if o.is_rdf]


@pytest.fixture(scope="module")
def store(release):
    return EmbeddedStore.from_release(release)


@pytest.fixture(scope="module")
def things(store) -> list[str]:
    """Base-relative paths of every resource that has a document."""
    rows = store.select(f'SELECT DISTINCT ?s WHERE {{ ?s ?p ?o FILTER(isIRI(?s) && '
                        f'STRSTARTS(STR(?s), "{BASE}")) }}')
    paths = {graph_path(str(r["s"]), BASE) for r in rows}
    return sorted(p for p in paths if "#" not in p and document_path(p))


def as_catalogued(graph: Graph) -> Graph:
    """The graph with dcat:byteSize typed as the catalogue writes it (xsd:nonNegativeInteger):
    the store keeps it as xsd:integer, documents put the datatype back."""
    for s, p, o in list(graph.triples((None, DCAT.byteSize, None))):
        graph.remove((s, p, o))
        graph.add((s, p, Literal(str(o), datatype=XSD.nonNegativeInteger)))
    return graph


def parse(response, offer) -> Graph:
    return Graph().parse(data=response.get_data(), format=offer.rdflib_format.replace(
        "pretty-xml", "xml"), publicID=HERE)


def test_every_resource_dereferences_in_every_format(client, store, things):
    assert len(things) > 50
    for path in things:
        response = client.get("/" + path, headers={"Accept": "text/turtle"})
        assert response.status_code == 303, path
        location = response.headers["Location"]
        assert location == HERE + document_path(path)
        want = as_catalogued(rebase_graph(describe.describe(store, URIRef(BASE + path)),
                                          BASE, HERE))
        for offer in RDF_OFFERS:
            doc = client.get(location, headers={"Accept": offer.media_type})
            assert doc.status_code == 200, (path, offer.name)
            assert doc.mimetype == offer.media_type
            assert doc.headers["Content-Location"] == f"{location}.{offer.suffix}"
            assert "Accept" in doc.headers["Vary"]
            assert doc.headers["Access-Control-Allow-Origin"] == "*"
            got = parse(doc, offer)
            assert isomorphic(got, want), (path, offer.name)
            assert (URIRef(HERE + path), None, None) in got


def test_suffix_urls_need_no_accept_header(client, store):
    path = "doc/stadtteilzentrum/stz-weissensee"
    want = rebase_graph(describe.describe(
        store, URIRef(BASE + "id/stadtteilzentrum/stz-weissensee")), BASE, HERE)
    for offer in RDF_OFFERS:
        response = client.get(f"/{path}.{offer.suffix}", headers={"Accept": "text/html"})
        assert response.status_code == 200 and response.mimetype == offer.media_type
        assert "Content-Location" not in response.headers
        assert isomorphic(parse(response, offer), want)
    html = client.get(f"/{path}.html", headers={"Accept": "text/turtle"})
    assert html.status_code == 200 and html.mimetype == "text/html"


def test_link_headers_point_to_the_alternates(client):
    """One rel="alternate" per response (pyld fails on several): the JSON-LD, or from the
    JSON-LD the page; the page's <link> elements list every format."""
    for offer in OFFERS:
        response = client.get(f"/doc/organisation/bezirksamt-pankow.{offer.suffix}")
        links = response.headers["Link"]
        want = "html" if offer.name == "jsonld" else "jsonld"
        target = next(o for o in OFFERS if o.suffix == want)
        assert f'/doc/organisation/bezirksamt-pankow.{want}>; rel="alternate"; ' \
               f'type="{target.media_type}"' in links
        assert links.count('rel="alternate"') == 1
        assert '<http://localhost/id/organisation/bezirksamt-pankow>; rel="describes"' in links
    page = client.get("/doc/organisation/bezirksamt-pankow.html").get_data(as_text=True)
    for offer in OFFERS:
        if offer.is_rdf:
            assert f'type="{offer.media_type}" href="../../doc/organisation/' \
                   f'bezirksamt-pankow.{offer.suffix}"' in page


def test_browser_gets_html_and_curl_gets_turtle(client):
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    assert client.get("/doc/agreement/kooperationsvertrag-2022",
                      headers={"Accept": browser}).mimetype == "text/html"
    assert client.get("/doc/agreement/kooperationsvertrag-2022",
                      headers={"Accept": "*/*"}).mimetype == "text/turtle"


def test_ontology_terms_and_concepts_dereference(client):
    for path in ("ontology/Stadtteilzentrum", "id/concept/activity-role/unterzeichner"):
        response = client.get("/" + path)
        assert response.status_code == 303
        assert response.headers["Location"] == HERE + document_path(path)
    whole = client.get("/ontology", headers={"Accept": "text/turtle"})
    assert whole.status_code == 200
    graph = Graph().parse(data=whole.get_data(), format="turtle")
    assert (URIRef(HERE + "ontology"), None, None) in graph
    assert (URIRef(HERE + "ontology/Stadtteilzentrum"), None, None) in graph
    page = client.get("/ontology?lang=en", headers={"Accept": "text/html"}).get_data(True)
    assert 'lang="en"' in page and "neighbourhood centre" in page
    assert client.get("/ontology.ttl").mimetype == "text/turtle"
    assert client.get("/ontology.exe").status_code == 404


def test_html_page_of_a_centre(client):
    response = client.get("/doc/stadtteilzentrum/stz-weissensee", headers={"Accept": "text/html"})
    page = response.get_data(as_text=True)
    assert response.headers["Content-Language"] == "de" and '<html lang="de">' in page
    assert "<h1>Stadtteilzentrum Weißensee</h1>" in page
    assert 'href="../../doc/agreement/kooperationsvertrag-2022"' in page  # page-relative
    assert 'href="https://stz-weissensee.de/" ' in page and 'rel="external"' in page
    assert "Quellen" in page and "data/stadtteilzentren.ttl" in page
    for offer in RDF_OFFERS:
        assert f'/doc/stadtteilzentrum/stz-weissensee.{offer.suffix}"' in page
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, re.S)
    assert [attrs for attrs, _ in scripts] == [' type="application/ld+json"']
    data = json.loads(scripts[0][1])
    assert data["@context"] == "https://schema.org"
    assert data["@id"] == "http://localhost/id/stadtteilzentrum/stz-weissensee"
    assert data["name"] == "Stadtteilzentrum Weißensee" and data["@type"] == "Organization"
    assert "//cdn" not in page and "<style" not in page


def test_html_language_follows_lang_and_accept_language(client):
    path = "/doc/agreement/kooperationsvertrag-2022"
    en = client.get(path + "?lang=en", headers={"Accept": "text/html"}).get_data(True)
    assert '<html lang="en">' in en and "<h1>Cooperation agreement 2022</h1>" in en
    assert 'href="../../doc/' in en
    negotiated = client.get(path, headers={"Accept": "text/html", "Accept-Language": "en-GB"})
    assert negotiated.headers["Content-Language"] == "en"
    assert "Accept-Language" in negotiated.headers["Vary"]
    de = client.get(path, headers={"Accept": "text/html"}).get_data(True)
    assert "<h1>Kooperationsvertrag 2022</h1>" in de


def test_agreement_page_lists_its_partners(client):
    page = client.get("/doc/agreement/kooperationsvertrag-2022.html").get_data(True)
    for slug in ("stadtteilzentrum/stz-weissensee", "organisation/bezirksamt-pankow",
                 "organisation/senias"):
        assert f'href="../../doc/{slug}"' in page


def test_home_lists_kinds_with_counts(client, store):
    page = client.get("/", headers={"Accept": "text/html"}).get_data(True)
    for kind in describe.kinds(store, BASE):
        assert f'<span class="count">{kind.count}</span>' in page
    assert "Stadtteilzentrum" in page and 'href="./doc/stadtteilzentrum/' in page


def test_no_rewrite_keeps_the_base(settings, release):
    from publisher.web import create_app

    app = create_app(settings.replace(rewrite_base=False), release=release)
    response = app.test_client().get("/doc/stadtteilzentrum/stz-weissensee.ttl")
    graph = Graph().parse(data=response.get_data(), format="turtle")
    assert (URIRef(BASE + "id/stadtteilzentrum/stz-weissensee"), None, None) in graph
    assert not any(str(s).startswith(HERE) for s in graph.subjects())


def test_representations_use_the_host_asked(client):
    response = client.get("/doc/stadtteilzentrum/stz-weissensee.nt",
                          base_url="http://localhost:8123")
    graph = Graph().parse(data=response.get_data(), format="nt")
    assert (URIRef("http://localhost:8123/id/stadtteilzentrum/stz-weissensee"), None,
            None) in graph


_RENDER = """
import hashlib, sys
from publisher.config import load_settings
from publisher.releases import current_release
from publisher.web import create_app
out = sys.argv[1]
app = create_app(load_settings(env={}, overrides={"out": out}), release=current_release(out))
client = app.test_client()
for path in sys.argv[2:]:
    print(path, hashlib.sha256(client.get(path).data).hexdigest())
app.extensions["kiezgraph"].published.store.close()
"""


def test_documents_are_the_same_bytes_in_every_process(build_dir):
    """Several server processes and the static export must send one body per document:
    Python's per-process hash seed must not reorder triples, rows or blank-node labels."""
    import os
    import subprocess
    import sys

    paths = ["/doc/organisation/vska.nt", "/doc/agreement/kooperationsvertrag-2022.nt",
             "/doc/organisation/vska.ttl", "/doc/organisation/vska.html",
             "/doc/organisation/vska.jsonld", "/doc/agreement/kooperationsvertrag-2022.jsonld",
             "/doc/organisation/vska.rdf", "/doc/agreement/kooperationsvertrag-2022.rdf",
             "/ontology.jsonld", "/ontology.rdf",
             "/doc/agreement/kooperationsvertrag-2022.html", "/"]
    outputs = set()
    for seed in ("1", "2", "3"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run([sys.executable, "-c", _RENDER, str(build_dir), *paths],
                              env=env, capture_output=True, text=True, timeout=120, check=True)
        outputs.add(done.stdout)
    assert len(outputs) == 1, outputs


@pytest.mark.live
def test_issue15_pyld_expands_every_resource(live_server, things):
    """pyld's jsonld.expand(url) failed on nearly every resource: its document loader takes
    several rel="alternate" Link values for one and stops. Thing IRIs (303), documents,
    and their non-JSON variants (pyld follows the JSON-LD alternate) must all expand."""
    from pyld import jsonld

    assert len(things) > 50
    for path in things:
        url = f"{live_server.url}/{path}"
        expanded = jsonld.expand(url)
        ids = {node.get("@id") for node in expanded}
        assert url in ids, path
    doc = document_path(things[0])
    for suffix in ("html", "ttl", "rdf", "nt"):  # not JSON: pyld goes to the JSON-LD
        expanded = jsonld.expand(f"{live_server.url}/{doc}.{suffix}")
        assert f"{live_server.url}/{things[0]}" in {node.get("@id") for node in expanded}


@pytest.mark.live
def test_issue15_named_graphs_dereference(live_server):
    """Every sd:name of the service description (the ?g values of queries) answered 404;
    each now describes its graph, in RDF and as a page."""
    import httpx
    from rdflib.namespace import RDFS, VOID

    sd = URIRef("http://www.w3.org/ns/sparql-service-description#name")
    description = Graph().parse(live_server.url + "/sparql", format="turtle")
    names = sorted(str(n) for n in description.objects(None, sd))
    assert len(names) >= 5
    for name in names:
        path = name[len(BASE):] if name.startswith(BASE) else name.split("/", 3)[3]
        assert path.startswith("graph/"), name
        url = f"{live_server.url}/{path}"
        graph = Graph().parse(url)  # rdflib's own negotiation
        me = URIRef(url)
        assert int(graph.value(me, VOID.triples)) > 0, name
        assert str(graph.value(me, RDFS.label)).endswith((".ttl", "metadata"))
        page = httpx.get(url, headers={"Accept": "text/html"})
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert httpx.get(f"{live_server.url}/graph/data/no-such-file").status_code == 404


@pytest.mark.live
@pytest.mark.parametrize("path", ["ontology/", "ontology/0.1.0"])
def test_issue15_vocabulary_and_version_iri_dereference(live_server, path):
    """void:vocabulary <…/ontology/> and owl:versionIRI <…/ontology/0.1.0> answered 404;
    both lead to the ontology's document."""
    import httpx
    from rdflib.namespace import OWL

    response = httpx.get(f"{live_server.url}/{path}", headers={"Accept": "text/turtle"})
    assert response.status_code == 303
    assert response.headers["location"] == f"{live_server.url}/ontology"
    graph = Graph().parse(f"{live_server.url}/{path}")
    ontology = URIRef(f"{live_server.url}/ontology")
    assert (ontology, RDF.type, OWL.Ontology) in graph
    if path != "ontology/":
        assert (ontology, OWL.versionIRI, URIRef(f"{live_server.url}/{path}")) in graph
    assert httpx.get(f"{live_server.url}/ontology/9.9.9").status_code == 404
