"""Issue #22, item 2: whatever answers an aggregate is checked against pyoxigraph.

Many aggregate queries are generated (seeded, so a failure names a query that can be run
again) from the classes and properties of the shipped graph: GROUP BY with COUNT, COUNT
DISTINCT, MIN, MAX, SUM and AVG, HAVING, OPTIONAL, FILTERs on language and kind, ORDER BY
and LIMIT. Each is answered by

- the endpoint over the embedded store (the query worker, its serialiser, the answer
  cache and the JSON written per term), and
- kiezgraph's remote store over Virtuoso (the large-graph set-up), marked `virtuoso`,

and compared with pyoxigraph evaluating the same text on its own copy of the graph, the
default graph the union of the named graphs, as a set.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pyoxigraph as ox
import pytest

from publisher.config import SETTINGS

BASE = next(s.default for s in SETTINGS if s.name == "base_uri")
XSD = "http://www.w3.org/2001/XMLSchema#"
NUMERIC = {XSD + t for t in ("integer", "decimal", "double", "float", "int", "long")}
COUNT = 160  # generated queries


@pytest.fixture(scope="module")
def reference(release) -> ox.Store:
    """pyoxigraph on its own: the release's quads, and their triples as the default graph."""
    store = ox.Store()
    folder = Path(release.path)
    for name in ("graph.nq", "metadata.nq"):
        if (folder / name).is_file():
            store.bulk_load(path=str(folder / name), format=ox.RdfFormat.N_QUADS)
    store.extend([ox.Quad(q.subject, q.predicate, q.object, ox.DefaultGraph())
                  for q in store.quads_for_pattern(None, None, None, None)])
    return store


@pytest.fixture(scope="module")
def plain_client(build_dir, release):
    """The endpoint with rewrite_base off: answers name things under base_uri as stored
    (putting them under the asking host is tested with the routes)."""
    from publisher.config import load_settings
    from publisher.web import create_app
    from publisher.web.state import served

    app = create_app(load_settings(env={}, overrides={"out": str(build_dir),
                                                      "rewrite_base": False}),
                     release=release)
    yield app.test_client()
    served(app).published.store.close()


def _vocabulary(store: ox.Store) -> tuple[list[str], list[str], list[str]]:
    """Classes, properties with IRI objects, and properties with literal objects."""
    def column(query: str) -> list[str]:
        return sorted(str(row[0].value) for row in store.query(query))

    classes = column("SELECT DISTINCT ?c WHERE { ?s a ?c }")
    linking = column("SELECT DISTINCT ?p WHERE { ?s ?p ?o FILTER(isIRI(?o)) }")
    literal = column("SELECT DISTINCT ?p WHERE { ?s ?p ?o FILTER(isLiteral(?o)) }")
    return classes, linking, literal


