"""A date cell is read as its format shows it; the templates' date columns are text (#23).

LibreOffice (German locale) makes „Mai 2024" typed into a cell a date cell for 1 May 2024;
published as that day, a day nobody said would be invented. So the templates mark their
date columns as text cells (what is typed stays „Mai 2024", which publisher.dates reads as
xsd:gYearMonth), and the readers read a date cell whose format shows no day as the month
(xsd:gYearMonth) or, showing only a year, the year (xsd:gYear). A format with a day keeps
the day, one with a time the date and time.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef

from publisher.dates import parse_when
from publisher.project import Project
from publisher.sheets import mappings, write_kind
from publisher.sheets.convert import Names, convert_tables, load_tables, register_tables
from publisher.sheets.layout import workbook_sheets
from publisher.sheets.limits import MAX_ROWS, WorkbookError
from publisher.sheets.shown import code_shows
from publisher.sheets.workbook import read_workbook, write_workbook
from publisher.sources import load_sources

ROOT = Path(__file__).resolve().parent.parent
BASE = "https://example.org/"
XSD = "http://www.w3.org/2001/XMLSchema#"
START = URIRef("http://schema.org/startDate")
SOFFICE = shutil.which("soffice")

# A date cell, its number format, and the literal it is read as
CELLS = [
    (dt.datetime(2024, 5, 1), "MMMM YYYY", "2024-05", "gYearMonth"),
    (dt.datetime(2024, 5, 1), "MM.YYYY", "2024-05", "gYearMonth"),
    (dt.datetime(2024, 5, 1), "MMM YY", "2024-05", "gYearMonth"),
    (dt.datetime(2024, 1, 1), "YYYY", "2024", "gYear"),
    (dt.datetime(2024, 5, 1), "DD.MM.YYYY", "2024-05-01", "date"),
    (dt.datetime(2024, 5, 1, 15, 0), "DD.MM.YYYY HH:MM", "2024-05-01T15:00:00+02:00",
     "dateTime"),
]


def _expected() -> list[Literal]:
    return [Literal(text, datatype=URIRef(XSD + kind)) for _, _, text, kind in CELLS]


def _xlsx(path: Path) -> Path:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Blatt"
    for number, (value, code, _, _) in enumerate(CELLS, start=1):
        sheet.cell(row=number, column=1, value=value).number_format = code
    book.save(path)
    return path


def _read(path: Path) -> list[Literal | None]:
    rows = read_workbook(path).sheets["Blatt"]
    return [parse_when(row[0]) for row in rows]


@pytest.mark.parametrize(("code", "shows"), [
    ("MMMM YYYY", "month"), ("mm.yyyy", "month"), ("[$-407]mmmm\\ yyyy;@", "month"),
    ("yyyy-mm", "month"), ("YYYY", "year"), ('"Jahr" yyyy', "year"), ("DD.MM.YYYY", None),
    ("dd.mm.yyyy hh:mm", None), ("mmm d, yyyy", None), ("hh:mm", None), ("[h]:mm", None),
    ("mm:ss", None), ("General", None), ("@", None), (None, None)])
def test_issue23_an_xlsx_format_code_says_what_it_shows(code, shows):
    assert code_shows(code) == shows


def test_issue23_an_xlsx_date_cell_is_read_as_its_format_shows_it(tmp_path):
    assert _read(_xlsx(tmp_path / "monate.xlsx")) == _expected()


@pytest.mark.slow
@pytest.mark.skipif(SOFFICE is None, reason="needs LibreOffice (soffice) to convert the file")
def test_issue23_an_ods_date_cell_as_libreoffice_saves_it(tmp_path):
    source = _xlsx(tmp_path / "monate.xlsx")
    subprocess.run([str(SOFFICE), "--headless",
                    f"-env:UserInstallation=file://{tmp_path / 'profile'}",
                    "--convert-to", "ods", "--outdir", str(tmp_path / "out"), str(source)],
                   check=True, capture_output=True, timeout=300)
    assert _read(tmp_path / "out" / "monate.ods") == _expected()


# --- an .ods written by hand: styles in styles.xml and content.xml, by cell, row, column ---

NS = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
      'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
      'xmlns:number="urn:oasis:names:tc:opendocument:xmlns:datastyle:1.0" '
      'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
      'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"')


def _date_style(name: str, parts: str) -> str:
    tags = {"d": "<number:day/><number:text>.</number:text>",
            "m": '<number:month number:textual="true"/><number:text> </number:text>',
            "y": '<number:year number:style="long"/>'}
    return (f'<number:date-style style:name="{name}">{"".join(tags[p] for p in parts)}'
            "</number:date-style>")


def _cell_style(name: str, data: str | None = None, parent: str | None = None) -> str:
    attrs = (f' style:data-style-name="{data}"' if data else "") + \
        (f' style:parent-style-name="{parent}"' if parent else "")
    return f'<style:style style:name="{name}" style:family="table-cell"{attrs}/>'


def _date_cell(value: str, style: str | None = None) -> str:
    named = f' table:style-name="{style}"' if style else ""
    return (f'<table:table-cell{named} office:value-type="date" office:date-value="{value}">'
            f"<text:p>{value}</text:p></table:table-cell>")


def _ods(path: Path, styles: str, common: str, rows: str, columns: str = "") -> Path:
    content = (f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {NS}>'
               f"<office:automatic-styles>{styles}</office:automatic-styles>"
               f'<office:body><office:spreadsheet><table:table table:name="Blatt">{columns}'
               f"{rows}</table:table></office:spreadsheet></office:body>"
               "</office:document-content>")
    styles_xml = (f'<?xml version="1.0" encoding="UTF-8"?><office:document-styles {NS}>'
                  f"<office:styles>{common}</office:styles></office:document-styles>")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"),
                         "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("styles.xml", styles_xml)
        archive.writestr("content.xml", content)
    return path


def test_issue23_an_ods_date_cell_is_read_as_its_style_shows_it(tmp_path):
    """The date style may be the cell's, its parent's (a common style in styles.xml), the
    row's default or the column's default; a cell's own style comes first."""
    styles = (_date_style("N1", "my") + _date_style("N2", "y") + _date_style("N3", "dmy")
              + _cell_style("ce1", "N1") + _cell_style("ce2", "N2") + _cell_style("ce3", "N3")
              + _cell_style("ce4", parent="Monat"))
    common = _date_style("N9", "my") + _cell_style("Monat", "N9")
    rows = "".join(f"<table:table-row>{cell}</table:table-row>" for cell in (
        _date_cell("2024-05-01", "ce1"), _date_cell("2024-01-01", "ce2"),
        _date_cell("2024-05-01", "ce3"), _date_cell("2024-05-01T15:00:00", "ce3"),
        _date_cell("2024-05-01", "ce4"), _date_cell("2024-05-01")))
    rows += ('<table:table-row table:default-cell-style-name="ce2">'
             f'{_date_cell("2024-01-01")}</table:table-row>')
    rows += f'<table:table-row>{_date_cell("2024-05-01", "ce3")}</table:table-row>'
    columns = '<table:table-column table:default-cell-style-name="ce1"/>'
    path = _ods(tmp_path / "monate.ods", styles, common, rows)
    month, year, day = (Literal("2024-05", datatype=URIRef(XSD + "gYearMonth")),
                        Literal("2024", datatype=URIRef(XSD + "gYear")),
                        Literal("2024-05-01", datatype=URIRef(XSD + "date")))
    at_three = Literal("2024-05-01T15:00:00+02:00", datatype=URIRef(XSD + "dateTime"))
    assert _read(path) == [month, year, day, at_three, month, day, year, day]
    # The same rows under a column whose default style shows a month
    path = _ods(tmp_path / "spalte.ods", styles, common, rows, columns)
    assert _read(path) == [month, year, day, at_three, month, month, year, day]


