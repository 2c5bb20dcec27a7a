"""Example rows never publish (issue 23, item 2): a template's example stands on a sheet of
its own that the import never reads, and an example row copied into the data sheet is
refused by the gate, its source being on a domain reserved for examples (RFC 2606)."""

from __future__ import annotations

from pathlib import Path

import openpyxl
from rdflib import URIRef

from publisher.cli import main
from publisher.project import Project
from publisher.sources import load_sources

BASE = "https://w3id.org/kiezgraph/pankow/"
KINDS = ("organisation", "stadtteilzentrum", "event", "membership")


def _templates(runner, workdir: Path) -> None:
    for kind in KINDS:
        result = runner.invoke(main, ["sheet", "template", kind, "--out",
                                      str(workdir / "data" / f"{kind}-vorlage.xlsx"),
                                      "--root", str(workdir)])
        assert result.exit_code == 0, result.output


def test_issue23_templates_left_in_data_publish_nothing(runner, workdir):
    before = len(load_sources(Project(workdir), BASE).union())
    _templates(runner, workdir)
    result = runner.invoke(main, ["validate", "--root", str(workdir)])
    assert result.exit_code == 0, result.output
    graph = load_sources(Project(workdir), BASE).union()
    assert len(graph) == before
    assert not [s for s in graph.subjects() if isinstance(s, URIRef) and "beispiel" in s]


def test_issue23_an_example_row_copied_into_the_data_sheet_is_refused(runner, workdir):
    _templates(runner, workdir)
    path = workdir / "data" / "event-vorlage.xlsx"
    book = openpyxl.load_workbook(path)
    example = [c.value for c in book["Beispiel"][2]]
    for column, value in enumerate(example, start=1):
        book["Veranstaltungen"].cell(row=2, column=column, value=value)
    book.save(path)
    result = runner.invoke(main, ["validate", "--root", str(workdir)])
    assert result.exit_code == 1, result.output
    assert ("data/event-vorlage.xlsx › Veranstaltungen › Zeile 2 › Spalte „Quelle“"
            in result.output), result.output
    assert "Beispiel-Domain (example.org, RFC 2606)" in result.output
    assert "domain reserved for examples" in result.output
