"""Clear messages in both languages (issue 23, item 7, the gate's and the workbooks' part):
each message once, under its own file; exit 1 for wrong values, 2 for unreadable input;
--help and the build's lines in German and English; the „Art" column takes names, not
qnames; one German name for events."""

from __future__ import annotations

from pathlib import Path

from rdflib import URIRef

from publisher.cli import main
from publisher.labels import label
from publisher.project import Project
from publisher.sources import load_sources

BASE = "https://w3id.org/kiezgraph/pankow/"
HEADER = "Kürzel;Titel;Datum;Veranstalter;Ort;Quelle\r\n"
SOURCE = "https://www.berlin.de/ba-pankow/"


def _events(path: Path, slug: str, date: str) -> None:
    path.write_text(HEADER + f"{slug};Fest;{date};Verband für sozial-kulturelle Arbeit e.V.;"
                    f"Berlin;{SOURCE}\r\n", encoding="utf-8")


def test_issue23_two_workbooks_each_message_once_under_its_own_file(runner, workdir):
    _events(workdir / "data" / "a.csv", "fest-a", "irgendwann")
    _events(workdir / "data" / "b.csv", "fest-b", "nie")
    result = runner.invoke(main, ["validate", "--root", str(workdir)])
    assert result.exit_code == 1, result.output  # wrong values: a violation, not bad input
    output = result.output
    for name, value in (("a", "irgendwann"), ("b", "nie")):
        line = [text for text in output.splitlines() if f"„{value}“ ist kein Datum" in text]
        assert len(line) == 1, output  # once
        assert line[0].startswith(f"Fehler / error: data/{name}.csv (UTF-8"), output
        assert "/ not a date" in line[0], output  # German and English on the line
    assert "Traceback" not in output


def test_issue23_an_unreadable_workbook_exits_2(runner, workdir):
    (workdir / "data" / "kaputt.xlsx").write_bytes(b"not a zip file")
    result = runner.invoke(main, ["validate", "--root", str(workdir)])
    assert result.exit_code == 2, result.output
    assert "data/kaputt.xlsx" in result.output and "cannot be read" in result.output


def test_issue23_help_is_german_and_english(runner):
    result = runner.invoke(main, ["--help"])
    assert "Linked Open Data" in result.output and "linked open data" in result.output
    assert "Verstöße / violations" in result.output
    for command, german, english in (("validate", "Prüfen", "check"),
                                     ("build", "veröffentlichen", "Validate"),
                                     ("sheet", "Tabellen", "Workbooks"),
                                     ("serve", "Ausliefern", "Serve"),
                                     ("load", "Store laden", "Load the current build"),
                                     ("harden-sql", "härtet", "hardens"),
                                     ("catalog", "Katalog ausgeben", "Print the DCAT-AP.de")):
        text = runner.invoke(main, [command, "--help"]).output
        assert german in text and english in text, text


def test_issue23_the_kind_column_takes_names_not_qnames(runner, workdir):
    path = workdir / "data" / "partner.csv"
    path.write_text("Kürzel;Name;Art;Quelle\r\nverein-neu;Verein Neu e.V.;"
                    f"Formale Organisation, Nichtregierungsorganisation;{SOURCE}\r\n",
                    encoding="utf-8")
    graph = load_sources(Project(workdir), BASE).union()
    types = set(graph.objects(URIRef(BASE + "id/organisation/verein-neu"),
                              URIRef("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")))
    assert types == {URIRef("http://www.w3.org/ns/org#FormalOrganization"),
                     URIRef("http://schema.org/NGO")}


def test_issue23_events_have_one_german_name():
    assert label("http://schema.org/Event", "de") == "Veranstaltung"
