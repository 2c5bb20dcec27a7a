"""CSV as LibreOffice and Excel write it (issue 23, item 6): UTF-8 with or without a byte
order mark, Windows-1252 and ISO-8859-15, separated by commas or semicolons; the encoding
and separator are detected and named in every message about the file."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef

from publisher.project import Project
from publisher.sheets.convert import Names, convert_tables, load_tables, register_tables
from publisher.sources import load_sources

BASE = "https://w3id.org/kiezgraph/pankow/"
ROOT = Path(__file__).resolve().parents[1]
NAME = URIRef("http://schema.org/name")
TITLE = "Straßenfest in Weißensee: Grüße, Öl & 5 €"


@pytest.fixture(scope="module")
def graph() -> Graph:
    return load_sources(Project(ROOT), BASE).union()


def _csv(separator: str, date: str = "29.05.2026") -> str:
    header = ["Kürzel", "Titel", "Datum", "Veranstalter", "Ort", "Quelle"]
    row = ["strassenfest-2026", TITLE, date, "Verband für sozial-kulturelle Arbeit e.V.",
           "Berlin", "https://www.berlin.de/ba-pankow/"]
    return "\r\n".join(separator.join(cells) for cells in (header, row)) + "\r\n"


def _import(path: Path, graph: Graph):
    tables, problems = load_tables([(path, f"data/{path.name}")])
    names = Names(graph, BASE)
    register_tables(tables, BASE, names)
    converted = convert_tables(tables, BASE, names, {})
    return converted, problems + converted.problems


ENCODINGS = [("utf-8", "UTF-8"), ("utf-8-sig", "UTF-8 (mit BOM / with BOM)"),
             ("cp1252", "Windows-1252"), ("iso8859-15", "ISO-8859-15")]
SEPARATORS = [(";", "Semikolon / separator: semicolon"), (",", "Komma / separator: comma")]


@pytest.mark.parametrize(("codec", "named"), ENCODINGS)
@pytest.mark.parametrize(("separator", "separator_named"), SEPARATORS)
def test_issue23_csv_in_each_encoding_and_separator_is_read(graph, tmp_path, codec, named,
                                                          separator, separator_named):
    title = TITLE.replace(",", "") if separator == "," else TITLE
    path = tmp_path / "termine.csv"
    path.write_bytes(_csv(separator).replace(TITLE, title).encode(codec))
    converted, problems = _import(path, graph)
    assert problems == []
    assert (URIRef(BASE + "id/event/strassenfest-2026"), NAME, Literal(title, lang="de")) \
        in converted.graphs["data/termine.csv"]


@pytest.mark.parametrize(("codec", "named"), ENCODINGS)
def test_issue23_a_message_about_a_csv_file_names_its_encoding_and_separator(
        graph, tmp_path, codec, named):
    path = tmp_path / "termine.csv"
    path.write_bytes(_csv(";", date="irgendwann").encode(codec))
    _converted, problems = _import(path, graph)
    assert [p.text().split(":", 1)[0] for p in problems] == [
        f"data/termine.csv ({named}, Trennzeichen"]
    assert problems[0].where() == (f"data/termine.csv ({named}, Trennzeichen: Semikolon / "
                                   "separator: semicolon) › termine › Zeile 2 › Spalte „Datum“")


def test_issue23_libreoffice_german_default_bytes_are_windows_1252(graph, tmp_path):
    """What LibreOffice writes with „Westeuropa (Windows-1252/WinLatin 1)": „ and “ are bytes
    0x84 and 0x93, which ISO-8859-15 does not have."""
    path = tmp_path / "termine.csv"
    path.write_bytes(_csv(";").replace(TITLE, "„Hoffest“ – Grüße").encode("cp1252"))
    converted, problems = _import(path, graph)
    assert problems == []
    assert (URIRef(BASE + "id/event/strassenfest-2026"), NAME,
            Literal("„Hoffest“ – Grüße", lang="de")) in converted.graphs["data/termine.csv"]
