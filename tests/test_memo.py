"""Kept responses are sent again byte for byte as Flask would send them, and only while valid."""

from __future__ import annotations

import time

import pytest
from werkzeug.http import parse_date
from werkzeug.test import Client

from publisher.store import EmbeddedStore
from publisher.web import create_app
from publisher.web.memo import ResponseMemo
from publisher.web.state import Published
from tests.waiting import until

THINGS = ["stadtteilzentrum/stz-weissensee", "organisation/bezirksamt-pankow",
          "agreement/kooperationsvertrag-2022"]
ACCEPTS = [None, "*/*", "text/turtle", "application/ld+json", "application/rdf+xml",
           "application/n-triples",
           "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
           "text/turtle;q=1.0, application/rdf+xml;q=0.9, application/n-triples;q=0.8, "
           "*/*;q=0.1", "image/png"]


@pytest.fixture(scope="module")
def memo_app(settings, release):
    """An app of its own, so what is kept starts empty."""
    app = create_app(settings, release=release)
    assert isinstance(app.wsgi_app, ResponseMemo)
    return app


def _requests():
    for thing in THINGS:
        for accept in ACCEPTS:
            headers = {"Accept": accept} if accept else {}
            yield "GET", f"/doc/{thing}", headers
            yield "GET", f"/id/{thing}", headers
        for suffix in ("ttl", "jsonld", "rdf", "nt", "html"):
            yield "GET", f"/doc/{thing}.{suffix}", {}
            yield "HEAD", f"/doc/{thing}.{suffix}", {}
            yield "GET", f"/doc/{thing}.{suffix}", {"Accept-Encoding": "gzip"}
            yield "GET", f"/doc/{thing}.{suffix}?lang=en", {"Accept-Language": "en"}
    yield "GET", "/ontology", {"Accept": "text/turtle"}
    yield "GET", "/ontology.html", {"Accept-Language": "en"}
    yield "GET", "/id/organisation/nowhere", {}
    yield "GET", "/doc/organisation/nowhere.ttl", {}


def _answer(client: Client, method: str, path: str, headers: dict):
    """Status, headers and body; the Date header checked to be now, then left out."""
    response = client.open(path, method=method, headers=headers)
    date = response.headers.get("Date")
    if date is not None:
        # "now" to the second, with slack for a busy machine (a kept, stale Date is hours off)
        assert abs(parse_date(date).timestamp() - time.time()) < 30, (path, date)
    return (response.status, sorted(i for i in response.headers.items() if i[0] != "Date"),
            response.get_data())


def test_kept_answers_are_what_flask_sends(memo_app):
    memo = memo_app.wsgi_app
    through_memo, flask_only = Client(memo), Client(memo.wsgi_app)
    for method, path, headers in _requests():
        expected = _answer(flask_only, method, path, headers)
        assert _answer(through_memo, method, path, headers) == expected, (path, headers)
        # the second time it comes from memory
        assert _answer(through_memo, method, path, headers) == expected, (path, headers)
    assert len(memo.kept) > 100
    kept_paths = {key[2] for key in memo.kept.kept()}
    assert "/doc/organisation/nowhere.ttl" not in kept_paths  # misses are not kept


