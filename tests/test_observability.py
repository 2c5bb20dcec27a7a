"""Access log, /ready and /metrics: what operators see of the server."""

from __future__ import annotations

import hashlib
import json
import logging
import re
import shutil

import pytest

from publisher.releases import Release
from publisher.web.observability import query_hash

RUNAWAY = ("SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }")


def _sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text format (0 when absent)."""
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        found = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', line.split("}")[0]))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def _access_lines(caplog) -> list[dict]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "kiezgraph.access"]


def test_every_request_gets_one_structured_access_line(client, caplog):
    caplog.set_level(logging.INFO, logger="kiezgraph.access")
    client.get("/doc/organisation/bezirksamt-pankow", headers={"Accept": "text/turtle"})
    client.get("/no/such/thing?secret=1")
    lines = _access_lines(caplog)
    assert len(lines) == 2
    first, second = lines
    assert first["method"] == "GET" and first["status"] == 200
    assert first["path"] == "/doc/organisation/bezirksamt-pankow"
    assert first["route"] == "/doc/<path:rest>"
    assert first["ms"] >= 0
    assert second["status"] == 404 and second["route"] == "<unmatched>"
    assert "secret" not in json.dumps(second)  # the query string is never logged


def test_sparql_lines_carry_a_hash_of_the_query_never_its_text(client, caplog):
    caplog.set_level(logging.INFO, logger="kiezgraph.access")
    query = 'ASK { ?s ?p "Kennwort-im-Text" }'
    client.get("/sparql", query_string={"query": query},
               headers={"Accept": "application/sparql-results+json"})
    client.post("/sparql", data=query.encode(), content_type="application/sparql-query",
                headers={"Accept": "application/sparql-results+json"})
    lines = _access_lines(caplog)
    assert len(lines) == 2
    expected = hashlib.sha256(query.encode()).hexdigest()[:16]
    assert expected == query_hash(query)
    assert [line["query_hash"] for line in lines] == [expected, expected]
    assert "Kennwort" not in caplog.text


def test_issue24_replayed_sparql_answers_carry_the_query_hash_too(client, caplog):
    """An answer sent again from memory (before Flask) is logged with its query's hash,
    like the first."""
    caplog.set_level(logging.INFO, logger="kiezgraph.access")
    query = 'ASK { ?s ?p "noch-einmal" }'
    for _ in range(3):
        response = client.get("/sparql", query_string={"query": query},
                              headers={"Accept": "application/sparql-results+json"})
        assert response.status_code == 200
    lines = [line for line in _access_lines(caplog) if line["path"] == "/sparql"]
    assert len(lines) == 3
    assert {line.get("query_hash") for line in lines} == {query_hash(query)}


def test_metrics_count_requests_by_route_not_by_path(client):
    before = client.get("/metrics").get_data(as_text=True)
    for slug in ("bezirksamt-pankow", "senias"):
        client.get(f"/doc/organisation/{slug}", headers={"Accept": "text/turtle"})
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    text = response.get_data(as_text=True)
    name = "kiezgraph_http_requests_total"
    labels = {"method": "GET", "route": "/doc/<path:rest>", "status": "200"}
    assert _sample(text, name, **labels) - _sample(before, name, **labels) == 2
    assert "bezirksamt-pankow" not in text  # raw paths would make one series per resource
    assert _sample(text, "kiezgraph_http_request_duration_seconds_count",
                   route="/doc/<path:rest>") >= 2


def test_metrics_count_render_cache_hits(client):
    url = "/doc/organisation/senias.ttl"
    client.get(url)
    before = client.get("/metrics").get_data(as_text=True)
    client.get(url)
    after = client.get("/metrics").get_data(as_text=True)
    name = "kiezgraph_render_cache_lookups_total"
    assert _sample(after, name, result="hit") - _sample(before, name, result="hit") == 1


@pytest.fixture(scope="module")
def quick_timeout_app(settings, release):
    """An app whose SPARQL queries may run for one second."""
    from publisher.web import create_app

    app = create_app(settings.replace(query_timeout=1.0), release=release)
    app.config["TESTING"] = True
    # Start the query workers now, so their start-up does not count against the limit.
    with app.test_client() as client:
        client.get("/sparql", query_string={"query": "ASK {}"},
                   headers={"Accept": "application/sparql-results+json"})
    yield app
    app.extensions["kiezgraph"].published.store.close()


def test_metrics_count_query_timeouts(quick_timeout_app):
    client = quick_timeout_app.test_client()
    before = client.get("/metrics").get_data(as_text=True)
    response = client.get("/sparql", query_string={"query": RUNAWAY},
                          headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    after = client.get("/metrics").get_data(as_text=True)
    name = "kiezgraph_sparql_query_timeouts_total"
    assert _sample(after, name) - _sample(before, name) == 1


def test_ready_when_a_valid_graph_is_loaded(client, release):
    response = client.get("/ready")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ready" and body["build_id"] == release.build_id
    assert body["triples"] >= release.info["triples"]
    assert body["problems"] == []
    assert response.headers["Cache-Control"] == "no-store"


def test_not_ready_without_a_valid_release(tmp_path, settings, release):
    from publisher.store import EmbeddedStore
    from publisher.web import create_app

    copy = tmp_path / "release"
    shutil.copytree(release.path, copy)
    (copy / "validation.txt").write_text("VIOLATIONS: 3\n", encoding="utf-8")
    broken = Release(copy, release.info)
    app = create_app(settings, release=broken, store=EmbeddedStore.from_release(release))
    response = app.test_client().get("/ready")
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    assert "validation" in response.get_json()["reason"]


def test_not_ready_with_an_empty_store(settings, release):
    import pyoxigraph as ox

    from publisher.store import EmbeddedStore
    from publisher.web import create_app

    app = create_app(settings, release=release, store=EmbeddedStore(ox.Store()))
    response = app.test_client().get("/ready")
    assert response.status_code == 503
    assert response.get_json()["status"] == "not ready"


def _series(text: str) -> int:
    """How many series /metrics shows (sample lines, comments left out)."""
    return sum(1 for line in text.splitlines() if line and not line.startswith("#"))


def test_issue14_metric_series_stay_bounded_under_random_methods_and_paths(app, client):
    """Each request has a new method name and path: the labels still come from fixed sets."""
    import random
    import string

    from werkzeug.test import EnvironBuilder

    client.get("/metrics")
    client.open("/no/such/page", method="BREW")  # one 'other' series exists before counting
    before = _series(client.get("/metrics").get_data(as_text=True))
    template = EnvironBuilder(path="/", base_url="http://localhost/").get_environ()
    rng = random.Random(14)
    for n in range(10_000):
        method = "".join(rng.choices(string.ascii_uppercase, k=rng.randint(3, 12)))
        environ = {**template, "REQUEST_METHOD": method,
                   "PATH_INFO": f"/no/such/{n}" if n % 2 else "/doc/organisation/x"}
        body = app.wsgi_app(environ, lambda status, headers, exc_info=None: None)
        b"".join(body)
    text = client.get("/metrics").get_data(as_text=True)
    assert _series(text) - before <= 20, _series(text) - before
    counted = sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                  if line.startswith("kiezgraph_http_requests_total{")
                  and 'method="other"' in line)
    assert counted >= 10_000  # every one counted, as "other"
