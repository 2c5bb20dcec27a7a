"""Dereference against a real server: rdflib follows the 303 and finds the URI it asked for."""

from __future__ import annotations

import http.client

import httpx
import pytest
from rdflib import Graph, URIRef

pytestmark = pytest.mark.live

PATH = "/id/stadtteilzentrum/stz-weissensee"


def test_rdflib_parse_finds_triples_about_the_url_it_asked(live_server):
    url = live_server.url + PATH
    graph = Graph().parse(url)
    assert len(list(graph.predicate_objects(URIRef(url)))) >= 5
    assert not any(str(s).startswith("https://w3id.org/") for s in graph.subjects())


@pytest.mark.parametrize("fmt", ["turtle", "xml", "json-ld", "nt"])
def test_rdflib_parse_each_format(live_server, fmt):
    url = live_server.url + "/id/agreement/kooperationsvertrag-2022"
    graph = Graph().parse(url, format=fmt)
    assert (URIRef(url), None, None) in graph


def test_the_host_asked_is_the_host_answered(live_server):
    host = f"localhost:{live_server.port}"
    response = httpx.get(live_server.url + PATH, headers={"Host": host, "Accept": "text/turtle"},
                         follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"http://{host}/doc/stadtteilzentrum/stz-weissensee"
    doc = httpx.get(live_server.url + "/doc/stadtteilzentrum/stz-weissensee",
                    headers={"Host": host, "Accept": "text/turtle", "Accept-Encoding": "gzip"})
    assert doc.headers["content-encoding"] == "gzip"
    graph = Graph().parse(data=doc.text, format="turtle")
    assert (URIRef(f"http://{host}{PATH}"), None, None) in graph


@pytest.mark.parametrize("raw_path", ["/doc/../../etc/passwd", "/id/%2e%2e/%2e%2e/etc/passwd",
                                      "/doc/x%00y", "/id/" + "a" * 9000])
def test_raw_odd_paths_over_the_wire(live_server, raw_path):
    connection = http.client.HTTPConnection("127.0.0.1", live_server.port, timeout=10)
    connection.putrequest("GET", raw_path, skip_accept_encoding=True)
    connection.endheaders()
    response = connection.getresponse()
    body = response.read()
    connection.close()
    assert 400 <= response.status < 500 and b"Traceback" not in body
