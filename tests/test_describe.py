"""Descriptions through the store, checked against rdflib's own CBD over the same triples."""

from __future__ import annotations

import pytest
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, XSD

from publisher import describe
from publisher.iris import document_path, graph_path
from publisher.store import EmbeddedStore

BASE = "https://w3id.org/kiezgraph/pankow/"


def _plain(graph: Graph) -> Graph:
    """xsd:string literals written plain, as describe does (the same in RDF 1.1)."""
    out = Graph()
    for s, p, o in graph:
        if isinstance(o, Literal) and o.datatype == XSD.string:
            o = Literal(str(o))
        out.add((s, p, o))
    return out


@pytest.fixture(scope="module")
def store(release) -> EmbeddedStore:
    return EmbeddedStore.from_release(release)


@pytest.fixture(scope="module")
def everything(store) -> Graph:
    """Every triple the store holds, in rdflib, to compute the expected descriptions with."""
    return _plain(store.construct("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"))


def resources(graph: Graph) -> list[URIRef]:
    """Every IRI of ours that has a document of its own."""
    found = set()
    for subject in graph.subjects():
        path = graph_path(str(subject), BASE) if isinstance(subject, URIRef) else None
        if path and "#" not in path and document_path(path):
            found.add(subject)
    return sorted(found)


def expected(graph: Graph, iri: URIRef) -> Graph:
    """What a document should hold, computed by walking the graph in memory."""
    out = Graph()
    fragments = {s for s in graph.subjects() if isinstance(s, URIRef)
                 and str(s).startswith(str(iri) + "#")}
    for subject in (iri, *fragments):
        out += graph.cbd(subject)
    for subject, predicate in graph.subject_predicates(iri):
        if isinstance(subject, URIRef):
            out.add((subject, predicate, iri))
        elif isinstance(subject, BNode):
            owners = [(o, q) for o, q in graph.subject_predicates(subject)
                      if isinstance(o, URIRef)]
            for owner, via in owners:
                out.add((owner, via, subject))
            if owners:
                out += graph.triples((subject, None, None))
    linked = {n for s, _p, o in out for n in (s, o) if isinstance(n, URIRef) and n != iri}
    for node in linked:
        for prop in describe.LABEL_PROPERTIES:
            for value in graph.objects(node, prop):
                out.add((node, prop, value))
    return out


def test_the_graph_has_things_to_describe(everything):
    assert len(resources(everything)) > 50


def test_every_description_matches_the_in_memory_walk(store, everything):
    for iri in resources(everything):
        got = describe.describe(store, iri)
        assert set(got) == set(expected(everything, iri)), iri


def test_blank_nodes_are_closed(store, everything):
    with_blanks = [i for i in resources(everything)
                   if any(isinstance(o, BNode) for o in everything.objects(i))]
    assert with_blanks, "the data has resources with blank nodes"
    for iri in with_blanks:
        cbd = describe.cbd(store, iri)
        objects = {o for o in cbd.objects() if isinstance(o, BNode)}
        assert objects <= set(cbd.subjects()), iri


def test_agreement_lists_its_partners_and_a_centre_its_agreement(store):
    agreement = URIRef(BASE + "id/agreement/kooperationsvertrag-2022")
    centre = URIRef(BASE + "id/stadtteilzentrum/stz-weissensee")
    partner = URIRef(BASE + "ontology/partner")
    doc = describe.describe(store, agreement)
    assert (agreement, partner, centre) in doc
    assert describe.label_of(doc, centre) == "Stadtteilzentrum Weißensee"
    centre_doc = describe.describe(store, centre)
    assert (agreement, partner, centre) in centre_doc
    assert describe.label_of(centre_doc, agreement, "en") == "Cooperation agreement 2022"


def test_unknown_iri_does_not_exist(store):
    assert not describe.exists(store, URIRef(BASE + "id/stadtteilzentrum/nowhere"))
    assert describe.exists(store, URIRef(BASE + "id/stadtteilzentrum/stz-weissensee"))
    assert len(describe.describe(store, URIRef(BASE + "id/x/nowhere"))) == 0


def test_unsafe_iri_is_refused_before_the_store_sees_it(store):
    with pytest.raises(ValueError):
        describe.exists(store, URIRef(BASE + "id/x> ?p ?o } #"))


