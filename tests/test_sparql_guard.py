"""The guard: updates and SERVICE are refused, syntax errors carry a position, forms known."""

from __future__ import annotations

import pytest

from publisher.sparql.guard import QueryRefused, QueryRejected, QueryTooLong, check

UPDATES = [
    "CLEAR ALL",
    "LOAD <http://example.org/data.ttl>",
    "INSERT DATA { <http://a> <http://b> <http://c> }",
    "PREFIX ex: <http://x/>\nDELETE WHERE { ?s ex:p ?o }",
    "DROP GRAPH <http://g>",
    "CREATE GRAPH <http://g> ; COPY <http://g> TO <http://h>",
]


@pytest.mark.parametrize("text", UPDATES)
def test_updates_are_refused(text):
    with pytest.raises(QueryRefused) as info:
        check(text)
    assert info.value.status == 403
    assert "read-only" in info.value.message


@pytest.mark.parametrize("text", [
    "SELECT * WHERE { SERVICE <http://127.0.0.1:1/sparql> { ?s ?p ?o } }",
    "SELECT * WHERE { SERVICE SILENT ?endpoint { ?s ?p ?o } }",
    "ASK { OPTIONAL { FILTER EXISTS { SERVICE <http://x/> { ?s ?p ?o } } } }",
    "SELECT * { { SELECT ?s { service <http://x/> { ?s ?p ?o } } } }",
    "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o MINUS { SERVICE <http://x/> { ?s ?p ?o } } }",
])
def test_service_is_refused_wherever_it_is_nested(text):
    with pytest.raises(QueryRefused) as info:
        check(text)
    assert "SERVICE" in info.value.message


def test_a_name_that_merely_contains_service_is_fine():
    checked = check("PREFIX ex: <http://x/>\nSELECT ?service { ?s ex:service ?service }")
    assert checked.form == "SELECT"


@pytest.mark.parametrize(("text", "form", "has_dataset"), [
    ("SELECT * WHERE { ?s ?p ?o }", "SELECT", False),
    ("ASK {}", "ASK", False),
    ("CONSTRUCT WHERE { ?s ?p ?o }", "CONSTRUCT", False),
    ("DESCRIBE <http://x>", "DESCRIBE", False),
    ("SELECT * FROM <http://g> WHERE { ?s ?p ?o }", "SELECT", True),
    ("ASK FROM NAMED <http://g> { GRAPH ?g {} }", "ASK", True),
])
def test_forms_and_dataset_clauses(text, form, has_dataset):
    checked = check(text)
    assert (checked.form, checked.has_dataset) == (form, has_dataset)
    assert checked.is_graph == (form in ("CONSTRUCT", "DESCRIBE"))


@pytest.mark.parametrize(("text", "line", "column"), [
    ("SELECT * WHERE { ?s ?p }", 1, 18),
    ("PREFIX ex: <http://x/>\nSELECT * WHERE {\n  ?s ex:p ?o ..\n}", 3, 15),
    ("ASK {} trailing", 1, 8),
])
def test_syntax_errors_name_line_and_column(text, line, column):
    with pytest.raises(QueryRejected) as info:
        check(text)
    assert info.value.status == 400
    assert (info.value.line, info.value.column) == (line, column)
    assert f"line {line}, column {column}" in info.value.message


@pytest.mark.parametrize("text", [
    "", "   \n", "hello", "SELECT * WHERE { ?s ?p ?o } ; CLEAR ALL",
    'DEFINE get:soft "replace" SELECT * FROM <http://x/> { ?s ?p ?o }',  # Virtuoso fetch
])
def test_neither_a_query_nor_an_update_is_rejected(text):
    with pytest.raises(QueryRejected) as info:
        check(text)
    assert info.value.status == 400


def test_length_cap():
    text = "ASK {}" + " " * 100
    assert check(text, max_length=len(text)).form == "ASK"
    with pytest.raises(QueryTooLong) as info:
        check(text + " ", max_length=len(text))
    assert info.value.status == 413
    assert str(len(text)) in info.value.message
