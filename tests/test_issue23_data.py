"""Data as sourced (issue 23, item 9): a membership's start only where a source states it,
the 2022 agreement as renewing those of 2018 and 2008, and the organigram links cited to the
stored copy of the organigram (facts.md, S43)."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph, URIRef

from publisher.project import Project
from publisher.sources import load_sources

BASE = "https://w3id.org/kiezgraph/pankow/"
ROOT = Path(__file__).resolve().parents[1]
S2 = "https://berliner-woche.de/bezirk-pankow/c-soziales/jetzt-ist-auch-der-senat-mit-im-boot_a348815"
S43 = ("https://github.com/berlin/lod-core-organigram/blob/"
       "7530810c46e291b83b16e37c47eecfdf6769c898/data/berlin_core_orgs.ttl")


@pytest.fixture(scope="module")
def graph() -> Graph:
    return load_sources(Project(ROOT), BASE).union()


def _rows(graph: Graph, query: str) -> list:
    return list(graph.query(query, initNs={
        "org": "http://www.w3.org/ns/org#", "time": "http://www.w3.org/2006/time#",
        "dcterms": "http://purl.org/dc/terms/", "prov": "http://www.w3.org/ns/prov#",
        "owl": "http://www.w3.org/2002/07/owl#"}))


def test_issue23_only_the_senate_department_begins_on_the_signing_day(graph):
    rows = _rows(graph, f"""SELECT ?m ?begin WHERE {{
        ?m org:organization <{BASE}id/collaboration/nachbarschaftsarbeit-pankow> ;
           org:memberDuring/time:hasBeginning/time:inXSDDate ?begin }}""")
    assert [(str(m).rsplit("/", 1)[-1], str(b)) for m, b in rows] == [
        ("nachbarschaftsarbeit-pankow-senias", "2022-05-05")]
    senias = URIRef(BASE + "id/membership/nachbarschaftsarbeit-pankow-senias")
    assert URIRef(S2) in set(graph.objects(senias, URIRef("http://purl.org/dc/terms/source")))


def test_issue23_every_other_partner_is_known_a_member_on_the_signing_day(graph):
    rows = _rows(graph, f"""SELECT (COUNT(?m) AS ?n) WHERE {{
        ?m org:organization <{BASE}id/collaboration/nachbarschaftsarbeit-pankow> ;
           org:memberDuring/time:inside/time:inXSDDate ?day
        FILTER(STR(?day) = "2022-05-05") }}""")
    assert int(rows[0][0]) == 13


def test_issue23_the_2022_agreement_renews_2018_which_renews_2008(graph):
    rows = _rows(graph, """SELECT ?a ?b WHERE { ?a prov:wasRevisionOf ?b }""")
    chain = {str(a).rsplit("/", 1)[-1]: str(b).rsplit("/", 1)[-1] for a, b in rows}
    assert chain == {"kooperationsvertrag-2022": "kooperationsvereinbarung-2018",
                     "kooperationsvereinbarung-2018": "kooperationsvereinbarung-2008"}


def test_issue23_organigram_links_cite_the_stored_organigram(graph):
    rows = _rows(graph, """SELECT ?s ?o WHERE { ?s owl:sameAs ?o
        FILTER(STRSTARTS(STR(?o), "https://berlin.github.io/lod-core-organigram/")) }""")
    assert len(rows) == 2
    for subject, _ in rows:
        assert URIRef(S43) in set(graph.objects(subject,
                                                URIRef("http://purl.org/dc/terms/source")))
