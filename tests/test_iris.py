"""Mapping between request paths and IRIs, and moving graphs between bases."""

from __future__ import annotations

import pytest
from rdflib import Graph, Literal, URIRef

from publisher.iris import (
    MAX_PATH,
    document_path,
    is_safe_path,
    local_path,
    rebase,
    rebase_graph,
    thing_path,
)

BASE = "https://w3id.org/kiezgraph/pankow/"
HERE = "http://127.0.0.1:8080/"


@pytest.mark.parametrize("thing, document", [
    ("id/stadtteilzentrum/stz-weissensee", "doc/stadtteilzentrum/stz-weissensee"),
    ("id/concept/activity-role/unterzeichner", "doc/concept/activity-role/unterzeichner"),
    ("ontology/Stadtteilzentrum", "doc/ontology/Stadtteilzentrum"),
])
def test_thing_and_document_map_both_ways(thing, document):
    assert document_path(thing) == document
    assert thing_path(document) == thing


@pytest.mark.parametrize("path", ["ontology", "id/", "doc/x", "graph/data/x", ""])
def test_paths_without_a_separate_document(path):
    assert document_path(path) is None


@pytest.mark.parametrize("path", ["id/x", "doc/", "ontology/T", ""])
def test_paths_that_are_no_document(path):
    assert thing_path(path) is None


@pytest.mark.parametrize("path", [
    "id/stadtteilzentrum/stz-weissensee", "id/concept/fields/a_b.c~d", "ontology/Signing",
    "id/x/wei%C3%9Fensee", "id/x/weißensee",
])
def test_safe_paths(path):
    assert is_safe_path(path)


@pytest.mark.parametrize("path", [
    "", "id/../../etc/passwd", "id/./x", "id//x", "id/x/", "id/x y", "id/x>y", "id/x<y",
    'id/x"y', "id/x{y}", "id/x|y", "id/x^y", "id/x`y", "id/x\\y", "id/x\ny", "id/x\x00",
    "id/x#frag", "id/x?q", "id/" + "a" * MAX_PATH,
])
def test_unsafe_paths(path):
    assert not is_safe_path(path)


def test_local_path_keeps_our_iris_here_and_leaves_external_ones():
    assert local_path(BASE + "id/organisation/bezirksamt-pankow", BASE) == \
        "doc/organisation/bezirksamt-pankow"
    assert local_path(BASE + "ontology/Signing", BASE) == "doc/ontology/Signing"
    assert local_path(BASE + "ontology", BASE) == "ontology"
    assert local_path("http://schema.org/Event", BASE) is None


def test_rebase_moves_only_our_iris():
    assert rebase(URIRef(BASE + "id/a/b"), BASE, HERE) == URIRef(HERE + "id/a/b")
    assert rebase(URIRef("http://schema.org/x"), BASE, HERE) == URIRef("http://schema.org/x")
    assert rebase(Literal(BASE + "id/a/b"), BASE, HERE) == Literal(BASE + "id/a/b")
    typed = Literal("x", datatype=URIRef(BASE + "ontology/T"))
    assert rebase(typed, BASE, HERE).datatype == URIRef(HERE + "ontology/T")


def test_rebase_graph_moves_triples_and_prefixes():
    graph = Graph()
    graph.bind("kg", BASE + "ontology/")
    graph.add((URIRef(BASE + "id/a/b"), URIRef(BASE + "ontology/p"), URIRef("http://x.org/")))
    moved = rebase_graph(graph, BASE, HERE)
    assert set(moved) == {(URIRef(HERE + "id/a/b"), URIRef(HERE + "ontology/p"),
                           URIRef("http://x.org/"))}
    assert dict(moved.namespaces())["kg"] == URIRef(HERE + "ontology/")
    assert rebase_graph(graph, BASE, BASE) is graph