def test_conditional_requests_are_kept_per_validator(memo_app):
    client = Client(memo_app.wsgi_app)
    first = client.get("/doc/organisation/bezirksamt-pankow.nt")
    etag = first.headers["ETag"]
    for _ in range(2):
        again = client.get("/doc/organisation/bezirksamt-pankow.nt",
                           headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.headers["ETag"] == etag
        assert again.get_data() == b""
    other = client.get("/doc/organisation/bezirksamt-pankow.nt", headers={"If-None-Match": '"x"'})
    assert other.status_code == 200 and other.get_data() == first.get_data()


def test_a_new_build_is_never_answered_from_an_old_one(memo_app, release):
    client = Client(memo_app.wsgi_app)
    state = memo_app.extensions["kiezgraph"]
    old = state.published
    before = client.get("/doc/organisation/bezirksamt-pankow.ttl")
    # the same triples under another build id: what a reload or `kiezgraph load` looks like
    state.swap(Published(release=release, store=EmbeddedStore(old.store.ox, "next-build")))
    try:
        after = client.get("/doc/organisation/bezirksamt-pankow.ttl")
        assert after.headers["ETag"] != before.headers["ETag"]
        assert after.get_data() == before.get_data()
    finally:
        state.swap(old)
    again = client.get("/doc/organisation/bezirksamt-pankow.ttl")
    assert again.headers["ETag"] == before.headers["ETag"]


def test_kept_answers_are_counted_and_logged(memo_app, caplog):
    from publisher.web.observability import registry

    client = Client(memo_app.wsgi_app)
    path = "/doc/stadtteilzentrum/stz-weissensee.jsonld"
    client.get(path)

    def served() -> float:
        value = registry(memo_app).get_sample_value(
            "kiezgraph_http_requests_total",
            {"method": "GET", "route": "/doc/<path:rest>", "status": "200"})
        return value or 0.0

    before = served()
    with caplog.at_level("INFO", logger="kiezgraph.access"):
        for _ in range(3):
            assert client.get(path).status_code == 200
    assert served() - before == 3
    lines = [r.getMessage() for r in caplog.records if r.name == "kiezgraph.access"]
    assert len(lines) == 3 and all('"route": "/doc/<path:rest>"' in line for line in lines)


def test_requests_with_a_body_or_huge_headers_go_through_flask(memo_app):
    memo = memo_app.wsgi_app
    assert memo.key({"REQUEST_METHOD": "POST", "PATH_INFO": "/doc/x"}) is None
    assert memo.key({"REQUEST_METHOD": "GET", "PATH_INFO": "/doc/x",
                     "CONTENT_LENGTH": "5"}) is None
    assert memo.key({"REQUEST_METHOD": "GET", "PATH_INFO": "/sparql"}) is None
    many = {f"HTTP_X_{i}": "v" for i in range(120)}
    assert memo.key({"REQUEST_METHOD": "GET", "PATH_INFO": "/doc/x", **many}) is None
    response = Client(memo).get("/doc/organisation/bezirksamt-pankow.ttl",
                                headers={f"X-{i}": "v" for i in range(120)})
    assert response.status_code == 431


def test_a_kept_answer_is_dated_when_it_is_sent(memo_app):
    client = Client(memo_app.wsgi_app)
    path = "/doc/organisation/bezirksamt-pankow.nt"
    client.get(path)
    first = int(time.time())
    until(lambda: int(time.time()) > first, 5, "the next second")
    again = client.get(path)
    assert parse_date(again.headers["Date"]).timestamp() >= first + 1


def test_issue8_a_kept_response_holds_the_bytes_of_its_document_counted_once(memo_app):
    from publisher.web.cache import Rendered, budget, render_cache

    client = Client(memo_app.wsgi_app)
    path = "/doc/organisation/bezirksamt-pankow"
    for headers in ({}, {"Accept-Encoding": "gzip"}, {"Accept": "text/turtle"}):
        for _ in range(2):
            assert client.get(path + ".ttl", headers=headers).status_code == 200
    kept = budget(memo_app)
    bodies = {id(b): b for held in kept for b in held.value.blobs}
    rendered = [held.value for held in kept
                if held.shelf == render_cache(memo_app).name and held.key[1] == path[1:]]
    assert rendered and all(isinstance(r, Rendered) for r in rendered)
    memos = [held.value for held in kept
             if held.shelf == memo_app.wsgi_app.kept.name and held.key[2].startswith(path)
             and held.value.status.startswith("200") and held.key[1] == "GET"]
    assert len(memos) >= 3
    # each kept response's body is the document's own bytes object (plain or gzip) ...
    own = {id(b) for r in rendered for b in r.blobs}
    assert all(id(m.body) in own for m in memos)
    # ... and the budget counts each bytes object once, however many entries hold it
    costs = sum(held.cost for held in kept)
    assert kept.size == costs + sum(len(b) for b in bodies.values())


def test_issue8_a_large_kept_body_is_sent_in_slices(memo_app):
    from urllib.parse import urlencode

    from werkzeug.test import EnvironBuilder

    from publisher.web.memo import CHUNK

    # every triple twice, so the answer stays well above one slice whatever the host
    query = "CONSTRUCT { ?s ?p ?o . ?s <urn:x:again> ?o } WHERE { ?s ?p ?o }"
    url = "/sparql?" + urlencode({"query": query})
    headers = {"Accept": "application/n-triples"}
    flask_only = Client(memo_app).get(url, headers=headers)
    assert flask_only.status_code == 200 and len(flask_only.get_data()) > CHUNK
    answers = []
    for _ in range(3):  # through Flask and kept, then twice from memory
        environ = EnvironBuilder(url, headers=headers).get_environ()
        sent: list[str] = []

        def start(status, _headers, _exc=None, sent=sent):
            sent.append(status)

        body = memo_app.wsgi_app(environ, start)
        assert not isinstance(body, list)  # handed over piece by piece
        pieces = list(body)
        assert all(len(p) <= CHUNK for p in pieces) and len(pieces) >= 2
        answers.append((sent[0], b"".join(pieces)))
    assert answers == [("200 OK", flask_only.get_data())] * 3


def test_issue24_the_front_gets_a_large_kept_body_whole_not_sliced(memo_app):
    """Asked by the front (REPLAY_ONLY), a kept answer is the one kept bytes object: the
    front frames it; copied slices would cost each slow reader of it a copy."""
    from urllib.parse import urlencode

    from werkzeug.test import EnvironBuilder

    from publisher.web.memo import CHUNK, MISS, REPLAY_ONLY

    query = "CONSTRUCT { ?s ?p ?o . ?s <urn:x:twice> ?o } WHERE { ?s ?p ?o }"
    url = "/sparql?" + urlencode({"query": query})
    headers = {"Accept": "application/n-triples"}

    def replay():
        environ = EnvironBuilder(url, headers=headers).get_environ()
        environ[REPLAY_ONLY] = True
        return memo_app.wsgi_app(environ, lambda *_args: None)

    assert replay() is MISS  # not kept yet: the front would hand it to a thread
    kept = Client(memo_app).get(url, headers=headers).get_data()
    assert len(kept) > CHUNK
    first, second = replay(), replay()
    assert first == [kept] and first[0] is second[0]  # the same object, never a copy


def test_issue8_repeated_requests_are_hits_and_counted(memo_app):
    from urllib.parse import urlencode

    from publisher import metrics
    from publisher.web.cache import render_cache

    client = Client(memo_app.wsgi_app)
    cache = render_cache(memo_app)
    before = cache.hits
    for _ in range(3):
        client.get("/doc/organisation/bezirksamt-pankow.rdf")
    assert cache.hits - before >= 2  # a render-cache hit, then kept responses

    def sparql_hits() -> float:
        return metrics.REGISTRY.get_sample_value("kiezgraph_sparql_cache_lookups_total",
                                                 {"result": "hit"}) or 0.0

    url = "/sparql?" + urlencode({"query": "SELECT ?s WHERE { ?s a ?t } LIMIT 3"})
    headers = {"Accept": "application/sparql-results+json"}
    client.get(url, headers=headers)
    hits = sparql_hits()
    for _ in range(3):
        assert client.get(url, headers=headers).status_code == 200
    assert sparql_hits() - hits == 3