def test_ontology_holds_every_term(store, everything):
    onto = describe.ontology(store, BASE)
    classes = set(everything.subjects(RDF.type, URIRef("http://www.w3.org/2002/07/owl#Class")))
    assert classes and classes <= set(onto.subjects())
    assert (URIRef(BASE + "ontology"), None, None) in onto
    assert not any(str(s).startswith(BASE + "id/organisation/") for s in onto.subjects())


def test_kinds_count_each_thing_once(store, everything):
    found = describe.kinds(store, BASE)
    things = {s for s in everything.subjects() if isinstance(s, URIRef)
              and str(s).startswith(BASE + "id/") and "#" not in s}
    assert sum(k.count for k in found) == len(things)
    by_name = {k.name: k for k in found}
    assert by_name["stadtteilzentrum"].count == 5
    assert by_name["stadtteilzentrum"].main_type == URIRef(BASE + "ontology/Stadtteilzentrum")


def test_sources_name_the_source_file(store):
    graphs = describe.sources(store, URIRef(BASE + "id/stadtteilzentrum/stz-weissensee"))
    assert URIRef(BASE + "graph/data/stadtteilzentren") in graphs


def test_label_fallbacks():
    graph = Graph()
    node = URIRef(BASE + "id/x/some-slug")
    assert describe.label_of(graph, node) == "some-slug"
    graph.add((node, describe.LABEL_PROPERTIES[1], Literal("Deutsch", lang="de")))
    graph.add((node, describe.LABEL_PROPERTIES[1], Literal("English", lang="en")))
    assert describe.label_of(graph, node, "en") == "English"
    assert describe.label_of(graph, node, "fr") == "Deutsch"


class _Counting:
    """A real store that counts the SELECT queries sent through it."""

    def __init__(self, store: EmbeddedStore):
        self.store, self.selects, self.build_id = store, 0, "one"

    def select(self, query: str):
        self.selects += 1
        return self.store.select(query)


def _with_fragments() -> EmbeddedStore:
    import pyoxigraph as ox

    store = ox.Store()
    label = ox.NamedNode(str(describe.LABEL_PROPERTIES[1]))
    for iri in ("id/x/a", "id/x/a#one", "id/x/a#one/two", "id/x/a#", "id/x/ab#three",
                "id/x/b", "id/x/b#four"):
        store.add(ox.Quad(ox.NamedNode(BASE + iri), label, ox.Literal(iri)))
    store.add(ox.Quad(ox.BlankNode(), label, ox.Literal("id/x/a#blank")))
    return EmbeddedStore(store, "one")


def _scan(store, iri: str) -> list[URIRef]:
    """What a full scan with STRSTARTS finds: the answer fragments() must keep giving."""
    rows = store.select(f'SELECT DISTINCT ?s WHERE {{ ?s ?p ?o FILTER(isIRI(?s) && '
                        f'STRSTARTS(STR(?s), "{iri}#")) }}')
    return sorted(row["s"] for row in rows)


def test_fragments_are_what_a_full_scan_finds():
    store = _with_fragments()
    for iri in ("id/x/a", "id/x/a#one", "id/x/ab", "id/x/b", "id/x/c", "id/x/a/"):
        assert describe.fragments(store, URIRef(BASE + iri)) == _scan(store, BASE + iri), iri
    assert describe.fragments(store, URIRef(BASE + "id/x/a")) == [
        URIRef(BASE + p) for p in ("id/x/a#", "id/x/a#one", "id/x/a#one/two")]
    cbd = describe.cbd(store, URIRef(BASE + "id/x/a"))
    assert {str(s) for s in cbd.subjects()} == {BASE + p for p in (
        "id/x/a", "id/x/a#", "id/x/a#one", "id/x/a#one/two")}


def test_fragments_scan_the_graph_once_per_release():
    counting = _Counting(_with_fragments())
    for iri in ("id/x/a", "id/x/b", "id/x/c", "id/x/a"):
        describe.fragments(counting, URIRef(BASE + iri))
    assert counting.selects == 1
    counting.build_id = "two"  # an external store switched releases under the server
    assert describe.fragments(counting, URIRef(BASE + "id/x/b")) == [URIRef(BASE + "id/x/b#four")]
    assert counting.selects == 2
