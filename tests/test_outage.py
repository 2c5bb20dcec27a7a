"""Serving from Virtuoso while it goes away and comes back, and while `kiezgraph load` switches.

A real server over a RemoteStore: Virtuoso is stopped under it (503 with Retry-After in the
negotiated format, /health says why), started again (answers resume without a restart), and
a new release is loaded under it (the build id and the home page's ETag follow the store).
"""

from __future__ import annotations

import httpx
import pytest

from publisher.build import build
from publisher.cli import main
from publisher.config import load_settings
from publisher.load import Writer, load_release
from publisher.store.remote import RemoteStore
from publisher.web import create_app
from tests.conftest import LiveServer
from tests.virtuoso_server import free_port

pytestmark = [pytest.mark.virtuoso, pytest.mark.live]

DOC = "/doc/stadtteilzentrum/stz-weissensee"


def test_store_outage_is_503_then_recovers_without_a_restart(settings, release,
                                                             loaded_virtuoso):
    app = create_app(settings.replace(store=loaded_virtuoso.sparql), release=release)
    with LiveServer(app) as server:
        assert httpx.get(server.url + "/health").status_code == 200
        loaded_virtuoso.stop()
        try:
            health = httpx.get(server.url + "/health")
            assert health.status_code == 503 and health.headers["retry-after"]
            body = health.json()
            assert body["status"] == "unavailable" and body["store"] == "remote"
            # why, in general words: the store's address is for the operator (#26)
            assert "does not answer" in body["error"]
            assert str(loaded_virtuoso.http_port) not in health.text
            # a document not rendered before, in each negotiated error format
            for accept, marker in [("text/html", "<html"), ("application/json", '"status"'),
                                   ("application/n-triples", "# 503")]:
                page = httpx.get(server.url + DOC, headers={"Accept": accept})
                assert page.status_code == 503, accept
                assert page.headers["content-type"].startswith(accept)
                assert int(page.headers["retry-after"]) > 0
                assert marker in page.text and "try again later" in page.text
                assert loaded_virtuoso.sparql not in page.text  # the store's URL stays inside
                assert "Traceback" not in page.text
            sparql = httpx.get(server.url + "/sparql", params={"query": "ASK {}",
                                                                "format": "json"})
            assert sparql.status_code == 503 and sparql.headers["retry-after"]
        finally:
            loaded_virtuoso.start()
        assert httpx.get(server.url + "/health").status_code == 200
        page = httpx.get(server.url + DOC, headers={"Accept": "text/turtle"})
        assert page.status_code == 200 and "stz-weissensee" in page.text
        sparql = httpx.get(server.url + "/sparql", params={"query": "ASK { ?s ?p ?o }",
                                                            "format": "json"})
        assert sparql.json()["boolean"] is True


@pytest.mark.slow
def test_build_id_and_etags_follow_the_stores_release(project, tmp_path,
                                                      virtuoso):
    base = "https://example.org/switching/"
    settings = load_settings(env={}, overrides={"out": str(tmp_path), "base_uri": base,
                                                "store": virtuoso.sparql})
    writer = Writer(update_endpoint=virtuoso.sparql_auth, user=virtuoso.user,
                    password=virtuoso.password)
    first = build(project, settings, tmp_path).release
    load_release(first, RemoteStore(virtuoso.sparql, base), writer)
    app = create_app(settings, release=first)
    store = app.extensions["kiezgraph"].published.store
    client = app.test_client()
    assert client.get("/health").get_json()["build_id"] == first.build_id
    home = client.get("/", headers={"Accept": "text/html"})
    second = build(project, settings, tmp_path / "next").release
    load_release(second, RemoteStore(virtuoso.sparql, base), writer)
    store.current(fresh=True)  # what the next refresh (every few seconds) finds
    assert client.get("/health").get_json()["build_id"] == second.build_id != first.build_id
    again = client.get("/", headers={"Accept": "text/html", "If-None-Match": home.headers["ETag"]})
    assert again.status_code == 200 and again.headers["ETag"] != home.headers["ETag"]
    assert second.build_id in again.get_data(as_text=True)


def test_serve_with_an_unreachable_store_exits_clearly(runner, build_dir):
    url = f"http://127.0.0.1:{free_port()}/sparql"
    result = runner.invoke(main, ["serve", "--out", str(build_dir), "--store", url])
    assert result.exit_code == 2
    assert "cannot reach the store" in result.output and "Traceback" not in result.output