def test_issue23_an_ods_keeps_at_most_max_styles(tmp_path, monkeypatch):
    """The styles an .ods defines are kept within a bound, like its rows and cells."""
    from publisher.sheets import shown

    monkeypatch.setattr(shown, "MAX_STYLES", 3)
    styles = "".join(_date_style(f"N{i}", "my") for i in range(5))
    path = _ods(tmp_path / "viele.ods", styles, "", "<table:table-row/>")
    with pytest.raises(WorkbookError) as caught:
        read_workbook(path)
    assert "styles" in caught.value.en


# --- the import publishes the month; the templates' date columns are text ----------------

@pytest.fixture(scope="module")
def graph() -> Graph:
    return load_sources(Project(ROOT), BASE).union()


def _start_dates(path: Path, graph: Graph) -> list[Literal]:
    tables, problems = load_tables([(path, f"data/{path.name}")])
    names = Names(graph, BASE)
    register_tables(tables, BASE, names)
    converted = convert_tables(tables, BASE, names, {})
    assert problems + converted.problems == []
    return sorted(converted.graphs[f"data/{path.name}"].objects(None, START), key=str)


def test_issue23_a_month_cell_in_an_xlsx_is_published_as_the_month(graph, tmp_path):
    import openpyxl

    mapping = mappings()["event"]
    values = {"slug": "fest", "title": "Fest", "date": None,
              "organizer": "Stadtteilzentrum Weißensee", "location": "Berlin",
              "source": "https://www.berlin.de/quelle"}
    path = tmp_path / "v.xlsx"
    write_workbook(path, workbook_sheets(mapping, graph, BASE,
                                         [[values.get(c.name) for c in mapping.columns]]))
    book = openpyxl.load_workbook(path)
    column = [c.name for c in mapping.columns].index("date") + 1
    cell = book.worksheets[0].cell(row=2, column=column, value=dt.datetime(2024, 5, 1))
    cell.number_format = "MMMM YYYY"  # as LibreOffice shows „Mai 2024" typed in
    book.save(path)
    assert _start_dates(path, graph) == [Literal("2024-05", datatype=URIRef(XSD + "gYearMonth"))]


