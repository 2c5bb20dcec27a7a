"""Serialising answers: every format parses back, the cap holds, forms pick their formats."""

from __future__ import annotations

import io
import json

import pyoxigraph as ox
import pytest
from rdflib import Graph
from rdflib.query import Result

from publisher.sparql.results import (
    format_by_media_type,
    format_by_name,
    serialise,
    term_json,
)


@pytest.fixture()
def store() -> ox.Store:
    store = ox.Store()
    for i in range(12):
        store.add(ox.Quad(ox.NamedNode(f"http://example.org/s{i}"),
                          ox.NamedNode("http://example.org/label"),
                          ox.Literal(f"Zentrum {i} – Weißensee", language="de")))
    store.add(ox.Quad(ox.BlankNode("b"), ox.NamedNode("http://example.org/n"),
                      ox.Literal("7", datatype=ox.NamedNode(
                          "http://www.w3.org/2001/XMLSchema#integer"))))
    return store


@pytest.mark.parametrize(("media_type", "parser"), [
    ("application/sparql-results+json", "json"), ("application/sparql-results+xml", "xml"),
    ("text/csv", "csv"), ("text/tab-separated-values", "tsv")])
def test_select_formats_parse_back_and_the_cap_holds(store, media_type, parser):
    query = "SELECT ?s ?o WHERE { ?s ?p ?o } ORDER BY ?o"
    full = serialise(store.query(query), media_type, 100)
    assert (full.count, full.truncated, full.media_type) == (13, False, media_type)
    rows = list(Result.parse(io.BytesIO(full.body), format=parser))
    assert len(rows) == 13
    assert any("Weißensee" in str(row[1]) for row in rows)
    cut = serialise(store.query(query), media_type, 5)
    assert (cut.count, cut.truncated) == (5, True)
    assert [str(r[1]) for r in Result.parse(io.BytesIO(cut.body), format=parser)] == \
        [str(r[1]) for r in rows[:5]]


def test_json_keeps_language_datatype_and_blank_nodes(store):
    body = serialise(store.query("SELECT ?s ?o WHERE { ?s ?p ?o }"),
                     "application/sparql-results+json", 100).body
    again = ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)
    terms = {str(row["o"]): row["s"] for row in again}
    assert '"Zentrum 0 – Weißensee"@de' in terms
    assert isinstance(terms['"7"^^<http://www.w3.org/2001/XMLSchema#integer>'], ox.BlankNode)


def test_issue8_json_text_is_what_json_dumps_and_pyoxigraph_write():
    """The hand-written JSON results: same bytes as json.dumps of term_json, same solutions
    as pyoxigraph's own serialiser, for the strings, tags and unbound values that are hard."""
    store = ox.Store()
    tricky = ['quote " backslash \\ slash /', "tab\tnewline\ncontrol\x01", "Weißensee ✓ 𝄞",
              "\u2028 line separator", ""]
    for i, text in enumerate(tricky):
        store.add(ox.Quad(ox.NamedNode(f"http://example.org/s{i}?q=Wei%C3%9F&x=ä"),
                          ox.NamedNode("http://example.org/p"), ox.Literal(text)))
        store.add(ox.Quad(ox.NamedNode(f"http://example.org/s{i}?q=Wei%C3%9F&x=ä"),
                          ox.NamedNode("http://example.org/q"),
                          ox.Literal(text, language="de-DE-1996")))
    store.add(ox.Quad(ox.BlankNode("b1"), ox.NamedNode("http://example.org/p"),
                      ox.Literal("1.5", datatype=ox.NamedNode(
                          "http://www.w3.org/2001/XMLSchema#decimal"))))
    query = """SELECT ?s ?o ?missing ?t WHERE { ?s ?p ?o OPTIONAL { ?s <urn:none> ?missing }
               BIND(IF(isLiteral(?o), <urn:lit>, ?unbound) AS ?t) } ORDER BY ?s ?o"""
    body = serialise(store.query(query), "application/sparql-results+json", 100).body
    solutions = store.query(query)
    variables = [v.value for v in solutions.variables]
    expected = {"head": {"vars": variables}, "results": {"bindings": [
        {name: term_json(row[name]) for name in variables if row[name] is not None}
        for row in solutions]}}
    assert body == json.dumps(expected, ensure_ascii=False, separators=(",", ":")).encode()
    assert json.loads(body) == json.loads(
        store.query(query).serialize(format=ox.QueryResultsFormat.JSON))
    assert len(json.loads(body)["results"]["bindings"]) == 11


@pytest.mark.parametrize(("media_type", "rdflib_format"), [
    ("text/turtle", "turtle"), ("application/ld+json", "json-ld"),
    ("application/rdf+xml", "xml"), ("application/n-triples", "nt")])
def test_graph_formats_parse_back_and_the_cap_holds(store, media_type, rdflib_format):
    query = "CONSTRUCT WHERE { ?s ?p ?o }"
    full = serialise(store.query(query), media_type, 100, {"ex": "http://example.org/"})
    assert len(Graph().parse(data=full.body, format=rdflib_format)) == full.count == 13
    cut = serialise(store.query(query), media_type, 4)
    assert len(Graph().parse(data=cut.body, format=rdflib_format)) == cut.count == 4
    assert cut.truncated


def test_ask_and_a_format_of_the_wrong_form_falls_back(store):
    answer = serialise(store.query("ASK { ?s ?p ?o }"), "text/turtle", 10)
    assert answer.media_type == "application/sparql-results+json"
    assert answer.body == b'{"head":{},"boolean":true}'
    graph = serialise(store.query("CONSTRUCT WHERE { ?s ?p ?o }"), "text/csv", 10)
    assert graph.media_type == "text/turtle"


@pytest.mark.parametrize(("form", "name", "expected"), [
    ("SELECT", "json", "json"), ("SELECT", "srx", "xml"), ("ASK", "text/csv", "csv"),
    ("CONSTRUCT", "json", "jsonld"), ("DESCRIBE", "xml", "rdfxml"), ("CONSTRUCT", "n3", "turtle"),
    ("CONSTRUCT", "nt", "ntriples"), ("CONSTRUCT", "application/ld+json", "jsonld"),
    ("SELECT", "turtle", None), ("CONSTRUCT", "csv", None), ("SELECT", "html", None),
])
def test_format_names_per_form(form, name, expected):
    fmt = format_by_name(form, name)
    assert (fmt.name if fmt else None) == expected


def test_media_type_parameters_are_ignored():
    assert format_by_media_type("SELECT", "text/csv; charset=utf-8").name == "csv"
