"""Issue 16: the gate catches what maintainers get wrong, each mistake with a bilingual
message (German first, then English) naming the file, the line of the offending statement,
what is wrong and how to fix it; exit 1 for a mistake in the data, 2 for unreadable input,
never a traceback. Each mistake is a fixture in tests/fixtures/gate/, added to a copy of the
project's data/ as data/zz-<name>.ttl.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from rdflib import Graph

from publisher.cli import main
from publisher.terms import check_terms, slug_for

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "gate"
BASE = "https://w3id.org/kiezgraph/pankow/"

# fixture -> (exit code, text on the offending line, German text, English text)
CASES: dict[str, tuple[int, str, str, str]] = {
    "kg-class-typo": (1, "kg:Stadteilzentrum",
                      "kg:Stadteilzentrum ist kein Begriff der Ontologie (ontology/). "
                      "Gemeint ist wohl kg:Stadtteilzentrum.",
                      "Did you mean kg:Stadtteilzentrum?"),
    "kg-property-typo": (1, "kg:operatedby",
                         "kg:operatedby ist kein Begriff der Ontologie",
                         "Did you mean kg:operatedBy?"),
    "undeclared-namespace": (1, "ex:opened",
                             "den die Ontologie nicht als wiederverwendet angibt",
                             "which the ontology does not declare it reuses"),
    "agreement-date-twice": (1, '"2022-05-06"^^xsd:date',
                             "Eine Kooperationsvereinbarung hat genau ein Datum",
                             "a second, different date is an error"),
    "founding-date-twice": (1, '"1991-11-02"^^xsd:date',
                            "Höchstens ein Gründungsdatum (schema:foundingDate)",
                            "remove the second, different date"),
    "slug-not-ascii": (1, "straßenfest-güte",
                       "Slugs sind klein geschriebenes ASCII: z. B. "
                       "<id/organisation/strassenfest-guete>",
                       "Slugs are lower-case ASCII"),
    "date-wrong-form": (1, '"05.05.2022"^^xsd:date',
                        "„05.05.2022“ ist kein gültiger Wert von xsd:date. Richtig ist "
                        'JJJJ-MM-TT, z. B. "2022-05-05"^^xsd:date.',
                        "The right form is YYYY-MM-DD"),
    "undefined-prefix": (2, "foaf:name",
                         "das Präfix „foaf:“ ist nicht deklariert",
                         "add `@prefix foaf: <http://xmlns.com/foaf/0.1/> .` at the top"),
    "base-iri": (1, "<https://example.org/somewhere>",
                 "liegt nicht unter der Basis des Projekts",
                 "is not under the project's base"),
    "unclosed-string": (2, '"Test ;',
                        "eine Zeichenkette wird in ihrer Zeile nicht geschlossen",
                        'close it with " on the same line'),
}


def _line_of(name: str, needle: str) -> int:
    lines = (FIXTURES / f"{name}.ttl").read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, start=1) if needle in line)


def test_every_fixture_has_a_case():
    assert {p.stem for p in FIXTURES.glob("*.ttl")} == set(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_issue16_the_gate_catches_the_mistake(name, runner, workdir):
    code, needle, german, english = CASES[name]
    shutil.copy(FIXTURES / f"{name}.ttl", workdir / "data" / f"zz-{name}.ttl")
    result = runner.invoke(main, ["validate", "--root", str(workdir)])
    output = result.output
    assert result.exit_code == code, output
    assert "Traceback" not in output, output
    assert result.exception is None or isinstance(result.exception, SystemExit), output
    assert f"data/zz-{name}.ttl:{_line_of(name, needle)}" in output, output
    assert german in output and english in output, output
    # German first, then English
    assert output.index(german) < output.index(english), output


def test_issue16_an_ill_typed_date_is_reported_once_on_its_own_line(runner, workdir):
    shutil.copy(FIXTURES / "date-wrong-form.ttl", workdir / "data" / "zz.ttl")
    result = runner.invoke(main, ["validate", "--root", str(workdir)])
    assert "FEHLER: 1 Verstoß" in result.output  # not also as a sh:datatype violation
    assert result.output.count("05.05.2022") == 3  # the value, the German and English text
    assert "schema1:" not in result.output and "Failed to convert" not in result.output


def test_issue16_validate_inside_data_checks_the_project_above(runner, workdir, monkeypatch):
    shutil.copy(FIXTURES / "kg-class-typo.ttl", workdir / "data" / "zz.ttl")
    monkeypatch.chdir(workdir / "data")
    result = runner.invoke(main, ["validate"])
    assert result.exit_code == 1, result.output
    assert f"Projektordner: {workdir.resolve()}" in result.output
    assert f"project folder: {workdir.resolve()} (found above the current folder)" in \
        result.output


def test_issue16_validate_says_which_folder_it_checked(runner, project):
    result = runner.invoke(main, ["validate", "--root", str(project.root)])
    assert result.exit_code == 0
    assert f"project folder: {project.root} (given by --root" in result.output


def test_shipped_graph_uses_only_known_terms():
    from publisher.project import Project
    from publisher.sources import load_sources

    sources = load_sources(Project(ROOT), BASE)
    ontology = Graph()
    for path in Project(ROOT).files("ontology"):
        ontology.parse(path, format="turtle", publicID=BASE)
    assert check_terms(sources.union(), ontology, BASE) == []


def test_slug_for():
    assert slug_for("Straßenfest Güte") == "strassenfest-guete"
    assert slug_for("Weißensee") == "weissensee"
    assert slug_for("Café Olé!") == "cafe-ole"


def test_an_ontology_that_declares_no_vocabulary_gets_no_namespace_check():
    data = Graph().parse(data=f"""
        @prefix ex: <http://example.org/vocab#> .
        <{BASE}id/organisation/a> ex:opened "2001" ; <{BASE}ontology/operatedby> <{BASE}x> .
        """, format="turtle")
    ontology = Graph().parse(data=f"<{BASE}ontology/operatedBy> a "
                                  "<http://www.w3.org/2002/07/owl#ObjectProperty> .",
                             format="turtle")
    problems = check_terms(data, ontology, BASE)
    assert [str(p.path) for p in problems] == [BASE + "ontology/operatedby"]
