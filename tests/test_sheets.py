"""Workbooks as sources (issue 17): mappings, import, errors in the maintainer's terms, export."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import RDF

from publisher.project import Project
from publisher.sheets import KINDS, SheetError, mappings, write_kind
from publisher.sheets.convert import Names, convert_tables, load_tables, register_tables
from publisher.sheets.layout import things_of, workbook_sheets
from publisher.sheets.mapping import expand
from publisher.sheets.workbook import SheetSpec, read_workbook, write_workbook
from publisher.sources import load_sources

BASE = "https://example.org/"
ROOT = Path(__file__).resolve().parent.parent
SCHEMA = "http://schema.org/"
XSD_DATE = URIRef("http://www.w3.org/2001/XMLSchema#date")  # not rdflib's XSD: pytest probes it


@pytest.fixture(scope="module")
def graph() -> Graph:
    return load_sources(Project(ROOT), BASE).union()


def _import(path: Path, graph: Graph, taken=None):
    tables, problems = load_tables([(path, f"data/{path.name}")])
    names = Names(graph, BASE)
    register_tables(tables, BASE, names)
    converted = convert_tables(tables, BASE, names, taken or {})
    return converted, problems + converted.problems


def _projection(graph: Graph, kind: str) -> Graph:
    """What the layout of a kind carries of the current things: its columns' triples."""
    mapping = mappings()[kind]
    out = Graph()
    for subject in things_of(graph, mapping, BASE):
        for column in mapping.columns:
            for prop in column.properties:
                for o in graph.objects(subject, expand(prop, BASE)):
                    if column.lang and isinstance(o, Literal) and o.language != column.lang:
                        continue
                    if column.choices and o not in {expand(v, BASE)
                                                    for v in column.choices.values()}:
                        continue
                    out.add((subject, expand(prop, BASE), o))
                    if column.inverse:
                        out.add((o, expand(column.inverse, BASE), subject))
        for t in mapping.types:
            out.add((subject, RDF.type, expand(t, BASE)))
    return out


@pytest.mark.parametrize("suffix", ["ods", "xlsx"])
@pytest.mark.parametrize("kind", KINDS)
def test_issue17_export_import_round_trip_is_isomorphic(graph, tmp_path, kind, suffix):
    out = tmp_path / f"{kind}.{suffix}"
    count = write_kind(mappings()[kind], graph, BASE, out, export=True)
    assert count == len(things_of(graph, mappings()[kind], BASE)) > 0
    converted, problems = _import(out, graph)
    assert problems == []
    imported = Graph()
    for g in converted.graphs.values():
        imported += g
    assert isomorphic(imported, _projection(graph, kind))


def test_issue17_events_exclude_series_and_organisations_include_subclasses(graph):
    events = things_of(graph, mappings()["event"], BASE)
    assert URIRef(BASE + "id/event/fest-der-nachbarn-berlin") not in events
    organisations = things_of(graph, mappings()["organisation"], BASE)
    assert URIRef(BASE + "id/organisation/kis-pankow") in organisations


def _event_book(path: Path, rows: list[list], graph: Graph, header=None) -> Path:
    mapping = mappings()["event"]
    sheets = workbook_sheets(mapping, graph, BASE, rows)
    if header is not None:
        sheets[0].rows[0] = header
    write_workbook(path, sheets)
    return path


SOURCE = "https://example.org/quelle"


def _row(**given) -> list:
    mapping = mappings()["event"]
    values = {"slug": "fest-2026", "title": "Fest", "date": "29.05.2026",
              "organizer": "Stadtteilzentrum Weißensee", "location": "Berlin",
              "source": SOURCE, **given}
    return [values.get(c.name) for c in mapping.columns]


@pytest.mark.parametrize("suffix", ["ods", "xlsx"])
def test_issue17_dates_as_spreadsheet_dates_and_as_text(graph, tmp_path, suffix):
    rows = [_row(slug="a", date=dt.date(2026, 5, 29)), _row(slug="b", date="05.05.2022"),
            _row(slug="c", date="2022-05-06"), _row(slug="d", date="5.5.2022")]
    converted, problems = _import(_event_book(tmp_path / f"v.{suffix}", rows, graph), graph)
    assert problems == []
    g = converted.graphs["data/v." + suffix]
    start = URIRef(SCHEMA + "startDate")
    dates = {str(s).rsplit("/", 1)[-1]: o for s, o in g.subject_objects(start)}
    assert dates == {"a": Literal("2026-05-29", datatype=XSD_DATE),
                     "b": Literal("2022-05-05", datatype=XSD_DATE),
                     "c": Literal("2022-05-06", datatype=XSD_DATE),
                     "d": Literal("2022-05-05", datatype=XSD_DATE)}
    # every row's source column became dcterms:source
    source = URIRef("http://purl.org/dc/terms/source")
    assert all((s, source, URIRef(SOURCE)) in g for s in g.subjects(start))


