"""Dates as people know them (issue 23, item 4): a year, a month, a day, a day and a time.

Workbooks take „2024", „Mai 2024", „05.05.2022" and „05.05.2022 15:00" (Berlin time, so the
offset of that day), and date cells as LibreOffice saves them; the shapes accept the same as
xsd:gYear, xsd:gYearMonth, xsd:date and xsd:dateTime with an offset, and nothing coarser is
made finer."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef

from publisher.project import Project
from publisher.sheets import mappings
from publisher.sheets.convert import Names, convert_tables, load_tables, register_tables
from publisher.sheets.layout import workbook_sheets
from publisher.sheets.workbook import write_workbook
from publisher.sources import load_shapes, load_sources
from publisher.validation import validate_graph

BASE = "https://example.org/"
ROOT = Path(__file__).resolve().parent.parent
XSD = "http://www.w3.org/2001/XMLSchema#"
START = URIRef("http://schema.org/startDate")


@pytest.fixture(scope="module")
def graph() -> Graph:
    return load_sources(Project(ROOT), BASE).union()


def _row(**given) -> list:
    values = {"slug": "fest", "title": "Fest", "date": "29.05.2026",
              "organizer": "Stadtteilzentrum Weißensee", "location": "Berlin",
              "source": "https://www.berlin.de/quelle", **given}
    return [values.get(c.name) for c in mappings()["event"].columns]


def _import(graph: Graph, tmp_path: Path, suffix: str, rows: list[list]):
    path = tmp_path / f"v.{suffix}"
    write_workbook(path, workbook_sheets(mappings()["event"], graph, BASE, rows))
    tables, problems = load_tables([(path, f"data/v.{suffix}")])
    names = Names(graph, BASE)
    register_tables(tables, BASE, names)
    converted = convert_tables(tables, BASE, names, {})
    return converted, problems + converted.problems


CELLS = [("2024", "2024", "gYear"), ("Mai 2024", "2024-05", "gYearMonth"),
         ("05.2024", "2024-05", "gYearMonth"), ("05.05.2022", "2022-05-05", "date"),
         ("05.05.2022 15:00", "2022-05-05T15:00:00+02:00", "dateTime"),
         ("05.12.2022 09:30", "2022-12-05T09:30:00+01:00", "dateTime"),
         (dt.date(2022, 5, 5), "2022-05-05", "date"),
         (dt.datetime(2022, 5, 5, 15, 0), "2022-05-05T15:00:00+02:00", "dateTime")]


@pytest.mark.parametrize("suffix", ["ods", "xlsx"])
def test_issue23_a_workbook_takes_dates_as_people_write_them(graph, tmp_path, suffix):
    rows = [_row(slug=f"e{i}", date=cell) for i, (cell, _, _) in enumerate(CELLS)]
    converted, problems = _import(graph, tmp_path, suffix, rows)
    assert problems == []
    found = {str(s).rsplit("/", 1)[-1]: o
             for s, o in converted.graphs[f"data/v.{suffix}"].subject_objects(START)}
    assert found == {f"e{i}": Literal(text, datatype=URIRef(XSD + kind))
                     for i, (_, text, kind) in enumerate(CELLS)}


def test_issue23_a_founding_date_takes_no_time_of_day(graph, tmp_path):
    from publisher.sheets.cells import CellProblem, parse_date

    assert parse_date("November 1991") == Literal("1991-11", datatype=URIRef(XSD + "gYearMonth"))
    with pytest.raises(CellProblem) as caught:
        parse_date("01.11.1991 10:00")
    assert "ohne Uhrzeit" in caught.value.de and "no time of day" in caught.value.en


@pytest.mark.parametrize(("value", "ok"), [
    (Literal("2024", datatype=URIRef(XSD + "gYear")), True),
    (Literal("2024-05", datatype=URIRef(XSD + "gYearMonth")), True),
    (Literal("2024-05-05", datatype=URIRef(XSD + "date")), True),
    (Literal("2024-05-05T15:00:00+02:00", datatype=URIRef(XSD + "dateTime")), True),
    (Literal("2024-05-05T15:00:00Z", datatype=URIRef(XSD + "dateTime")), True),
    (Literal("2024-05-05T15:00:00", datatype=URIRef(XSD + "dateTime")), False),
    (Literal("Mai 2024"), False)])
def test_issue23_shapes_take_a_year_month_day_or_instant_with_offset(value, ok):
    shapes = load_shapes(Project(ROOT), BASE)
    data = Graph()
    event = URIRef(BASE + "id/event/x")
    data.add((event, START, value))
    report = validate_graph(data, shapes)
    dated = [v for v in report.violations if v.path and "startDate" in v.path
             and v.message_en.startswith("schema:startDate is")]
    assert (dated == []) is ok, [v.message_en for v in report.violations]
