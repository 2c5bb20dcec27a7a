"""Walk every resource as a client would: follow the 303, parse each format, compare triples."""

from __future__ import annotations

import json
import re

import pytest
from rdflib import Graph, URIRef
from rdflib.compare import isomorphic

from publisher import describe
from publisher.iris import document_path, graph_path, rebase_graph
from publisher.negotiation import OFFERS
from publisher.store import EmbeddedStore

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
        want = rebase_graph(describe.describe(store, URIRef(BASE + path)), BASE, HERE)
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
    response = client.get("/doc/organisation/bezirksamt-pankow", headers={"Accept": "text/turtle"})
    links = response.headers["Link"]
    for offer in OFFERS:
        if offer.name != "turtle":
            assert f'/doc/organisation/bezirksamt-pankow.{offer.suffix}>; rel="alternate"; ' \
                   f'type="{offer.media_type}"' in links
    assert '<http://localhost/id/organisation/bezirksamt-pankow>; rel="describes"' in links


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
    assert 'href="http://localhost/doc/agreement/kooperationsvertrag-2022"' in page
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
    assert f'href="http://localhost{path.replace("agreement/kooperationsvertrag-2022", "")}' in en
    negotiated = client.get(path, headers={"Accept": "text/html", "Accept-Language": "en-GB"})
    assert negotiated.headers["Content-Language"] == "en"
    assert "Accept-Language" in negotiated.headers["Vary"]
    de = client.get(path, headers={"Accept": "text/html"}).get_data(True)
    assert "<h1>Kooperationsvertrag 2022</h1>" in de


def test_agreement_page_lists_its_partners(client):
    page = client.get("/doc/agreement/kooperationsvertrag-2022.html").get_data(True)
    for slug in ("stadtteilzentrum/stz-weissensee", "organisation/bezirksamt-pankow",
                 "organisation/senias"):
        assert f'href="http://localhost/doc/{slug}"' in page


def test_home_lists_kinds_with_counts(client, store):
    page = client.get("/", headers={"Accept": "text/html"}).get_data(True)
    for kind in describe.kinds(store, BASE):
        assert f'<span class="count">{kind.count}</span>' in page
    assert "Stadtteilzentrum" in page and 'href="http://localhost/doc/stadtteilzentrum/' in page


def test_no_rewrite_keeps_the_base(settings, release):
    from publisher.web import create_app

    app = create_app(settings.replace(rewrite_base=False), release=release)
    response = app.test_client().get("/doc/stadtteilzentrum/stz-weissensee.ttl")
    graph = Graph().parse(data=response.get_data(), format="turtle")
    assert (URIRef(BASE + "id/stadtteilzentrum/stz-weissensee"), None, None) in graph
    assert not any(str(s).startswith(HERE) for s in graph.subjects())


def test_representations_use_the_host_asked(client):
    response = client.get("/doc/stadtteilzentrum/stz-weissensee.nt",
                          base_url="http://example.org:8123")
    graph = Graph().parse(data=response.get_data(), format="nt")
    assert (URIRef("http://example.org:8123/id/stadtteilzentrum/stz-weissensee"), None,
            None) in graph


_RENDER = """
import hashlib, sys
from publisher.build import current_release
from publisher.config import load_settings
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
