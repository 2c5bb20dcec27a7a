"""The reasoning check: the OWL 2 RL closure of the graph with the vocabularies it reuses
infers no owl:sameAs between two of our IRIs and no organisation, place or agreement as a
skos:Concept; a violation is reported like a SHACL violation."""

from __future__ import annotations

import shutil
from pathlib import Path

import owlrl
import pytest
from rdflib import Dataset, Graph, URIRef
from rdflib.namespace import OWL, RDF, SKOS

from publisher.build import build
from publisher.cli import main
from publisher.config import load_settings
from publisher.project import Project
from publisher.reasoning import VOCABULARIES, findings
from publisher.sources import load_shapes, load_sources, parse_file
from publisher.validation import validate_sources
from tests.conftest import SHARED

BASE = "https://w3id.org/kiezgraph/pankow/"
ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "reasoning"
ORG_TTL = SHARED / "conformance" / "dcat-ap-de" / "mirror" / "org.ttl"
KG = BASE + "ontology/"
AGREEMENT = URIRef(BASE + "id/agreement/kooperationsvertrag-2022")


def _fixture(name: str) -> Graph:
    graph = Graph()
    parse_file(graph, FIXTURES / f"{name}.ttl", BASE)
    return graph


def test_the_vocabularies_are_shipped_with_their_licences():
    names = {p.name for p in VOCABULARIES.glob("*.ttl")}
    assert {"org.ttl", "prov-o.ttl", "skos-core.ttl", "schemaorg-part.ttl"} <= names
    readme = (VOCABULARIES / "README.md").read_text(encoding="utf-8")
    assert all(name in readme for name in names) and "Licence" in readme


def test_issue16_shipped_graph_has_no_forbidden_conclusions():
    graph = load_sources(Project(ROOT), BASE).union()
    assert findings(graph, BASE) == []


@pytest.mark.slow
@pytest.mark.skipif(not ORG_TTL.is_file(), reason="the shared conformance folder is absent")
def test_issue16_reasoning_over_the_build_with_org_keeps_14_distinct_partners(tmp_path):
    """A researcher's view: the built dump plus the W3C ORG ontology, through owlrl."""
    result = build(Project(ROOT), load_settings(env={}), tmp_path / "out")
    dataset = Dataset()
    dataset.parse(result.release.graph_file, format="nquads")
    graph = Graph()
    for s, p, o, _g in dataset.quads():
        graph.add((s, p, o))
    partners = set(graph.objects(AGREEMENT, URIRef(KG + "partner")))
    assert len(partners) == 14
    graph.parse(ORG_TTL, format="turtle")
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(graph)
    merged = {(a, b) for a, b in graph.subject_objects(OWL.sameAs) if a != b and a in partners
              and b in partners}
    assert merged == set()
    assert not any((p, RDF.type, SKOS.Concept) in graph for p in partners)
    # still 14: none made the same as another under any IRI of ours
    ours = {a for a, b in graph.subject_objects(OWL.sameAs)
            if a != b and str(a).startswith(BASE) and str(b).startswith(BASE)}
    assert ours == set()


def test_issue16_membership_the_wrong_way_makes_members_one_and_is_reported():
    found = findings(_fixture("membership-wrong-way"), BASE)
    assert len(found) == 1, found
    finding = found[0]
    # it points at the statement that causes it: the collaboration's org:hasMembership
    assert str(finding.path) == "http://www.w3.org/ns/org#hasMembership"
    assert str(finding.focus) == BASE + "id/collaboration/test"
    assert str(finding.value).startswith(BASE + "id/membership/test-")
    assert "3 verschiedene IRIs" in finding.message_de
    assert "owl:sameAs" in finding.message_de and "org:organization" in finding.message_de
    assert "turn the statement round" in finding.message_en


def test_issue16_skos_mapping_on_an_organisation_is_reported():
    found = findings(_fixture("exact-match-on-organisation"), BASE)
    assert [(str(f.focus), str(f.path)) for f in found] == [
        (BASE + "id/organisation/a", str(SKOS.exactMatch))]
    assert "skos:Concept" in found[0].message_de and "owl:sameAs" in found[0].message_en


def _break(workdir: Path) -> None:
    """The collaboration's memberships linked from it the wrong way, as before issue 16."""
    path = workdir / "data" / "agreement.ttl"
    text = path.read_text(encoding="utf-8")
    text = text.replace("    dcterms:spatial plc:bezirk-pankow ;\n    org:hasMember",
                        "    dcterms:spatial plc:bezirk-pankow ;\n"
                        "    org:hasMembership mem:nachbarschaftsarbeit-pankow-vska ,\n"
                        "        mem:nachbarschaftsarbeit-pankow-senias ;\n    org:hasMember", 1)
    assert "org:hasMembership mem:" in text
    path.write_text(text, encoding="utf-8")


def test_issue16_a_violation_is_reported_like_a_shacl_one(runner, workdir):
    _break(workdir)
    result = runner.invoke(main, ["validate", "--root", str(workdir)])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert "path:  org:hasMembership" in result.output
    # the line of the offending statement, not the subject's
    lines = (workdir / "data" / "agreement.ttl").read_text(encoding="utf-8").splitlines()
    wrong = next(n for n, line in enumerate(lines, start=1) if "org:hasMembership mem:" in line
                 or (n > 1 and "org:hasMembership" in lines[n - 2] and "mem:" in line))
    found = [int(part.split(":")[1]) for part in result.output.split()
             if part.startswith("data/agreement.ttl:")]
    assert any(n in (wrong, wrong + 1) for n in found), (wrong, found)
    german = result.output.index("  de: Mit OWL-2-RL-Schlüssen")
    assert result.output.index("  en: Reasoning with OWL 2 RL", german) > german
    report = validate_sources(load_sources(Project(workdir), BASE),
                              load_shapes(Project(workdir), BASE))
    shapes = {str(o) for o in report.graph.objects(None, URIRef(
        "http://www.w3.org/ns/shacl#sourceShape"))}
    assert BASE + "shapes/ReasoningCheck" in shapes and not report.conforms


def test_reasoning_is_skipped_above_its_limit_and_the_report_says_so(tmp_path):
    project = Project(tmp_path)
    for part in ("ontology", "data", "shapes"):
        shutil.copytree(ROOT / part, tmp_path / part)
    sources = load_sources(project, BASE)
    shapes = load_shapes(project, BASE)
    skipped = validate_sources(sources, shapes, reasoning_max_triples=10)
    assert skipped.conforms and not skipped.reasoned
    assert "OWL 2 RL" not in skipped.as_text()
    checked = validate_sources(sources, shapes)
    assert checked.conforms and checked.reasoned and "OWL 2 RL" in checked.as_text()
