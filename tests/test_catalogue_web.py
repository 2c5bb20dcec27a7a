"""The catalogue blueprint: negotiation, downloads of every kept release, robots, sitemap."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import DCAT

from publisher.build import build, current_release
from publisher.config import load_settings
from publisher.project import Project

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
    text = client.get("/catalog.ttl", base_url="http://kiez.example:8123").get_data(as_text=True)
    graph = Graph().parse(data=text, format="turtle")
    assert list(graph.objects(None, DCAT.endpointURL)) == [URIRef("http://kiez.example:8123/sparql")]


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
