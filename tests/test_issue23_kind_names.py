"""One name per kind, every list in the page's language (issue 23, item 7): what the pages
call a kind of thing is data (publisher/vocabularies/pages/kinds.ttl), the name of the kind's
class, the same on /search, the kind lists, the breadcrumbs, the home page and /changes."""

from __future__ import annotations

import re

from rdflib import Graph, Literal, URIRef

from publisher import labels
from publisher.namespaces import DCTERMS, RDFS, SKOS
from tests.conftest import BASE, ROOT


def _kinds_graph() -> Graph:
    return Graph().parse(labels.KINDS_FILE, format="turtle", publicID=BASE)


def test_issue23_each_kind_has_one_name_and_one_list_name_per_language():
    graph = _kinds_graph()
    kinds = [str(k) for k in graph.objects(None, DCTERMS.identifier)]
    assert sorted(kinds) == sorted(set(kinds)) and "event" in kinds
    for node in graph.subjects(DCTERMS.identifier, None):
        for predicate in (RDFS.label, SKOS.altLabel):
            names = [n for n in graph.objects(node, predicate) if isinstance(n, Literal)]
            assert sorted(n.language for n in names) == ["de", "en"], (node, predicate)


def test_issue23_a_kind_goes_by_the_name_of_its_class():
    """„Veranstaltung“ is schema:Event's German name, and every page's name for events."""
    graph = _kinds_graph()
    ontology = Graph().parse(ROOT / "ontology" / "kiezgraph.ttl", format="turtle",
                             publicID=BASE)
    for node, kind in graph.subject_objects(DCTERMS.identifier):
        cls = graph.value(node, DCTERMS.subject)
        assert isinstance(cls, URIRef), kind
        for lang in ("de", "en"):
            own = [str(n) for n in ontology.objects(cls, RDFS.label) if n.language == lang]
            expected = own[0] if own else labels.label(cls, lang)
            assert expected is not None, (kind, cls)
            name = labels.kind_name(str(kind), lang)
            assert name is not None and name.lower() == expected.lower(), (kind, lang)
    assert labels.kind_name("event", "de") == "Veranstaltung"
    assert labels.kind_name("event", "de", plural=True) == "Veranstaltungen"


def _text(client, path: str) -> str:
    response = client.get(path, headers={"Accept": "text/html"})
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def test_issue23_search_names_kinds_in_the_pages_language(client):
    de = _text(client, "/search?q=fest")
    en = _text(client, "/search?q=fest&lang=en")
    assert '<span class="kind">Veranstaltung</span>' in de
    assert '<span class="kind">Event</span>' in en
    assert '<span class="kind">Veranstaltung</span>' not in en
    assert "Ereignis" not in de


def test_issue23_kind_lists_breadcrumbs_and_changes_follow_the_pages_language(client):
    assert "<h1>Veranstaltungen" in _text(client, "/doc/event/")
    english = _text(client, "/doc/event/?lang=en")
    assert "Events" in english and "Veranstaltungen" not in english
    agreements = _text(client, "/doc/agreement/?lang=en")
    assert "Cooperation agreements" in agreements
    page = _text(client, "/doc/event/fest-der-nachbarn-berlin-2016?lang=en")
    crumbs = re.search(r'<nav class="breadcrumbs".*?</nav>', page, re.S)
    assert crumbs is not None and ">Events<" in crumbs.group()
    changes = _text(client, "/changes?lang=en")
    assert "Neighbourhood centres" in changes and "Stadtteilzentren" not in changes
    assert "Stadtteilzentren" in _text(client, "/changes")