def generated(store: ox.Store, count: int = COUNT, seed: int = 22) -> Iterator[str]:
    """Aggregate queries over the graph's own vocabulary, each with a full ORDER BY (so an
    answer has one right order) unless it has a single row."""
    classes, linking, literal = _vocabulary(store)
    rng = random.Random(seed)
    shapes = [
        lambda c, p, lit: ("SELECT ?type (COUNT(?s) AS ?n) WHERE { ?s a ?type } "
                         "GROUP BY ?type ORDER BY DESC(?n) ?type"),
        lambda c, p, lit: (f"SELECT ?o (COUNT(DISTINCT ?s) AS ?n) WHERE {{ ?s <{p}> ?o }} "
                         f"GROUP BY ?o HAVING (COUNT(DISTINCT ?s) > {rng.randint(0, 2)}) "
                         f"ORDER BY DESC(?n) ?o LIMIT {rng.randint(1, 30)}"),
        lambda c, p, lit: (f"SELECT ?p (COUNT(*) AS ?n) WHERE {{ ?s a <{c}> ; ?p ?o }} "
                         f"GROUP BY ?p ORDER BY ?p"),
        lambda c, p, lit: (f"SELECT ?s (COUNT(?o) AS ?n) WHERE {{ ?s a <{c}> "
                         f"OPTIONAL {{ ?s <{p}> ?o }} }} GROUP BY ?s "
                         f"ORDER BY DESC(?n) ?s LIMIT {rng.randint(1, 40)}"),
        lambda c, p, lit: (f"SELECT (COUNT(?o) AS ?n) (COUNT(DISTINCT ?o) AS ?d) "
                         f"(MIN(STR(?o)) AS ?lo) (MAX(STR(?o)) AS ?hi) "
                         f"WHERE {{ ?s <{lit}> ?o }}"),
        lambda c, p, lit: (f"SELECT ?lang (COUNT(?o) AS ?n) WHERE {{ ?s <{lit}> ?o }} "
                         f"GROUP BY (LANG(?o) AS ?lang) ORDER BY ?lang"),
        lambda c, p, lit: (f"SELECT ?c (SUM(STRLEN(STR(?o))) AS ?chars) (MAX(STRLEN(STR(?o))) "
                         f"AS ?longest) WHERE {{ ?s a ?c ; <{lit}> ?o }} GROUP BY ?c "
                         f"ORDER BY ?c"),
        lambda c, p, lit: (f"SELECT ?member (COUNT(?m) AS ?n) WHERE {{ ?m a <{c}> ; "
                         f"<{p}> ?member }} GROUP BY ?member "
                         f"HAVING (COUNT(?m) >= {rng.randint(1, 3)}) "
                         f"ORDER BY DESC(?n) ?member LIMIT 50"),
        lambda c, p, lit: (f"SELECT (COUNT(*) AS ?n) WHERE {{ ?s <{p}> ?o . ?o a <{c}> "
                         f'FILTER(STRSTARTS(STR(?s), "{BASE}")) }}'),
        # isIRI: STR() of a blank node is an error in SPARQL (pyoxigraph leaves the AVG
        # unbound), Virtuoso makes a string of its internal name. README, "Virtuoso".
        lambda c, p, lit: ("SELECT ?c (COUNT(DISTINCT ?s) AS ?n) (AVG(STRLEN(STR(?s))) AS ?a) "
                         "WHERE { ?s a ?c FILTER(isIRI(?s)) } GROUP BY ?c ORDER BY ?c"),
        lambda c, p, lit: (f"SELECT ?g (COUNT(*) AS ?n) WHERE {{ GRAPH ?g {{ ?s <{p}> ?o }} }} "
                         f"GROUP BY ?g ORDER BY ?g"),
        lambda c, p, lit: (f"SELECT ?s (COUNT(?l) AS ?n) WHERE {{ ?s a <{c}> ; <{lit}> ?l "
                         f'FILTER(LANG(?l) = "{rng.choice(["de", "en", ""])}") }} '
                         f"GROUP BY ?s ORDER BY DESC(?n) ?s LIMIT 25"),
    ]
    for _ in range(count):
        shape = rng.choice(shapes)
        yield shape(rng.choice(classes), rng.choice(linking), rng.choice(literal))


def _term(term: dict, public: str) -> tuple:
    """A SPARQL JSON term as something to compare: IRIs under BASE whatever host was asked,
    numbers by value (an engine may write 2.0 or 2.0E0 for the same double)."""
    value = term["value"]
    if term["type"] == "bnode":  # labels are each store's own
        return ("bnode",)
    if term["type"] == "uri":
        return ("uri", BASE + value[len(public):] if value.startswith(public) else value)
    datatype = term.get("datatype")
    if datatype in NUMERIC:
        # Decimal division is as precise as the engine makes it (XPath leaves it to the
        # implementation): 2/3 is 0.666666666666666666 in pyoxigraph, 0.666666666666667 in
        # Virtuoso. Numbers are compared to 12 significant digits.
        number = Decimal(value) if "e" not in value.lower() else Decimal(repr(float(value)))
        return ("number", round(number, 12 - number.adjusted() - 1) if number else number,
                datatype == XSD + "integer")
    return (term["type"], value, datatype, term.get("xml:lang"))