ERRORS = [
    ("date", {"date": "31.02.2026"}, "Datum",
     "„31.02.2026“ ist kein Datum: erlaubt sind „2024“, „Mai 2024“, „05.05.2022“ oder "
     "„05.05.2022 15:00“ (Berliner Zeit) / not a date"),
    ("empty", {"title": None}, "Titel", "darf nicht leer sein (Pflichtfeld) / must not be empty"),
    ("traeger", {"organizer": "Verein, den es nicht gibt"}, "Veranstalter",
     "unbekannter Name „Verein, den es nicht gibt“"),
    ("url", {"source": "www.example.org/ohne-schema"}, "Quelle",
     "ist keine URL (sie muss mit https:// oder http:// beginnen) / not a URL"),
    ("slug", {"slug": "Fest 2026"}, "Kürzel", "ist kein gültiges Kürzel"),
    ("status", {"status": "vielleicht"}, "Status", "ist nicht vorgesehen"),
]


@pytest.mark.parametrize(("name", "given", "column", "message"), ERRORS,
                         ids=[e[0] for e in ERRORS])
def test_issue17_each_error_names_file_sheet_row_and_column(graph, tmp_path, name, given,
                                                            column, message):
    rows = [_row(slug="gut"), _row(**given)]
    path = _event_book(tmp_path / "veranstaltungen.ods", rows, graph)
    _converted, problems = _import(path, graph)
    assert len(problems) == 1, [p.text() for p in problems]
    text = problems[0].text()
    assert text.startswith(f"data/veranstaltungen.ods › Veranstaltungen › Zeile 3 › "
                           f"Spalte „{column}“: ")
    assert message in text


def test_issue17_duplicate_slug_in_the_sheet_and_against_turtle(graph, tmp_path):
    rows = [_row(slug="fest"), _row(slug="fest"),
            _row(slug="fest-der-nachbarn-berlin-2016")]
    path = _event_book(tmp_path / "veranstaltungen.xlsx", rows, graph)
    taken = {URIRef(BASE + "id/event/fest-der-nachbarn-berlin-2016"): "data/events.ttl"}
    _converted, problems = _import(path, graph, taken)
    texts = [p.text() for p in problems]
    assert texts == [
        "data/veranstaltungen.xlsx › Veranstaltungen › Zeile 3 › Spalte „Kürzel“: Kürzel "
        "„fest“ kommt doppelt vor (zuerst data/veranstaltungen.xlsx › Veranstaltungen › "
        "Zeile 2) / duplicate slug",
        "data/veranstaltungen.xlsx › Veranstaltungen › Zeile 4 › Spalte „Kürzel“: Kürzel "
        "„fest-der-nachbarn-berlin-2016“ ist schon vergeben (in data/events.ttl) / "
        "slug already in use"]


def test_issue17_unknown_and_missing_columns(graph, tmp_path):
    mapping = mappings()["event"]
    header = [c.title_de for c in mapping.columns]
    header[header.index("Datum")] = "Wann"
    path = _event_book(tmp_path / "v.ods", [_row()], graph, header=header)
    _converted, problems = _import(path, graph)
    assert {p.text() for p in problems} == {
        "data/v.ods › Veranstaltungen › Zeile 1 › Spalte „Wann“: unbekannte Spalte / "
        "unknown column",
        "data/v.ods › Veranstaltungen › Zeile 1 › Spalte „Datum“: Pflichtspalte fehlt / "
        "required column missing"}


def test_issue17_renamed_file_and_sheet_is_recognised_by_its_meta_sheet(graph, tmp_path):
    sheets = workbook_sheets(mappings()["event"], graph, BASE, [_row()])
    sheets[0].name = "Meine Termine"
    write_workbook(tmp_path / "irgendwas.xlsx", sheets)
    converted, problems = _import(tmp_path / "irgendwas.xlsx", graph)
    assert problems == []
    assert len(converted.graphs["data/irgendwas.xlsx"]) > 5


