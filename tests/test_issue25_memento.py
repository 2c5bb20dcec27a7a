"""Cite and reproduce (issue 25): every release by date (Memento), past releases in SPARQL,
citations, the catalogue as a dataset series, over three builds of changed data."""

from __future__ import annotations

import datetime as dt
import json
import tomllib

import bibtexparser
import pyoxigraph as ox
import pytest
import yaml
from rdflib import Graph, URIRef
from werkzeug.http import http_date

from publisher.build import build
from publisher.config import load_settings
from publisher.metadata.catalog import DATASET_SERIES, IN_SERIES, PREVIOUS_VERSION
from publisher.namespaces import ADMS, MEMENTO, RDF
from publisher.project import Project
from publisher.releases import list_releases
from tests.conftest import ROOT, LiveServer
from tests.test_changes import EVENTS_TTL

pytestmark = pytest.mark.slow  # three builds in the module's fixture

EVENT = "id/event/kiezfest-"
QUERY = ("SELECT ?e WHERE { ?e a <http://schema.org/Event> . "
         "FILTER(STRSTARTS(STR(?e), 'https://w3id.org/kiezgraph/pankow/id/event/kiezfest')) } "
         "ORDER BY ?e")


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    """Three releases: the shipped data; two events added; one of them removed again."""
    root = tmp_path_factory.mktemp("issue25")
    work = root / "work"
    for part in ("ontology", "data", "shapes"):
        import shutil

        shutil.copytree(ROOT / part, work / part)
    out = root / "out"
    settings = load_settings(env={}, overrides={"out": str(out), "rewrite_base": False})
    events = work / "data" / "zz-events.ttl"
    build(Project(work), settings, out)
    events.write_text(EVENTS_TTL, encoding="utf-8")
    build(Project(work), settings, out)
    events.write_text(EVENTS_TTL.split("<id/event/kiezfest-b>")[0], encoding="utf-8")
    build(Project(work), settings, out)
    releases = list_releases(out)
    assert len(releases) == 3
    assert len({r.published_at for r in releases}) == 3  # a second apart at least
    return settings, releases


@pytest.fixture(scope="module")
def app(history):
    from publisher.web import create_app

    settings, releases = history
    app = create_app(settings, release=releases[-1])
    app.config["TESTING"] = True
    return app


@pytest.fixture()
def client(app):
    return app.test_client()


def _things(release) -> set[str]:
    """The base-relative paths of the things a release's graph describes."""
    base = release.info["base_uri"]
    found = set()
    for quad in ox.parse(path=str(release.graph_file), format=ox.RdfFormat.N_QUADS):
        subject = quad.subject
        if isinstance(subject, ox.NamedNode) and subject.value.startswith(base + "id/"):
            found.add(subject.value[len(base):])
    return found


def test_issue25_every_thing_at_three_datetimes_gets_the_right_memento(history, client):
    _settings, releases = history
    held = {r.version: _things(r) for r in releases}
    everything = set().union(*held.values())
    assert f"{EVENT}b" in everything - held[releases[-1].version]  # the removed one
    for path in sorted(everything):
        doc = "doc/" + path[len("id/"):]
        having = [r for r in releases if path in held[r.version]]
        for asked in releases:
            when = asked.published_at
            expected = [r for r in having if r.published_at <= when] or having[:1]
            answer = client.get("/" + path, headers={"Accept-Datetime": http_date(when)})
            assert answer.status_code == 302, (path, answer.status_code)
            assert "accept-datetime" in answer.headers["Vary"].lower()
            assert answer.headers["Location"] == \
                f"http://localhost/release/{expected[-1].version}/{doc}", (path, asked.version)