DATED = {"event": ("date", "end"), "stadtteilzentrum": ("founded",)}


def _letter(index: int) -> str:
    return chr(ord("A") + index)


@pytest.mark.parametrize("kind", sorted(DATED))
def test_issue23_the_xlsx_templates_date_columns_are_text(graph, tmp_path, kind):
    import openpyxl

    mapping = mappings()[kind]
    path = tmp_path / f"{kind}.xlsx"
    write_kind(mapping, graph, BASE, path, export=False)
    sheet = openpyxl.load_workbook(path).worksheets[0]
    for index, column in enumerate(mapping.columns):
        marked = sheet.column_dimensions[_letter(index)].number_format == "@"
        assert marked == (column.name in DATED[kind]), column.name


@pytest.mark.parametrize("kind", sorted(DATED))
def test_issue23_the_ods_templates_date_columns_are_text(graph, tmp_path, kind):
    """Each date column's default cell style is a text style, and every row the import
    reads has a text cell there (LibreOffice gives a column's default only to the rows the
    file writes)."""
    mapping = mappings()[kind]
    path = tmp_path / f"{kind}.ods"
    write_kind(mapping, graph, BASE, path, export=False)
    content = zipfile.ZipFile(path).read("content.xml").decode()
    assert re.search(r'<number:text-style style:name="kgText"[^>]*><number:text-content/>',
                     content)
    assert '<style:style style:name="kgTextCell" style:family="table-cell" ' \
           'style:data-style-name="kgText"' in content
    data = content[:content.index("</table:table>")]
    columns = re.findall(r"<table:table-column [^>]*>", data)
    dated = [c.name in DATED[kind] for c in mapping.columns]
    assert ['default-cell-style-name="kgTextCell"' in c for c in columns] == dated
    last = re.findall(r'<table:table-row table:number-rows-repeated="(\d+)">(.*?)'
                      r"</table:table-row>", data)[-1]
    rows = len(re.findall(r"<table:table-row", data)) - 1
    assert rows + int(last[0]) == MAX_ROWS
    assert ['kgTextCell' in c for c in re.findall(r"<table:table-cell[^>]*>", last[1])] == dated
    assert read_workbook(path).sheets[mapping.title_de] == [[c.title_de for c in
                                                              mapping.columns]]


# --- typed into the templates in LibreOffice (German locale) ------------------------------

