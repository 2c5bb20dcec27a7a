"""The SHACL shapes: the shipped graph conforms, and each shape rejects its bad-data fixture.

Each fixture in tests/fixtures/shapes/ is a tiny Turtle document parsed with the same base
as the sources and unioned with the ontology (so sh:targetClass follows rdfs:subClassOf).
A case passes only when a violation comes from the expected shape at the expected path.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, SH

from publisher.project import Project
from publisher.sources import load_shapes, load_sources, parse_file
from publisher.validation import validate_graph, validate_sources

BASE = "https://w3id.org/kiezgraph/pankow/"
ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "shapes"

KS = BASE + "shapes/"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCT = "http://purl.org/dc/terms/"
SCHEMA = "http://schema.org/"
PROV = "http://www.w3.org/ns/prov#"
ORG = "http://www.w3.org/ns/org#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
FOAF = "http://xmlns.com/foaf/0.1/"
KG = BASE + "ontology/"

# fixture name -> (shape that must reject it, result path or None for node-level results)
CASES: dict[str, tuple[str, str | None]] = {
    "source-missing": ("SourceShape", None),
    "source-not-iri": ("SourceShape", DCT + "source"),
    "german-label-missing": ("GermanLabelShape", None),
    "preflabel-missing": ("PrefLabelShape", SKOS + "prefLabel"),
    "preflabel-two-german": ("PrefLabelShape", SKOS + "prefLabel"),
    "ontology-term-undocumented": ("OntologyTermShape", RDFS + "comment"),
    "concept-without-definition": ("ConceptShape", SKOS + "definition"),
    "date-not-xsd-date": ("DateShape", SCHEMA + "foundingDate"),
    "issued-not-a-year": ("IssuedShape", DCT + "issued"),
    "agreement-without-date": ("AgreementDateShape", DCT + "date"),
    "agreement-without-place": ("AgreementPlaceShape", None),
    "agreement-without-signatory": ("AgreementSignatoriesShape", None),
    "agreement-title-without-language": ("AgreementShape", DCT + "title"),
    "signing-without-date": ("SigningShape", SCHEMA + "startDate"),
    "association-without-role": ("AssociationShape", PROV + "hadRole"),
    "collaboration-without-agreement": ("CollaborationShape", KG + "basedOn"),
    "membership-role-without-label": ("MembershipShape", ORG + "role"),
    "partner-not-member": ("PartnerShape", "^" + ORG + "member"),
    "operator-inconsistent": ("FacilityOperatorShape", "^" + KG + "operates"),
    "operates-non-facility": ("OperatesShape", KG + "operates"),
    "address-bad-postcode": ("PostalAddressShape", SCHEMA + "postalCode"),
    "site-without-address": ("SiteShape", SCHEMA + "address"),
    "person-without-name": ("PersonShape", FOAF + "name"),
    "event-without-date": ("EventShape", SCHEMA + "startDate"),
    "change-without-result": ("ChangeEventShape", ORG + "resultingOrganization"),
    "founding-date-twice": ("SingleDateShape", SCHEMA + "foundingDate"),
    "agreement-date-twice": ("AgreementDateShape", DCT + "date"),
    "collaboration-membership-wrong-way": ("CollaborationShape", "^" + ORG + "organization"),
    "event-organiser-a-place": ("EventLinksShape", SCHEMA + "organizer"),
    "membership-role-wrong-scheme": ("CollaborationRoleShape", None),
    "person-role-wrong-scheme": ("PersonRoleShape", None),
    "english-label-missing": ("EnglishLabelShape", None),
}
# Shapes that warn: their fixture is reported, and still conforms (issue 23).
WARNINGS = {"EnglishLabelShape"}


@pytest.fixture(scope="module")
def project() -> Project:
    return Project(ROOT)


@pytest.fixture(scope="module")
def shapes(project) -> Graph:
    return load_shapes(project, BASE)


@pytest.fixture(scope="module")
def ontology(project) -> Graph:
    graph = Graph()
    for path in project.files("ontology"):
        parse_file(graph, path, BASE)
    return graph


def _owner(shapes: Graph, shape):
    """The named shape a (possibly nested, blank) source shape belongs to."""
    seen = set()
    while isinstance(shape, BNode) and shape not in seen:
        seen.add(shape)
        parent = next(shapes.subjects(SH.property, shape), None)
        if parent is None:
            parent = next(shapes.subjects(SH.node, shape), None)
        if parent is None:
            break
        shape = parent
    return shape


def _path(graphs: tuple[Graph, ...], path) -> str | None:
    """A result path as text: an IRI, or '^IRI' for an inverse path."""
    if path is None:
        return None
    if isinstance(path, URIRef):
        return str(path)
    for graph in graphs:
        inverse = graph.value(path, SH.inversePath)
        if inverse is not None:
            return "^" + str(inverse)
    return str(path)


def _results(report, shapes: Graph) -> set[tuple[str, str | None]]:
    found = set()
    for result in report.graph.subjects(RDF.type, SH.ValidationResult):
        source = report.graph.value(result, SH.sourceShape)
        owner = _owner(shapes, source)
        path = _path((report.graph, shapes), report.graph.value(result, SH.resultPath))
        found.add((str(owner).removeprefix(KS), path))
    return found


def _validate_fixture(name: str, ontology: Graph, shapes: Graph):
    data = Graph()
    for triple in ontology:
        data.add(triple)
    parse_file(data, FIXTURES / f"{name}.ttl", BASE)
    return validate_graph(data, shapes)


def test_shipped_graph_conforms(project, shapes):
    report = validate_sources(load_sources(project, BASE), shapes)
    assert report.conforms, report.as_text()


def test_shipped_graph_conforms_under_another_base(project):
    base = "https://example.org/bezirk/"
    report = validate_sources(load_sources(project, base), load_shapes(project, base))
    assert report.conforms, report.as_text()


@pytest.mark.parametrize("name", sorted(CASES))
def test_fixture_is_rejected_by_its_shape(name, ontology, shapes):
    shape, path = CASES[name]
    report = _validate_fixture(name, ontology, shapes)
    assert report.conforms is (shape in WARNINGS)
    found = _results(report, shapes)
    got = sorted(found, key=str)
    assert (shape, path) in found, f"{name}: expected {shape} at {path}, got {got}"


def test_every_targeted_shape_has_a_fixture(shapes):
    targets = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf)
    targeted = {str(s).removeprefix(KS) for t in targets for s in shapes.subjects(t, None)}
    assert targeted == {shape for shape, _path in CASES.values()}


def test_every_fixture_has_a_case():
    assert {p.stem for p in FIXTURES.glob("*.ttl")} == set(CASES)


def test_every_checking_shape_speaks_german_and_english(shapes):
    for shape in set(shapes.subjects(SH.severity, SH.Violation)):
        languages = {m.language for m in shapes.objects(shape, SH.message)
                     if isinstance(m, Literal)}
        assert {"de", "en"} <= languages, shape


def test_violations_point_at_the_fixture_focus(ontology, shapes):
    report = _validate_fixture("source-missing", ontology, shapes)
    messages = {v.message_en for v in report.violations
                if v.node == URIRef(BASE + "id/place/nirgendwo")}
    assert any("needs a source" in m for m in messages), messages