def test_issue17_csv_is_recognised_by_its_header(graph, tmp_path):
    mapping = mappings()["event"]
    path = tmp_path / "termine.csv"
    header = ";".join(c.title_de for c in mapping.columns)
    path.write_text(header + "\n" + ";".join(v or "" for v in _row()) + "\n", encoding="utf-8")
    converted, problems = _import(path, graph)
    assert problems == []
    assert (URIRef(BASE + "id/event/fest-2026"), RDF.type, URIRef(SCHEMA + "Event")) \
        in converted.graphs["data/termine.csv"]


def test_issue17_a_workbook_of_another_kind_is_refused(graph, tmp_path):
    write_workbook(tmp_path / "liste.ods", [SheetSpec("Tabelle1", [["a", "b"], [1, 2]])])
    _converted, problems = _import(tmp_path / "liste.ods", graph)
    assert [p.text() for p in problems] == [
        "data/liste.ods: ist keine kiezgraph-Tabelle: Blatt „kiezgraph“ mit der Art fehlt und "
        "keine Kopfzeile passt / not a kiezgraph workbook: no 'kiezgraph' sheet naming its "
        "kind and no header row fits"]


def test_issue17_template_has_lists_help_example_and_meta(graph, tmp_path):
    import openpyxl

    out = tmp_path / "stz.xlsx"
    write_kind(mappings()["stadtteilzentrum"], graph, BASE, out, export=False)
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["Stadtteilzentren", "Beispiel", "Hilfe", "Listen", "kiezgraph"]
    data = book["Stadtteilzentren"]
    assert data["D1"].value == "Träger" and "operator" in data["D1"].comment.text
    [validation] = data.data_validations.dataValidation
    assert validation.formula1.startswith("'Listen'!$A$2")
    traeger = [r[0] for r in book["Listen"].iter_rows(min_row=2, values_only=True)]
    assert "FreiZeitHaus e.V." in traeger and "Albatros gGmbH" in traeger
    assert data["D2"].value is None  # the data sheet starts empty (issue 23)
    assert book["Beispiel"]["D2"].value == traeger[0]  # the example row, on its own sheet
    assert book["kiezgraph"].sheet_state == "hidden"
    assert read_workbook(out).sheets["kiezgraph"][1] == ["Art / kind", "stadtteilzentrum"]


def test_issue17_a_wrong_cell_refuses_the_project(tmp_path):
    project = tmp_path / "kg"
    for part in ("ontology", "data", "shapes"):
        shutil.copytree(ROOT / part, project / part)
    graph = load_sources(Project(project), BASE).union()
    _event_book(project / "data" / "veranstaltungen.ods", [_row(date="morgen")], graph)
    with pytest.raises(SheetError) as caught:
        load_sources(Project(project), BASE)
    assert str(caught.value).startswith(
        "data/veranstaltungen.ods › Veranstaltungen › Zeile 2 › Spalte „Datum“: „morgen“ ist "
        "kein Datum")


SOFFICE = shutil.which("soffice")


@pytest.mark.slow
@pytest.mark.skipif(SOFFICE is None, reason="needs Debian's libreoffice-calc-nogui (soffice)")
@pytest.mark.parametrize(("made", "target"), [("xlsx", "ods"), ("ods", "xlsx")])
def test_issue17_what_libreoffice_writes_is_read(graph, tmp_path, made, target):
    source = _event_book(tmp_path / f"v.{made}", [_row(date=dt.date(2026, 5, 29))], graph)
    outdir = tmp_path / "lo"
    subprocess.run([SOFFICE, "--headless", f"-env:UserInstallation=file://{tmp_path}/profile",
                    "--convert-to", target, "--outdir", str(outdir), str(source)],
                   check=True, capture_output=True, timeout=180)
    converted, problems = _import(outdir / f"v.{target}", graph)
    assert problems == []
    g = next(iter(converted.graphs.values()))
    assert (URIRef(BASE + "id/event/fest-2026"), URIRef(SCHEMA + "startDate"),
            Literal("2026-05-29", datatype=XSD_DATE)) in g


def _fill(path: Path, values: dict) -> None:
    """Type values into the example row of a template, by German column title."""
    import openpyxl

    book = openpyxl.load_workbook(path)
    ws = book.worksheets[0]
    titles = [c.value for c in ws[1]]
    for c in range(1, len(titles) + 1):
        ws.cell(row=2, column=c).value = None
    for title, value in values.items():
        cell = ws.cell(row=2, column=titles.index(title) + 1, value=value)
        if isinstance(value, dt.date):
            cell.number_format = "DD.MM.YYYY"
    book.save(path)