BASIC = """Sub Main
  Dim opening(0) As New com.sun.star.beans.PropertyValue
  Dim point(0) As New com.sun.star.beans.PropertyValue
  Dim enter(0) As New com.sun.star.beans.PropertyValue
  Dim saving(0) As New com.sun.star.beans.PropertyValue
  opening(0).Name = "Hidden" : opening(0).Value = True
  point(0).Name = "ToPoint" : enter(0).Name = "StringName" : saving(0).Name = "FilterName"
  helper = createUnoService("com.sun.star.frame.DispatchHelper")
  jobs = Split(Environ("KG_JOBS"), "#")
  For j = 0 To UBound(jobs)
    job = Split(jobs(j), ";")
    doc = StarDesktop.loadComponentFromURL(ConvertToURL(job(0)), "_blank", 0, opening())
    frame = doc.getCurrentController().getFrame()
    cells = Split(Environ("KG_CELLS"), "|")
    For i = 0 To UBound(cells)
      pair = Split(cells(i), "=")
      point(0).Value = CStr(pair(0))
      helper.executeDispatch(frame, ".uno:GoToCell", "", 0, point())
      enter(0).Value = CStr(pair(1))
      helper.executeDispatch(frame, ".uno:EnterString", "", 0, enter())
    Next i
    saving(0).Value = CStr(job(2))
    doc.storeToURL(ConvertToURL(job(1)), saving())
    doc.close(True)
  Next j
End Sub
"""


def _module() -> str:
    """The macro as a Basic module of the profile's Standard library."""
    from xml.sax.saxutils import escape

    return ('<?xml version="1.0" encoding="UTF-8"?>\n<script:module xmlns:script='
            '"http://openoffice.org/2000/script" script:name="Module1" '
            f'script:language="StarBasic">{escape(BASIC, {chr(34): "&quot;"})}'
            "</script:module>\n")


@pytest.mark.slow
@pytest.mark.skipif(SOFFICE is None, reason="needs LibreOffice (soffice) to type the cells")
def test_issue23_what_is_typed_into_a_date_column_stays_what_was_typed(graph, tmp_path):
    """„Mai 2024", „2024" and „05.05.2022" typed (.uno:EnterString, as the input line does)
    into the date column of each template, row 2 to 4 and row 9,999, stay text and are
    published as a month, a year and a day; the same typed into the title column (not
    marked) becomes a date cell, which shows the locale makes dates of such text."""
    profile = tmp_path / "profile"
    env = {**os.environ, "HOME": str(tmp_path), "LANG": "de_DE.UTF-8"}
    command = [str(SOFFICE), "--headless", f"-env:UserInstallation=file://{profile}"]
    subprocess.run([*command, "--terminate_after_init"], env=env, check=True,
                   capture_output=True, timeout=300)
    (profile / "user/basic/Standard/Module1.xba").write_text(_module(), encoding="utf-8")
    mapping = mappings()["event"]
    date = _letter([c.name for c in mapping.columns].index("date"))
    title = _letter([c.name for c in mapping.columns].index("title"))
    cells = {f"{date}2": "Mai 2024", f"{date}3": "2024", f"{date}4": "05.05.2022",
             f"{date}9999": "Juni 2024", f"{title}2": "Mai 2024"}
    jobs = []
    for suffix, store in (("ods", "calc8"), ("xlsx", "Calc MS Excel 2007 XML")):
        write_kind(mapping, graph, BASE, tmp_path / f"template.{suffix}", export=False)
        jobs.append(f"{tmp_path}/template.{suffix};{tmp_path}/typed.{suffix};{store}")
    env |= {"KG_JOBS": "#".join(jobs), "KG_CELLS": "|".join(f"{k}={v}"
                                                              for k, v in cells.items())}
    subprocess.run([*command, "macro:///Standard.Module1.Main"], env=env, check=True,
                   capture_output=True, timeout=300)
    index = {c.name: i for i, c in enumerate(mapping.columns)}
    for suffix in ("ods", "xlsx"):
        rows = read_workbook(tmp_path / f"typed.{suffix}").sheets[mapping.title_de]
        assert [rows[r][index["date"]] for r in (1, 2, 3, 9998)] == [
            "Mai 2024", "2024", "05.05.2022", "Juni 2024"], suffix
        assert isinstance(rows[1][index["title"]], dt.date), \
            f"{suffix}: LibreOffice did not make a date of „Mai 2024“ (locale not German?)"
        assert [parse_when(rows[r][index["date"]]) for r in (1, 2, 3)] == [
            Literal("2024-05", datatype=URIRef(XSD + "gYearMonth")),
            Literal("2024", datatype=URIRef(XSD + "gYear")),
            Literal("2022-05-05", datatype=URIRef(XSD + "date"))], suffix
