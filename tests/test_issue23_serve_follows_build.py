"""Issue 23, item 1: `kiezgraph serve` shows a new build without a restart and without a signal.

The maintainers' loop as the README walks it: a server runs, a maintainer adds an event and
runs `kiezgraph build`; within 10 s the event is on its page, on /events, on /changes (linked)
and in SPARQL, under each server. /changes never lists a build the server does not serve yet.
"""

from __future__ import annotations

import subprocess
import sys
import time

import httpx
import pytest

from publisher.reload import current_build_id
from publisher.web.server import SERVERS
from tests.conftest import ROOT
from tests.test_reload import out  # noqa: F401 - the fixture
from tests.test_server import _serve, _stop
from tests.waiting import until

NEW_EVENT = """
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix schema: <http://schema.org/> .
<id/event/issue23-hoffest> a schema:Event ;
    rdfs:label "Hoffest Issue 23"@de , "Courtyard party issue 23"@en ;
    schema:name "Hoffest Issue 23"@de , "Courtyard party issue 23"@en ;
    schema:startDate "2031-05-17"^^xsd:date ;
    dcterms:source <https://www.berlin.de/ba-pankow/> .
"""
ASK = 'ASK { ?e <http://schema.org/name> "Hoffest Issue 23"@de }'
WITHIN = 10.0  # seconds from the end of the build, as issue 23 asks


def _shown(url: str) -> dict[str, bool]:
    """Where the new event can be seen on the running server."""
    page = httpx.get(f"{url}/doc/event/issue23-hoffest.html", timeout=5)
    events = httpx.get(f"{url}/events", timeout=5).text
    changes = httpx.get(f"{url}/changes", timeout=5).text
    ask = httpx.get(f"{url}/sparql", params={"query": ASK}, timeout=5,
                    headers={"Accept": "application/sparql-results+json"})
    return {"page": page.status_code == 200, "events": "Hoffest Issue 23" in events,
            "changes": "issue23-hoffest" in changes,
            "sparql": ask.status_code == 200 and ask.json()["boolean"] is True}


@pytest.mark.slow
@pytest.mark.live
@pytest.mark.parametrize("server", SERVERS)
def test_issue23_a_build_shows_up_without_restart_or_signal(server, out, workdir):  # noqa: F811
    proc, url = _serve(server, out)
    try:
        before = current_build_id(out)
        assert not any(_shown(url).values())
        (workdir / "data" / "zz-issue23.ttl").write_text(NEW_EVENT, encoding="utf-8")
        subprocess.run([sys.executable, "-m", "publisher", "build", "--root", str(workdir),
                        "--out", str(out)], cwd=ROOT, check=True, capture_output=True)
        built = time.monotonic()
        assert current_build_id(out) != before
        seen: dict[str, bool] = {}

        def everywhere() -> bool:
            seen.clear()
            seen.update(_shown(url))
            return bool(seen) and all(seen.values())

        until(everywhere, WITHIN - (time.monotonic() - built),
              lambda: f"the new build to be served everywhere within {WITHIN} s: {seen}",
              interval=0.2)
        assert proc.poll() is None
    finally:
        _stop(proc)


@pytest.mark.slow
def test_issue23_changes_lists_no_build_that_is_not_served(out, workdir):  # noqa: F811
    """With watching off, a new build is not served; /changes neither lists nor links it."""
    from publisher.config import load_settings
    from publisher.web import create_app

    app = create_app(load_settings(env={}, overrides={"out": str(out),
                                                      "reload_on_change": False}))
    (workdir / "data" / "zz-issue23.ttl").write_text(NEW_EVENT, encoding="utf-8")
    subprocess.run([sys.executable, "-m", "publisher", "build", "--root", str(workdir),
                    "--out", str(out)], cwd=ROOT, check=True, capture_output=True)
    client = app.test_client()
    html = client.get("/changes").get_data(as_text=True)
    assert "issue23-hoffest" not in html and "Hoffest Issue 23" not in html
    assert client.get("/doc/event/issue23-hoffest.html").status_code == 404
    app.extensions["kiezgraph"].published.store.close()
