"""One prefix table, and one module that spells namespaces (issue #21)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from rdflib import Graph

from publisher import describe, namespaces, sources
from publisher.namespaces import PREFIXES, SCHEMA, bind, kg, prefixes
from publisher.sheets import mapping
from publisher.sparql import prefixes as sparql_prefixes

PACKAGE = Path(namespaces.__file__).resolve().parent

# Modules that may still spell a namespace IRI of the table themselves, and why.
EXCEPTIONS = {
    "namespaces.py": "the one place that spells them",
    # The SPARQL query worker imports only pyoxigraph and these serialisers, so that a
    # replacement worker starts quickly; publisher.namespaces would bring rdflib.
    "formats.py": "imported by the query worker, which imports no rdflib",
    "sparql/results.py": "imported by the query worker, which imports no rdflib",
    # Being changed in other branches at the same time; their tables are held to this one
    # by test_every_prefix_table_is_part_of_the_one_table, until they import it.
    "sources.py": "KNOWN_PREFIXES, left while the file changes elsewhere",
    "store/remote.py": "XSD_STRING, left while the file changes elsewhere",
}


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        yield path.relative_to(PACKAGE).as_posix(), ast.parse(path.read_text(encoding="utf-8"))


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def _strings(tree: ast.AST):
    """The string constants of a module's code (f-string parts too), without docstrings."""
    skip = _docstrings(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            yield node


def test_the_prefix_table_has_one_prefix_per_namespace():
    iris = list(PREFIXES.values())
    doubled = sorted({iri for iri in iris if iris.count(iri) > 1})
    assert not doubled, f"namespaces with more than one prefix: {doubled}"
    for prefix, iri in PREFIXES.items():
        assert re.fullmatch(r"[a-z][a-z0-9]*", prefix), prefix
        assert iri.startswith("http") and iri[-1] in "#/", iri
        # no namespace lies inside another, so a compact IRI has one reading
        assert not [other for other in iris if other != iri and other.startswith(iri)], iri


def test_schema_org_is_http_everywhere():
    assert PREFIXES["schema"] == str(SCHEMA) == "http://schema.org/"
    assert not [iri for iri in PREFIXES.values() if "schema.org" in iri and iri != str(SCHEMA)]
    for table in (sparql_prefixes.STANDARD, describe.PREFIXES, mapping.PREFIXES,
                  sources.KNOWN_PREFIXES):
        assert table["schema"] == "http://schema.org/"
    found = sparql_prefixes.prefixes_for(None, "https://example.org/")
    assert found["schema"] == "http://schema.org/"
    assert "PREFIX schema: <http://schema.org/>" in sparql_prefixes.prologue(found)


def test_every_prefix_table_is_part_of_the_one_table():
    from publisher import summary

    for name, table in (("sparql.prefixes.STANDARD", sparql_prefixes.STANDARD),
                        ("describe.PREFIXES", describe.PREFIXES),
                        ("summary._PREFIXES", summary._PREFIXES),
                        ("sheets.mapping.PREFIXES", mapping.PREFIXES),
                        ("sources.KNOWN_PREFIXES", sources.KNOWN_PREFIXES)):
        differ = {p: iri for p, iri in table.items() if PREFIXES.get(p) != iri}
        assert not differ, f"{name} differs from publisher.namespaces.PREFIXES: {differ}"


def test_kg_is_the_ontology_under_the_base_and_bound_as_such():
    base = "https://example.org/pankow/"
    assert str(kg(base)) == base + "ontology/"
    assert kg(base).Stadtteilzentrum == kg(base)["Stadtteilzentrum"]
    assert sparql_prefixes.prefixes_for(None, base)["kg"] == base + "ontology/"
    graph = describe.bind_prefixes(Graph(), base)
    bound = {p: str(ns) for p, ns in graph.namespaces()}
    assert bound["kg"] == base + "ontology/" and bound["schema"] == "http://schema.org/"


def test_prefixes_and_bind_take_parts_of_the_table():
    assert prefixes("org", "rdf") == {"org": PREFIXES["org"], "rdf": PREFIXES["rdf"]}
    graph = bind(Graph(bind_namespaces="none"), ("sd", "void"))
    assert {p: str(ns) for p, ns in graph.namespaces()} == prefixes("sd", "void")


def test_no_module_but_namespaces_defines_a_namespace():
    """Nothing calls Namespace( or spells a namespace IRI the table holds (docstrings and
    comments may), and schema.org's namespace is spelled in publisher/namespaces.py only: a
    second spelling is how the https:// one crept in."""
    iris = sorted(PREFIXES.values(), key=len, reverse=True)
    found = []
    for name, tree in _modules():
        if name == "namespaces.py":
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and (
                    getattr(node.func, "id", None) == "Namespace"
                    or getattr(node.func, "attr", None) == "Namespace"):
                found.append(f"{name}:{node.lineno}: Namespace(…)")
        if name in EXCEPTIONS:
            continue
        for node in _strings(tree):
            spelled = [iri for iri in iris if iri in node.value]
            if re.search(r"https?://schema\.org/", node.value):
                spelled.append("schema.org/")
            if spelled:
                found.append(f"{name}:{node.lineno}: {spelled[0]}")
    assert not found, "\n".join(found)


def test_the_exceptions_are_still_needed():
    """An exception that no longer spells a namespace is taken off the list."""
    iris = tuple(PREFIXES.values())
    trees = dict(_modules())
    for name in EXCEPTIONS:
        assert any(iri in node.value for node in _strings(trees[name]) for iri in iris), name
