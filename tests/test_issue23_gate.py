"""The gate catches everyday mistakes (issue 23, item 5): each is a fixture in
tests/fixtures/gate23/, added to a copy of the project's data/, refused (exit 1) with a
German and an English message naming the file and the line of the offending statement (or,
for a workbook, its sheet, row and column). A missing English label is a warning only."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from publisher.cli import main

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "gate23"

END = ("liegt vor dem Beginn", "is before the start")
# fixture -> (exit code, text on the offending line or the place in a workbook, German, English)
CASES: dict[str, tuple[int, str, str, str]] = {
    "event-end-before-start.ttl": (1, "schema:endDate", *END),
    "partial-end-before-start.ttl": (1, "schema:endDate", "Das Ende (2023-12) liegt vor dem "
                                     "Beginn (2024)", "The end (2023-12) is before the start"),
    "time-end-before-start.ttl": (1, "schema:endDate", *END),
    "membership-end-before-start.ttl": (1, "time:hasEnd", *END),
    "organiser-not-agent.ttl": (1, "schema:organizer site:stz-weissensee",
                                "Veranstalter (schema:organizer) ist eine Organisation",
                                "not a place"),
    "place-does-not-exist.ttl": (1, "plc:berln", "diesen gibt es nicht",
                                 "this one does not exist"),
    "opening-date-on-organisation.ttl": (1, "kg:openingDate",
                                         "kg:openingDate gilt nur für kg:Facility",
                                         "kg:openingDate applies only to kg:Facility"),
    "role-wrong-scheme.ttl": (1, "mem:test-mitgliedschaft a org:Membership",
                              "aus dem Schema der Partnerrollen",
                              "from the partner-role scheme"),
    "schema-typo.ttl": (1, "schema:startdate", "Gemeint ist wohl schema:startDate",
                        "Did you mean schema:startDate?"),
    "foaf-typo.ttl": (1, "foaf:nmae", "Gemeint ist wohl foaf:name", "Did you mean foaf:name?"),
    "time-typo.ttl": (1, "time:hasBegining", "Gemeint ist wohl time:hasBeginning",
                      "Did you mean time:hasBeginning?"),
    "date-as-text.ttl": (1, 'time:inXSDDate "2022-05-05" ]',
                         "hat den Datentyp xsd:string; erlaubt: xsd:date",
                         "a date is not text"),
    "required-missing.ttl": (1, "evt:ohne-datum a schema:Event",
                             "hat genau ein belegtes Datum (schema:startDate)",
                             "exactly one sourced date"),
    "example-source.ttl": (1, "<https://example.org/termine>", "auf einer Beispiel-Domain",
                           "on a domain reserved for examples"),
    "english-label-missing.ttl": (0, "evt:nur-deutsch a", "Keine englische Bezeichnung",
                                  "No English label"),
    "veranstaltungen-ende-vor-beginn.csv": (
        1, "veranstaltungen-ende-vor-beginn › Zeile 2 › Spalte „Ende“",
        "Das Ende (2024-04) liegt vor dem Beginn (2024-05)", "is before the start"),
    "veranstaltungen-beispielquelle.csv": (
        1, "veranstaltungen-beispielquelle › Zeile 2 › Spalte „Quelle“",
        "auf einer Beispiel-Domain (example.org, RFC 2606)", "an example row, not a source"),
}


def _where(name: str, needle: str) -> str:
    """file:line for Turtle, file › sheet › row › column for a workbook."""
    if name.endswith(".csv"):  # with how the file was read (issue 23, item 6)
        return f"data/{name} (UTF-8, Trennzeichen: Semikolon / separator: semicolon) › {needle}"
    lines = (FIXTURES / name).read_text(encoding="utf-8").splitlines()
    line = next(n for n, text in enumerate(lines, start=1) if needle in text)
    return f"data/zz-{name}:{line}"


def test_issue23_every_fixture_has_a_case():
    assert {p.name for p in FIXTURES.iterdir()} == set(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_issue23_the_gate_catches_the_mistake(name, runner, workdir):
    code, needle, german, english = CASES[name]
    target = name if name.endswith(".csv") else f"zz-{name}"
    shutil.copy(FIXTURES / name, workdir / "data" / target)
    result = runner.invoke(main, ["validate", "--root", str(workdir)])
    output = result.output
    assert result.exit_code == code, output
    assert "Traceback" not in output, output
    assert _where(name, needle) in output, output
    assert german in output and english in output, output
    if code == 0:
        assert "Warning" in output and "OK:" in output, output


def test_issue23_an_end_that_may_be_the_same_month_is_not_refused(runner, workdir):
    """„März 2024" may lie within „2024": only an end certainly before its start is refused."""
    text = (FIXTURES / "partial-end-before-start.ttl").read_text(encoding="utf-8")
    text = text.replace('"2023-12"^^xsd:gYearMonth', '"2024-03"^^xsd:gYearMonth')
    (workdir / "data" / "zz-partial.ttl").write_text(text, encoding="utf-8")
    result = runner.invoke(main, ["validate", "--root", str(workdir)])
    assert result.exit_code == 0, result.output