def test_issue25_a_memento_carries_its_datetime_and_links(history, client):
    _settings, releases = history
    middle = releases[1]
    answer = client.get(f"/release/{middle.version}/doc/event/kiezfest-a",
                        headers={"Accept": "text/turtle"})
    assert answer.status_code == 200
    assert answer.headers["Memento-Datetime"] == http_date(middle.published_at)
    rels = _rels(answer.headers["Link"])
    here = f"http://localhost/release/{middle.version}/doc/event/kiezfest-a"
    last = f"http://localhost/release/{releases[2].version}/doc/event/kiezfest-a"
    assert rels["http://localhost/doc/event/kiezfest-a"] >= {"original", "timegate"}
    assert "timemap" in rels["http://localhost/timemap/doc/event/kiezfest-a"]
    assert rels[here] >= {"first", "memento", "cite-as"}
    assert rels[last] == {"last", "next", "memento"}
    newest = client.get(last.removeprefix("http://localhost"), headers={"Accept": "text/turtle"})
    assert _rels(newest.headers["Link"])[here] == {"first", "prev", "memento"}
    graph = Graph().parse(data=answer.get_data(as_text=True), format="turtle")
    assert (URIRef("https://w3id.org/kiezgraph/pankow/id/event/kiezfest-a"), None, None) in graph
    # the first release did not know the event; an unknown release is a clear 404
    assert client.get(f"/release/{releases[0].version}/doc/event/kiezfest-a").status_code == 404
    unknown = client.get("/release/19990101-deadbeef/doc/event/kiezfest-a",
                         headers={"Accept": "text/plain"})
    assert unknown.status_code == 404
    assert "gibt es hier nicht" in unknown.get_data(as_text=True)
    assert "There is no release" in unknown.get_data(as_text=True)


def _rels(header: str) -> dict[str, set[str]]:
    """The rel tokens of a Link header, by target."""
    found: dict[str, set[str]] = {}
    for part in header.split(", <"):
        target, _, params = part.lstrip("<").partition(">")
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "rel":
                found.setdefault(target, set()).update(value.strip('"').split())
    return found


def test_issue25_the_removed_thing_answers_410_with_its_timemap(history, client):
    _settings, releases = history
    for path in ("/id/event/kiezfest-b", "/doc/event/kiezfest-b"):
        gone = client.get(path, headers={"Accept": "text/html"})
        assert gone.status_code == 410, path
        assert '/timemap/doc/event/kiezfest-b>; rel="timemap"' in gone.headers["Link"]
    timemap = client.get("/timemap/doc/event/kiezfest-b")
    assert timemap.status_code == 200
    assert timemap.mimetype == "application/link-format"
    body = timemap.get_data(as_text=True)
    assert f"/release/{releases[1].version}/doc/event/kiezfest-b>" in body
    assert 'rel="original"' in body and 'rel="self"' in body
    assert releases[0].version not in body and releases[2].version not in body
    assert f'datetime="{http_date(releases[1].published_at)}"' in body


def test_issue25_timemap_as_rdf_lists_every_release_with_its_date(history, client):
    _settings, releases = history
    answer = client.get("/timemap/doc/event/kiezfest-a", headers={"Accept": "text/turtle"})
    assert answer.status_code == 200
    graph = Graph().parse(data=answer.get_data(as_text=True), format="turtle")
    mementos = set(graph.subjects(RDF.type, MEMENTO.Memento))
    assert {str(m).split("/")[4] for m in mementos} == {r.version for r in releases[1:]}
    for memento in mementos:
        assert graph.value(memento, MEMENTO.mementoDatetime) is not None


def test_issue25_bad_accept_datetime_is_a_bilingual_400(client):
    answer = client.get("/doc/event/kiezfest-a", headers={"Accept-Datetime": "gestern",
                                                          "Accept": "text/plain"})
    assert answer.status_code == 400
    text = answer.get_data(as_text=True)
    assert "kein HTTP-Datum" in text and "not an HTTP date" in text


