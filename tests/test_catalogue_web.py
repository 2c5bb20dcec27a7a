"""The catalogue blueprint: negotiation, downloads of every kept release, robots, sitemap."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import DCAT

from publisher.build import build
from publisher.config import load_settings
from publisher.project import Project
from publisher.releases import current_release

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.mark.parametrize(("path", "accept", "media_type", "fmt"), [
    ("/catalog", "text/turtle", "text/turtle", "turtle"),
    ("/catalog", "application/rdf+xml", "application/rdf+xml", "xml"),
    ("/catalog", "application/ld+json", "application/ld+json", "json-ld"),
    ("/catalog.ttl", "*/*", "text/turtle", "turtle"),
    ("/catalog.rdf", "text/html", "application/rdf+xml", "xml"),
    ("/catalog.jsonld", "*/*", "application/ld+json", "json-ld"),
    ("/.well-known/void", "text/turtle", "text/turtle", "turtle"),
])
def test_negotiation_and_suffixes(client, path, accept, media_type, fmt):
    response = client.get(path, headers={"Accept": accept})
    assert response.status_code == 200
    assert response.mimetype == media_type
    graph = Graph().parse(data=response.get_data(as_text=True), format=fmt)
    assert len(graph) > 50


def test_unacceptable_and_unknown(client):
    assert client.get("/catalog", headers={"Accept": "image/png"}).status_code == 406
    assert client.get("/catalog.exe").status_code == 404


def test_catalog_uses_the_request_host(client):
    text = client.get("/catalog.ttl", base_url="http://localhost:8123").get_data(as_text=True)
    graph = Graph().parse(data=text, format="turtle")
    assert list(graph.objects(None, DCAT.endpointURL)) == [URIRef("http://localhost:8123/sparql")]


def test_download_versioned_and_latest(client, release):
    for entry in release.info["files"]:
        if not entry["name"].startswith("kiezgraph-pankow-"):
            continue
        latest = entry["name"].replace(release.version, "latest")
        for name in (entry["name"], latest):
            response = client.get(f"/download/{name}")
            assert response.status_code == 200, name
            assert hashlib.sha256(response.data).hexdigest() == entry["sha256"]
            response.close()
    sums = client.get("/download/SHA256SUMS").get_data(as_text=True)
    assert f"kiezgraph-pankow-{release.version}.ttl.gz" in sums


@pytest.mark.parametrize("name", ["..%2Fbuild.json", "../build.json", "%2E%2E/graph.nq",
                                  "graph.nq", "build.json", "kiezgraph-pankow-x.ttl",
                                  "..%2F..%2Freleases.json"])
def test_no_file_outside_the_known_list(client, name):
    assert client.get(f"/download/{name}").status_code == 404


def test_robots_and_sitemap(client):
    robots = client.get("/robots.txt").get_data(as_text=True)
    assert "Allow: /sparql" in robots and "Allow: /catalog" in robots
    assert "Sitemap: http://localhost/sitemap.xml" in robots
    sitemap = client.get("/sitemap.xml").get_data(as_text=True)
    assert "http://localhost/doc/organisation/bezirksamt-pankow.html" in sitemap


def test_download_page_lists_files_with_signposting(client, release):
    response = client.get("/download/")
    assert response.status_code == 200
    assert f"kiezgraph-pankow-{release.version}.ttl.gz" in response.get_data(as_text=True)
    link = response.headers["Link"]
    for rel in ("describedby", "cite-as", "license", "type"):
        assert f'rel="{rel}"' in link


@pytest.mark.slow
def test_older_releases_stay_downloadable(tmp_path):
    from publisher.web import create_app

    root = tmp_path / "project"
    shutil.copytree(FIXTURES / "metadata", root)
    out = tmp_path / "out"
    settings = load_settings(env={}, overrides={"out": str(out)})
    first = build(Project(root), settings, out).release
    data = root / "data" / "organisations.ttl"
    data.write_text(data.read_text().replace("Weißensee", "Weissensee"))
    second = build(Project(root), settings, out).release
    assert first.version != second.version
    client = create_app(settings, release=current_release(out)).test_client()
    for version in (first.version, second.version):
        response = client.get(f"/download/kiezgraph-pankow-{version}.ttl")
        assert response.status_code == 200
        response.close()
    latest = client.get("/download/kiezgraph-pankow-latest.ttl")
    assert latest.data == (Path(second.path) / f"kiezgraph-pankow-{second.version}.ttl") \
        .read_bytes()
    latest.close()


BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"
GOOGLEBOT = "text/html,application/xhtml+xml,application/signed-exchange;v=b3,*/*;q=0.9"


@pytest.mark.live
@pytest.mark.parametrize("path", ["/catalog", "/.well-known/void"])
@pytest.mark.parametrize("accept", [BROWSER, GOOGLEBOT, "text/html"])
def test_issue15_people_and_crawlers_get_a_page(live_server, path, accept):
    """A browser or Googlebot got RDF/XML as a download, text/html got 406."""
    import httpx

    response = httpx.get(live_server.url + path, headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "accept" in response.headers["vary"].lower()
    assert "content-disposition" not in response.headers
    page = response.text
    assert '<html lang="de">' in page and 'class="site"' in page  # the site's look
    assert f'href="{live_server.url}{path}.ttl"' in page
    assert "Bezirksamt Pankow" in page or "Tripel" in page


@pytest.mark.live
@pytest.mark.parametrize("path", ["/catalog", "/.well-known/void"])
def test_rdf_clients_still_get_rdf_from_catalogue_and_void(live_server, path):
    import httpx

    graph = Graph().parse(live_server.url + path)  # rdflib's own Accept
    assert len(graph) > 20
    for accept in ("*/*", "text/turtle", "application/rdf+xml"):
        response = httpx.get(live_server.url + path, headers={"Accept": accept})
        assert response.headers["content-type"].split(";")[0] == \
            ("text/turtle" if accept == "*/*" else accept)


@pytest.mark.live
def test_issue15_every_file_sha256sums_lists_is_downloadable(live_server):
    """SHA256SUMS listed catalog.ttl and void.ttl, which /download/ did not serve."""
    import httpx

    sums = httpx.get(live_server.url + "/download/SHA256SUMS")
    assert sums.status_code == 200
    listed = [line.split("  ", 1) for line in sums.text.splitlines() if line.strip()]
    assert {"catalog.ttl", "void.ttl"} <= {name for _d, name in listed}
    for digest, name in listed:
        response = httpx.get(f"{live_server.url}/download/{name}")
        assert response.status_code == 200, name
        assert hashlib.sha256(response.content).hexdigest() == digest, name
    page = httpx.get(live_server.url + "/download/").text
    assert 'href="catalog.ttl"' in page and 'href="void.ttl"' in page
