"""The guard: updates and SERVICE are refused, syntax errors carry a position, forms known."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time

import pyoxigraph as ox
import pytest

from publisher.sparql import sandbox, strict
from publisher.sparql.guard import (
    QueryRefused,
    QueryRejected,
    QueryTooLong,
    check,
    scan,
    syntax_error,
)
from tests.service_disguises import BENIGN, DISGUISES, GENERATED_DATA, fill, generated

GUARDS = [pytest.param(check, id="check"), pytest.param(scan, id="scan")]

UPDATES = [
    "CLEAR ALL",
    "LOAD <http://example.org/data.ttl>",
    "INSERT DATA { <http://a> <http://b> <http://c> }",
    "PREFIX ex: <http://x/>\nDELETE WHERE { ?s ex:p ?o }",
    "DROP GRAPH <http://g>",
    "CREATE GRAPH <http://g> ; COPY <http://g> TO <http://h>",
]


@pytest.mark.parametrize("guard", GUARDS)
@pytest.mark.parametrize("text", UPDATES)
def test_updates_are_refused(guard, text):
    with pytest.raises(QueryRefused) as info:
        guard(text)
    assert info.value.status == 403
    assert "read-only" in info.value.message


@pytest.mark.parametrize("text", [
    "SELECT * WHERE { SERVICE <http://127.0.0.1:1/sparql> { ?s ?p ?o } }",
    "SELECT * WHERE { SERVICE SILENT ?endpoint { ?s ?p ?o } }",
    "ASK { OPTIONAL { FILTER EXISTS { SERVICE <http://x/> { ?s ?p ?o } } } }",
    "SELECT * { { SELECT ?s { service <http://x/> { ?s ?p ?o } } } }",
    "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o MINUS { SERVICE <http://x/> { ?s ?p ?o } } }",
    "SELECT * WHERE { GRAPH ?g { # a comment\n Service\t<http://x/> { ?s ?p ?o } } }",
    "SELECT * { ?s ?p ?o . { ?a ?b ?c } UNION { SERVICE <http://x/> { ?s ?p ?o } } }",
])
@pytest.mark.parametrize("guard", GUARDS)
def test_service_is_refused_wherever_it_is_nested(guard, text):
    with pytest.raises(QueryRefused) as info:
        guard(text)
    assert "SERVICE" in info.value.message


@pytest.mark.parametrize("text", [
    # pyoxigraph takes each of these for a SERVICE clause: no space is needed after it
    "PREFIX : <http://127.0.0.1:1/> SELECT * WHERE { SERVICE:x { ?s ?p ?o } }",
    "SELECT * WHERE { SERVICESILENT<http://127.0.0.1:1/> { ?s ?p ?o } }",
    "SELECT * WHERE { SERVICE<http://127.0.0.1:1/>{ ?s ?p ?o } }",
    "SELECT * WHERE { SERVICE?x{ ?s ?p ?o } }",
    "SELECT * WHERE { ?s ?p ?o.SERVICE <http://x/> {} }",
    # `<` as "less than", which a lexer could take for the start of an IRI
    "SELECT * WHERE { ?a ?b ?c FILTER(?a<1)SERVICE<http://127.0.0.1:1/>{ ?s ?p ?o } }",
    "SELECT * WHERE { ?a ?b ?c FILTER(?a<1)SERVICE?x#>\n{ ?s ?p ?o } }",
    "SELECT * WHERE { BIND(1 AS ?a) FILTER(?a<'>')SERVICE <http://127.0.0.1:1/> {} } #'",
])
def test_the_scanner_refuses_what_pyoxigraph_reads_as_service(text):
    with pytest.raises(QueryRefused):
        scan(text)


@pytest.mark.parametrize("guard", GUARDS)
@pytest.mark.parametrize("text", [
    "PREFIX ex: <http://x/>\nSELECT ?service { ?s ex:service ?service }",
    "SELECT * { ?s <http://x/service> 'SERVICE <http://x/> {}' } # service",
    "PREFIX ex: <http://x/> SELECT * { ?s ex:a-service ?o . ?o ex:myService $service }",
])
def test_a_name_that_merely_contains_service_is_fine(guard, text):
    assert guard(text).form == "SELECT"


def test_the_scanner_knows_forms_volatile_functions_and_positions():
    assert not scan("SELECT (RAND() AS ?r) {}").deterministic
    assert not scan("SELECT (now() AS ?r) {}").deterministic
    assert scan("SELECT ?now { ?s ?p ?now }").deterministic
    with pytest.raises(QueryRejected) as info:
        scan("PREFIX ex: <http://x/>\n  hello")
    assert (info.value.status, info.value.line, info.value.column) == (400, 2, 3)


def test_syntax_errors_of_pyoxigraph_carry_their_position():
    with pytest.raises(SyntaxError) as info:
        ox.Store().query("SELECT * WHERE {\n  ?s ?p\n}")
    rejected = syntax_error(str(info.value))
    assert rejected.status == 400
    assert rejected.line == 3 and rejected.column >= 1
    assert f"line 3, column {rejected.column}" in rejected.message
    assert syntax_error("something else").line is None


@pytest.mark.parametrize("guard", GUARDS)
@pytest.mark.parametrize(("text", "form", "has_dataset"), [
    ("SELECT * WHERE { ?s ?p ?o }", "SELECT", False),
    ("ASK {}", "ASK", False),
    ("CONSTRUCT WHERE { ?s ?p ?o }", "CONSTRUCT", False),
    ("DESCRIBE <http://x>", "DESCRIBE", False),
    ("SELECT * FROM <http://g> WHERE { ?s ?p ?o }", "SELECT", True),
    ("ASK FROM NAMED <http://g> { GRAPH ?g {} }", "ASK", True),
])
def test_forms_and_dataset_clauses(guard, text, form, has_dataset):
    checked = guard(text)
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


# --- issue 14: the scanner reads as pyoxigraph reads; rdflib never decides for it ----------

CLOSED = "http://127.0.0.1:9/proof"  # a port pyoxigraph's HTTP client refuses to call anyway


@pytest.mark.parametrize("text", DISGUISES)
def test_issue14_every_disguise_of_service_is_refused_or_unparsable(text):
    query = fill(text, CLOSED, 9)
    try:
        scan(query)
    except QueryRefused as exc:
        assert "SERVICE" in exc.message
        return
    with pytest.raises(SyntaxError):  # passed the scan: pyoxigraph must not read a query
        ox.Store().query(query)


@pytest.mark.parametrize("text", DISGUISES)
def test_issue14_the_strict_check_refuses_them_too(text):
    with pytest.raises(QueryRejected):
        check(fill(text, CLOSED, 9))


@pytest.mark.parametrize("guard", GUARDS)
@pytest.mark.parametrize("text", BENIGN)
def test_issue14_service_as_a_name_string_or_iri_passes(guard, text):
    assert guard(text).form == "SELECT"
    ox.Store().query(text)  # and pyoxigraph reads a query, not an error


def test_issue14_the_scan_never_asks_rdflib(monkeypatch):
    def no_rdflib(*_args, **_kwargs):
        raise AssertionError("rdflib parsed a query for pyoxigraph")

    monkeypatch.setattr(strict, "parseQuery", no_rdflib)
    monkeypatch.setattr(strict, "parseUpdate", no_rdflib)
    for text in [*BENIGN, "SELECT * { ?s ?p ?o } # service", "ASK { \\u0053ERVICE }"]:
        with contextlib.suppress(QueryRejected):
            scan(text + " ")  # a text the cache has not seen


def test_issue14_unsure_readings_are_refused():
    # `<'…>` after an operand may be "less than" then a string: anything after is suspect
    with pytest.raises(QueryRefused, match="cannot tell"):
        scan("SELECT * { ?s ?p ?o FILTER(?o<'#'>1) } # service")
    # a prefixed name whose prefix IRI does not end in / or # may fall back to the prefix
    with pytest.raises(QueryRefused):
        scan("PREFIX p: <urn:x:> SELECT * { ?s ?p p:serviceA }")
    assert scan("PREFIX p: <urn:x/> SELECT * { ?s ?p p:serviceA }").form == "SELECT"


def test_issue14_the_parser_bomb_is_scanned_at_once():
    """Issue #14's bomb took rdflib 15.7 s under a global lock; the scan reads it linearly."""
    bomb = "# service\nSELECT * WHERE { ?x ?p ?o FILTER(?x IN (" + ",".join(["1"] * 9900) + ")) }"
    started = time.monotonic()
    assert scan(bomb).form == "SELECT"
    assert time.monotonic() - started < 5  # generous: milliseconds on an idle machine