def test_issue25_documents_cite_their_versioned_iri(history, client):
    _settings, releases = history
    answer = client.get("/doc/event/kiezfest-a", headers={"Accept": "text/turtle"})
    assert answer.status_code == 200
    assert f'<http://localhost/release/{releases[-1].version}/doc/event/kiezfest-a>; ' \
           'rel="cite-as"' in answer.headers["Link"]
    assert "accept-datetime" in answer.headers["Vary"].lower()
    page = client.get("/doc/event/kiezfest-a", headers={"Accept": "text/html"})
    assert page.headers["Link"].count('rel="cite-as"') == 1
    html = page.get_data(as_text=True)
    assert "Zitieren" in html and f"/release/{releases[-1].version}/doc/event/kiezfest-a" in html
    dataset = client.get("/catalog", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "Zitieren" in dataset and "doc/dataset/kiezgraph-pankow" in dataset


def test_issue25_citations_parse_as_bibtex_and_csl_json(history, client):
    _settings, releases = history
    where = f"release/{releases[1].version}/doc/event/kiezfest-b"
    bib = client.get(f"/cite/bibtex/{where}")
    assert bib.status_code == 200
    library = bibtexparser.parse_string(bib.get_data(as_text=True))
    assert not library.failed_blocks
    fields = library.entries[0].fields_dict
    assert fields["url"].value == f"http://localhost/{where}"
    assert fields["title"].value == "Kiezfest B"
    assert fields["version"].value == releases[1].version
    csl = json.loads(client.get(f"/cite/csl/{where}").get_data(as_text=True))
    assert isinstance(csl, list) and csl[0]["type"] == "dataset"
    assert csl[0]["URL"] == f"http://localhost/{where}"
    assert csl[0]["issued"]["date-parts"][0][0] == releases[1].published_at.year
    ris = client.get(f"/cite/ris/{where}").get_data(as_text=True)
    assert ris.startswith("TY  - DATA") and f"UR  - http://localhost/{where}" in ris


def test_issue25_a_memento_page_by_suffix_links_citations_that_exist(history, client):
    """Found by the acceptance crawl: /release/V/doc/….html linked /cite/…/….html (404)."""
    import re

    _settings, releases = history
    where = f"release/{releases[1].version}/doc/event/kiezfest-b"
    for page in (f"/{where}.html", f"/{where}"):
        html = client.get(page, headers={"Accept": "text/html"}).get_data(as_text=True)
        links = re.findall(r'href="(?:\.\./)*(cite/[^"]+)"', html)
        assert len(links) == 3, (page, links)
        for link in links:
            assert link.endswith(where), link
            assert client.get("/" + link).status_code == 200, link


def _events(body: bytes) -> list[str]:
    return [b["e"]["value"].rsplit("/", 1)[-1] for b in json.loads(body)["results"]["bindings"]]


def test_issue25_a_query_on_the_first_release_answers_as_it_did_then(history, client):
    _settings, releases = history
    json_type = "application/sparql-results+json"
    for release, expected in zip(releases, ([], ["kiezfest-a", "kiezfest-b"], ["kiezfest-a"]),
                                 strict=True):
        answer = client.get("/sparql", query_string={"query": QUERY, "release": release.version},
                            headers={"Accept": json_type})
        assert answer.status_code == 200
        assert answer.headers["X-Release"] == release.version
        assert _events(answer.data) == expected
        # ... as the release's own graph answers, read straight from its file
        store = ox.Store()
        store.bulk_load(path=str(release.graph_file), format=ox.RdfFormat.N_QUADS)
        direct = store.query(QUERY, use_default_graph_as_union=True)
        assert [s["e"].value.rsplit("/", 1)[-1] for s in direct] == expected
    current = client.get("/sparql", query_string={"query": QUERY}, headers={"Accept": json_type})
    assert current.headers["X-Release"] == releases[-1].version
    unknown = client.get("/sparql", query_string={"query": QUERY, "release": "nope"},
                         headers={"Accept": json_type})
    assert unknown.status_code == 404
    description = client.get("/sparql", query_string={"release": releases[0].version},
                             headers={"Accept": "text/turtle"})
    assert description.headers["X-Release"] == releases[0].version
    assert releases[0].version in description.get_data(as_text=True)
    page = client.get("/sparql", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert 'name="release"' in page and releases[0].version in page


def test_issue25_past_releases_stay_bounded(history, app, client):
    from publisher.web.memento import past_stores

    _settings, releases = history
    for release in releases[:2] * 3:
        client.get(f"/release/{release.version}/doc/event/kiezfest-a")
    assert len(past_stores(app).held()) <= app.extensions["kiezgraph"].settings.past_releases_open


def test_issue25_a_query_survives_its_past_release_being_pushed_out(history):
    """A request leases the past stores it reads: one pushed out of the LRU by another
    request meanwhile is closed when the query is done, not under it."""
    from publisher.web import create_app
    from publisher.web.memento import past_stores

    settings, releases = history
    app = create_app(settings.replace(past_releases_open=1), release=releases[-1])
    pool = past_stores(app)
    first, middle = releases[0], releases[1]
    store = pool.acquire(first)  # as a /sparql?release=<first> request running holds it
    client = app.test_client()
    assert client.get(f"/release/{middle.version}/doc/event/kiezfest-a").status_code == 200
    assert pool.held() == [middle.build_id]  # first was pushed out ...
    answer = store.run_query(QUERY, "application/sparql-results+json", timeout=30,
                             max_results=100)
    assert _events(answer.body) == []  # ... yet its query answers, from the first release
    assert store.pool is not None
    pool.release(store)
    assert store.pool is None  # the last user is done: closed, its worker stopped
    json_type = "application/sparql-results+json"
    answer = client.get("/sparql", query_string={"query": QUERY, "release": first.version},
                        headers={"Accept": json_type})
    assert _events(answer.data) == [] and answer.headers["X-Release"] == first.version
    assert pool.in_use() == 0  # every request gave its leases back when it ended


def test_issue25_catalogue_is_a_dataset_series(history, client):
    _settings, releases = history
    answer = client.get("/catalog", headers={"Accept": "text/turtle"})
    graph = Graph().parse(data=answer.get_data(as_text=True), format="turtle")
    series = set(graph.subjects(RDF.type, DATASET_SERIES))
    assert len(series) == 1
    members = set(graph.subjects(IN_SERIES, next(iter(series))))
    assert len(members) == 3
    dataset = URIRef("https://w3id.org/kiezgraph/pankow/id/dataset/kiezgraph-pankow")
    previous = graph.value(dataset, PREVIOUS_VERSION)
    assert str(previous).endswith(releases[1].version)
    assert "Kiezfest B" in str(graph.value(dataset, ADMS.versionNotes))
    from tests.test_dcat_check import CONFORMANCE

    if not (CONFORMANCE / "dcat-ap-de").is_dir():
        pytest.skip(f"no DCAT-AP.de shapes at {CONFORMANCE}")
    from publisher.metadata.dcat_check import (
        PROFILES,
        check_catalog,
        load_profile,
        load_vocabularies,
    )

    vocabularies = load_vocabularies(CONFORMANCE)
    for profile in PROFILES:
        check = check_catalog(graph, load_profile(CONFORMANCE, profile), vocabularies, profile)
        assert check.conforms, check.as_text()


def test_issue25_citation_cff_names_the_software_version():
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert cff["version"] == project["version"]
    assert cff["authors"] == [{"name": "The kiezgraph contributors"}]


@pytest.mark.live
def test_issue25_an_independent_memento_client_finds_the_mementos(history, app):
    from memento_client import MementoClient

    _settings, releases = history
    with LiveServer(app) as server:
        # Our documents are their own TimeGates (RFC 7089 pattern 2.1). memento-client finds
        # only a separate TimeGate by itself (pattern 2.2/2.3), so it is told the document is
        # one: the TimeGate prefix is empty and it asks the document directly.
        client = MementoClient(timegate_uri="", check_native_timegate=False)
        original = f"{server.url}/doc/event/kiezfest-a"
        middle = releases[1].published_at.replace(tzinfo=None)
        info = client.get_memento_info(original, middle)
        mementos = info["mementos"]
        assert mementos["closest"]["uri"] == \
            [f"{server.url}/release/{releases[1].version}/doc/event/kiezfest-a"]
        assert mementos["closest"]["datetime"] == middle
        assert mementos["last"]["uri"] == \
            [f"{server.url}/release/{releases[2].version}/doc/event/kiezfest-a"]
        gone = client.get_memento_info(f"{server.url}/id/event/kiezfest-b",
                                       middle + dt.timedelta(days=365))
        assert gone["mementos"]["closest"]["uri"] == \
            [f"{server.url}/release/{releases[1].version}/doc/event/kiezfest-b"]