def _rows(answer: dict, public: str = BASE) -> list[tuple]:
    names = answer["head"]["vars"]
    return [tuple(_term(row[n], public) if n in row else None for n in names)
            for row in answer["results"]["bindings"]]


def _same(got: list[tuple], expected: list[tuple]) -> bool:
    """Equal rows in equal order; where blank nodes are bound, whose labels (and so their
    order) are each store's own, equal rows in any order."""
    if any(("bnode",) in row for row in expected + got):
        return sorted(got, key=repr) == sorted(expected, key=repr)
    return got == expected


def _expected(store: ox.Store, query: str) -> list[tuple]:
    import json

    answer = store.query(query).serialize(format=ox.QueryResultsFormat.JSON)
    return _rows(json.loads(answer))


def test_issue22_the_generator_makes_distinct_aggregates(reference):
    queries = list(generated(reference))
    assert len(queries) == COUNT and len(set(queries)) > COUNT * 0.8
    assert all("GROUP BY" in q or "COUNT" in q for q in queries)
    answered = [q for q in queries if _expected(reference, q)]
    assert len(answered) > COUNT * 0.7  # most ask something the graph answers


def test_issue22_the_endpoint_answers_aggregates_as_pyoxigraph_does(plain_client, reference):
    differing = []
    for query in generated(reference):
        response = plain_client.get("/sparql", query_string={"query": query},
                              headers={"Accept": "application/sparql-results+json"})
        assert response.status_code == 200, (query, response.data[:300])
        got = _rows(response.json)
        if not _same(got, _expected(reference, query)):
            differing.append(query)
    assert not differing, f"{len(differing)} answers differ: " + "\n".join(map(str, differing))


@pytest.mark.virtuoso
def test_issue22_virtuoso_answers_aggregates_as_pyoxigraph_does(loaded_virtuoso, reference):
    import json

    from publisher.store.remote import RemoteStore

    store = RemoteStore(loaded_virtuoso.sparql, BASE)
    differing = []
    for query in generated(reference):
        answer = store.run_query(query, "application/sparql-results+json", timeout=30,
                                 max_results=10_000)
        got = _rows(json.loads(answer.body))
        if not _same(got, _expected(reference, query)):
            expected = _expected(reference, query)
            first = next((i for i, (a, b) in enumerate(zip(got, expected, strict=False)) if a != b),
                         min(len(got), len(expected)))
            differing.append((query, f"{len(got)} rows, expected {len(expected)}; row {first}:",
                              got[first:first + 1], expected[first:first + 1]))
    assert not differing, f"{len(differing)} answers differ: " + "\n".join(map(str, differing))


@pytest.mark.virtuoso
def test_issue22_virtuoso_makes_a_string_of_a_blank_node(loaded_virtuoso, reference):
    """The one difference the generated aggregates found, named in the README: SPARQL makes
    STR() of a blank node an error (so pyoxigraph leaves the aggregate unbound), Virtuoso
    answers with a string of its internal name."""
    import json

    from publisher.store.remote import RemoteStore

    query = ('SELECT (COUNT(?s) AS ?n) (MAX(STRLEN(STR(?s))) AS ?len) WHERE { '
             '?s a <http://schema.org/PostalAddress> FILTER(isBlank(?s)) }')
    expected = _expected(reference, query)
    assert expected and expected[0][0][1] > 0 and expected[0][1] is None
    answer = RemoteStore(loaded_virtuoso.sparql, BASE).run_query(
        query, "application/sparql-results+json", timeout=30, max_results=10)
    got = _rows(json.loads(answer.body))
    assert got[0][0] == expected[0][0] and got[0][1] is not None