@pytest.mark.slow
@pytest.mark.live
@pytest.mark.skipif(SOFFICE is None, reason="needs Debian's libreoffice-calc-nogui (soffice)")
def test_issue17_done_when_a_maintainer_adds_an_event_and_an_organisation(tmp_path):
    """Template -> fill in -> saved by LibreOffice -> build -> everywhere it should be."""
    import httpx
    import icalendar
    import vobject
    from click.testing import CliRunner

    from publisher.cli import main
    from publisher.config import load_settings
    from publisher.web import create_app
    from tests.conftest import LiveServer

    work = tmp_path / "kg"
    for part in ("ontology", "data", "shapes"):
        shutil.copytree(ROOT / part, work / part)
    out, runner = tmp_path / "out", CliRunner()
    assert runner.invoke(main, ["build", "--root", str(work), "--out", str(out)]).exit_code == 0
    edits = tmp_path / "edits"
    edits.mkdir()
    for kind in ("organisation", "event"):
        result = runner.invoke(main, ["sheet", "template", kind, "--out",
                                      str(edits / f"{kind}.xlsx"), "--root", str(work)])
        assert result.exit_code == 0, result.output
    _fill(edits / "organisation.xlsx", {
        "Kürzel": "nachbarschaftsverein-test", "Name": "Nachbarschaftsverein Test e.V.",
        "Webseite": "https://www.berlin.de/ba-pankow/",
        "Quelle": "https://www.berlin.de/ba-pankow/"})  # example.org is refused (issue 23)
    _fill(edits / "event.xlsx", {
        "Kürzel": "hoffest-2027", "Titel": "Hoffest", "Datum": dt.date(2027, 6, 4),
        "Veranstalter": "Nachbarschaftsverein Test e.V.", "Ort": "Berlin",
        "Status": "findet statt", "Quelle": "https://www.berlin.de/ba-pankow/"})
    # LibreOffice saves the edited copies as .ods, with the date as a real spreadsheet date
    subprocess.run([SOFFICE, "--headless", f"-env:UserInstallation=file://{tmp_path}/profile",
                    "--convert-to", "ods", "--outdir", str(edits / "lo"),
                    str(edits / "organisation.xlsx"), str(edits / "event.xlsx")],
                   check=True, capture_output=True, timeout=300)
    assert b'office:date-value="2027-06-04' in __import__("zipfile").ZipFile(
        edits / "lo" / "event.ods").read("content.xml")
    # the maintainer renames the files: the workbooks still say what they hold
    shutil.copy(edits / "lo" / "organisation.ods", work / "data" / "neue-partner.ods")
    shutil.copy(edits / "lo" / "event.ods", work / "data" / "termine 2027.ods")
    assert runner.invoke(main, ["validate", "--root", str(work)]).exit_code == 0
    result = runner.invoke(main, ["build", "--root", str(work), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "neu: 1 Organisation (Nachbarschaftsverein Test e.V.)" in result.output
    assert "neu: 1 Veranstaltung (Hoffest)" in result.output

    app = create_app(load_settings(env={}, overrides={"out": str(out)}))
    with LiveServer(app) as server:
        event = f"{server.url}/id/event/hoffest-2027"
        found = Graph().parse(event)  # dereferenceable: 303 to its document
        assert (URIRef(event), URIRef(SCHEMA + "startDate"),
                Literal("2027-06-04", datatype=XSD_DATE)) in found
        organisation = f"{server.url}/id/organisation/nachbarschaftsverein-test"
        assert (URIRef(event), URIRef(SCHEMA + "organizer"), URIRef(organisation)) in found
        assert len(Graph().parse(organisation)) > 3
        ask = httpx.get(f"{server.url}/sparql", headers={"Accept": "application/json"},
                        params={"query": f"ASK {{ <{BASE_PUBLISHED}id/event/hoffest-2027> "
                                         f"<{SCHEMA}startDate> ?d . <{BASE_PUBLISHED}id/"
                                         "organisation/nachbarschaftsverein-test> ?p ?o }"})
        assert ask.json()["boolean"] is True
        page = httpx.get(f"{server.url}/events").text
        assert page.index("Hoffest") < page.index("Vergangene Veranstaltungen")  # upcoming
        feed = httpx.get(f"{server.url}/events.ics").content
        uids = {str(c["UID"]) for c in icalendar.Calendar.from_ical(feed).walk("VEVENT")}
        assert event in uids or f"{BASE_PUBLISHED}id/event/hoffest-2027" in uids
        parsed = vobject.readOne(feed.decode())
        assert any("hoffest-2027" in e.uid.value for e in parsed.vevent_list)
        changes = httpx.get(f"{server.url}/changes").text
        assert "neu: 1 Organisation (Nachbarschaftsverein Test e.V.)" in changes
        assert "graph/data/termine%202027.ods" in changes


BASE_PUBLISHED = "https://w3id.org/kiezgraph/pankow/"


def test_issue17_unreadable_and_oversized_workbooks_are_refused_in_words(graph, tmp_path):
    (tmp_path / "kaputt.xlsx").write_bytes(b"not a zip file")
    _converted, problems = _import(tmp_path / "kaputt.xlsx", graph)
    assert [p.where() for p in problems] == ["data/kaputt.xlsx"]
    assert problems[0].de.startswith("kann nicht gelesen werden")
    # a crafted .ods: one cell after a billion empty ones is refused, not allocated
    write_workbook(tmp_path / "gross.ods", [SheetSpec("A", [["x"]])])
    import zipfile

    with zipfile.ZipFile(tmp_path / "gross.ods") as src:
        parts = {n: src.read(n) for n in src.namelist()}
    content = parts["content.xml"].decode()
    content = content.replace("<table:table-cell", '<table:table-cell '
                              'table:number-columns-repeated="1000000000"/><table:table-cell', 1)
    parts["content.xml"] = content.encode()
    with zipfile.ZipFile(tmp_path / "gross.ods", "w") as out:
        for name, data in parts.items():
            out.writestr(name, data)
    _converted, problems = _import(tmp_path / "gross.ods", graph)
    assert [(p.where(), p.de, p.en) for p in problems] == [(
        "data/gross.ods › A › Zeile 1",
        "zu groß: mehr als 100 Spalten (Grenze: 100 Spalten je Blatt; siehe SECURITY.md)",
        "too large: more than 100 columns (limit: 100 columns per sheet; see SECURITY.md)")]


def test_issue17_membership_roles_come_from_the_skos_scheme(graph, tmp_path):
    from rdflib.namespace import SKOS

    out = tmp_path / "m.ods"
    write_kind(mappings()["membership"], graph, BASE, out, export=False)
    lists = read_workbook(out).sheets["Listen"]
    column = lists[0].index("Rolle")
    offered = {row[column] for row in lists[1:] if column < len(row) and row[column]}
    roles = {str(label) for name in ("partner-role", "position")
             for concept in graph.subjects(SKOS.inScheme, URIRef(BASE + f"id/scheme/{name}"))
             for label in graph.objects(concept, SKOS.prefLabel) if label.language == "de"}
    assert offered == roles and "Träger eines Stadtteilzentrums" in offered
    assert any("Bezirksstadt" in role for role in offered)  # a person's position too


def test_issue17_unknown_traeger_and_empty_slug_in_a_stadtteilzentrum_sheet(graph, tmp_path):
    mapping = mappings()["stadtteilzentrum"]

    def row(**given):
        values = {"slug": "stz-neu", "name": "Stadtteilzentrum Neu", "source": SOURCE, **given}
        return [values.get(c.name) for c in mapping.columns]

    rows = [row(operator="Unbekannter Träger e.V."), row(slug=None, name="Ohne Kürzel")]
    write_workbook(tmp_path / "zentren.xlsx", workbook_sheets(mapping, graph, BASE, rows))
    _converted, problems = _import(tmp_path / "zentren.xlsx", graph)
    assert [p.text() for p in problems] == [
        "data/zentren.xlsx › Stadtteilzentren › Zeile 2 › Spalte „Träger“: unbekannter Name "
        "„Unbekannter Träger e.V.“: keine Organisation dieses Namens im Graphen / unknown "
        "name: no organisation of that name in the graph",
        "data/zentren.xlsx › Stadtteilzentren › Zeile 3 › Spalte „Kürzel“: darf nicht leer "
        "sein (Pflichtfeld) / must not be empty"]


@pytest.mark.parametrize("suffix", ["ods", "xlsx"])
def test_issue17_text_that_looks_like_a_formula_stays_text(tmp_path, suffix):
    path = tmp_path / f"f.{suffix}"
    write_workbook(path, [SheetSpec("A", [["Anmerkung"], ['=HYPERLINK("http://x")']])])
    assert read_workbook(path).sheets["A"][1] == ['=HYPERLINK("http://x")']
