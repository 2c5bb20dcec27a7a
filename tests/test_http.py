"""HTTP behaviour: validators and 304, HEAD, gzip, CORS, negotiated errors, bad input."""

from __future__ import annotations

import gzip

import pytest
from rdflib import Graph

DOC = "/doc/agreement/kooperationsvertrag-2022"


def test_etag_and_last_modified_give_304(client, release):
    first = client.get(DOC, headers={"Accept": "text/turtle"})
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert first.status_code == 200 and etag and modified
    again = client.get(DOC, headers={"Accept": "text/turtle", "If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    since = client.get(DOC, headers={"Accept": "text/turtle", "If-Modified-Since": modified})
    assert since.status_code == 304
    other = client.get(DOC, headers={"Accept": "application/ld+json", "If-None-Match": etag})
    assert other.status_code == 200 and other.headers["ETag"] != etag


def test_head_has_headers_and_no_body(client):
    get = client.get(DOC, headers={"Accept": "text/turtle"})
    head = client.head(DOC, headers={"Accept": "text/turtle"})
    assert head.status_code == 200 and head.get_data() == b""
    assert head.headers["Content-Length"] == get.headers["Content-Length"]
    assert head.headers["ETag"] == get.headers["ETag"]


def test_gzip_when_allowed(client):
    plain = client.get(DOC, headers={"Accept": "text/turtle"})
    zipped = client.get(DOC, headers={"Accept": "text/turtle", "Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in zipped.headers["Vary"]
    assert "Accept-Encoding" in plain.headers["Vary"]
    assert gzip.decompress(zipped.get_data()) == plain.get_data()
    assert zipped.headers["ETag"] != plain.headers["ETag"]
    refused = client.get(DOC, headers={"Accept": "text/turtle", "Accept-Encoding": "gzip;q=0"})
    assert "Content-Encoding" not in refused.headers


def test_redirect_keeps_the_query_and_allows_cors(client):
    response = client.get("/id/agreement/kooperationsvertrag-2022?lang=en")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(DOC + "?lang=en")
    assert response.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("accept, mimetype", [
    ("text/turtle", "text/turtle"), ("text/html", "text/html"),
    ("application/json", "application/json"), ("application/ld+json", "application/ld+json"),
    ("application/rdf+xml", "application/rdf+xml"),
])
def test_404_is_negotiated(client, accept, mimetype):
    for path in ("/id/stadtteilzentrum/nowhere", "/doc/stadtteilzentrum/nowhere",
                 "/no/such/path"):
        response = client.get(path, headers={"Accept": accept})
        assert response.status_code == 404 and response.mimetype == mimetype, path
        if mimetype in ("text/turtle", "application/rdf+xml", "application/ld+json"):
            fmt = {"text/turtle": "turtle", "application/rdf+xml": "xml"}.get(mimetype, "json-ld")
            assert len(Graph().parse(data=response.get_data(), format=fmt)) == 0


def test_406_lists_the_offered_types(client):
    response = client.get(DOC, headers={"Accept": "image/png"})
    assert response.status_code == 406
    text = response.get_data(as_text=True)
    for media_type in ("text/turtle", "application/ld+json", "application/rdf+xml",
                       "application/n-triples", "text/html"):
        assert media_type in text


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_405_for_other_methods(client, method):
    for path in (DOC, "/id/agreement/kooperationsvertrag-2022", "/ontology"):
        response = client.open(path, method=method)
        assert response.status_code == 405, path
        assert "GET" in response.headers["Allow"]


@pytest.mark.parametrize("path", [
    "/doc/../../etc/passwd", "/id/..%2F..%2Fetc%2Fpasswd", "/doc/x%00y", "/id/x/%3Cscript%3E",
    "/id/stadtteilzentrum/stz-weissensee%22%20%3Fp%20%3Fo%20%7D", "/id/a b/c", "/id/",
    "/doc/", "/doc/no-such-kind/", "/id/stadtteilzentrum/stz-weissensee.ttl",
    "/ontology/Nope", "/doc/ontology/Nope", "/%ff%fe", "/id/x/" + "%C3%A4" * 20,
])
def test_odd_paths_are_clear_4xx(client, path):
    response = client.get(path, headers={"Accept": "text/html"})
    assert 400 <= response.status_code < 500, path
    assert b"Traceback" not in response.get_data()


def test_very_long_url_is_414(client):
    response = client.get("/id/" + "a" * 20000)
    assert response.status_code == 414


@pytest.mark.parametrize("accept", [
    "garbage", ";;;;", "*/*;q=abc", "text/turtle;q=2", "x" * 10000, "text/html;" * 500,
    "*/*;q=0",
])
def test_absurd_accept_headers_never_500(client, accept):
    response = client.get(DOC, headers={"Accept": accept})
    assert response.status_code in (200, 406), accept


def test_bad_host_header_is_400(client):
    response = client.get(DOC, headers={"Host": "evil\"><script>"})
    assert response.status_code == 400


def test_health(client, release):
    response = client.get("/health")
    data = response.get_json()
    assert response.status_code == 200 and data["build_id"] == release.build_id
    assert data["triples"] == release.info["triples"] or data["triples"] > 0


def test_health_is_503_without_a_graph(settings, release):
    import pyoxigraph as ox

    from publisher.store import EmbeddedStore
    from publisher.web import create_app

    app = create_app(settings, release=release, store=EmbeddedStore(ox.Store()))
    response = app.test_client().get("/health")
    assert response.status_code == 503 and response.get_json()["triples"] == 0


def test_issue8_url_limit_counts_the_decoded_url(client):
    """The 414 limit is on the URL as werkzeug decodes it; the cheap raw pre-check must
    neither let a long one through nor refuse one that only looks long when encoded."""
    encoded = "/search?q=" + "%C3%A4" * 1500  # 9,000 raw characters, 1,500 decoded
    assert client.get(encoded).status_code != 414
    assert client.get("/search?q=" + "%C3%A4" * 8200).status_code == 414
    assert client.get("/search?q=" + "a" * 8190).status_code == 414


@pytest.mark.live
@pytest.mark.parametrize("path", ["/no/such/page", "/doc/organisation/no-such-thing",
                                  "/graph/data/no-such-file"])
def test_issue15_a_german_404_page(live_server, path):
    """A German page used to carry werkzeug's English 404 text."""
    import httpx

    response = httpx.get(live_server.url + path,
                         headers={"Accept": "text/html", "Accept-Language": "de"})
    assert response.status_code == 404
    assert response.headers["content-language"] == "de"
    assert "Diese Adresse gibt es hier nicht." in response.text
    assert "requested URL was not found" not in response.text
    english = httpx.get(live_server.url + path + "?lang=en", headers={"Accept": "text/html"})
    assert "There is nothing at this address." in english.text