_ORACLE = """
import json, sys
from publisher.sparql import sandbox
sandbox.confine()  # pyoxigraph may try to connect: here it cannot
import pyoxigraph as ox
store = ox.Store()
store.load(input=sys.argv[1].encode(), format=ox.RdfFormat.TURTLE)
tried = []
for number, query in enumerate(json.loads(sys.stdin.read())):
    try:
        list(store.query(query))
    except PermissionError:  # the sandbox refused pyoxigraph's socket: it ran SERVICE
        tried.append(number)
    except BaseException:
        pass
print(json.dumps(tried))
"""


@pytest.mark.skipif(not sandbox.supported(), reason="the oracle runs pyoxigraph in the sandbox")
def test_issue14_the_scan_refuses_every_query_pyoxigraph_sends_out():
    """Differential test against the engine itself: 3,744 queries glue SERVICE to every kind
    of token; pyoxigraph, run in the network sandbox, shows which ones it evaluates as
    SERVICE (its socket is refused). The scan must refuse each of those."""
    port = 8123  # nothing listens: the sandboxed oracle cannot connect anyway
    queries = [fill(q, f"http://127.0.0.1:{port}/proof", port) for q in generated()]
    done = subprocess.run([sys.executable, "-c", _ORACLE, GENERATED_DATA],
                          input=json.dumps(queries), capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    tried = json.loads(done.stdout)
    assert len(tried) > len(queries) // 2  # the oracle works: most of them are SERVICE
    passed = []
    for number in tried:
        with contextlib.suppress(QueryRefused):
            scan(queries[number])
            passed.append(queries[number])
    assert passed == []


def test_the_server_prefixes_are_ones_the_scan_can_trust(release):
    """The scan lets `pfx:serviceX` pass for a prefix the query does not declare on the
    ground that the server's prefixes end in / or # (so the name's IRI is always valid and
    pyoxigraph never falls back to reading the prefix alone)."""
    from publisher.sparql.prefixes import prefixes_for
    from tests.conftest import BASE

    prefixes = prefixes_for(release, BASE)
    assert prefixes and all(iri.endswith(("/", "#")) for iri in prefixes.values()), prefixes
