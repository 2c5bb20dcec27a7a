"""Real file names (issue 23, item 3): a thing from a workbook is recorded with the real
file, sheet and row it came from, never as a Turtle file of the graph's name
(data/veranstaltungen.ods.ttl does not exist)."""

from __future__ import annotations

import re

import pytest

from publisher.cli import main
from publisher.releases import current_release

ROW = ("Kürzel;Titel;Datum;Veranstalter;Ort;Quelle\r\n"
       "hoffest-2024;Hoffest;Mai 2024;Verband für sozial-kulturelle Arbeit e.V.;Berlin;"
       "https://www.berlin.de/ba-pankow/\r\n")


@pytest.mark.slow  # it runs `kiezgraph build`
def test_issue23_a_release_names_the_workbook_sheet_and_row_of_each_thing(runner, workdir,
                                                                          tmp_path):
    (workdir / "data" / "veranstaltungen.csv").write_bytes(ROW.encode("cp1252"))
    out = tmp_path / "out"
    result = runner.invoke(main, ["build", "--root", str(workdir), "--out", str(out)])
    assert result.exit_code == 0, result.output
    release = current_release(out)
    assert release is not None
    base = release.info["base_uri"]
    assert release.file_of(base + "graph/data/veranstaltungen.csv") == "data/veranstaltungen.csv"
    assert release.file_of(base + "graph/data/events") == "data/events.ttl"
    assert release.row_of(base + "id/event/hoffest-2024") == (
        "data/veranstaltungen.csv › veranstaltungen › Zeile 2")
    assert release.row_of(base + "id/event/fest-der-nachbarn-berlin-2016") is None
    assert not any(name.endswith((".csv.ttl", ".ods.ttl", ".xlsx.ttl"))
                   for name in release.info["sources"].values())


@pytest.mark.slow  # it runs `kiezgraph build`
def test_issue23_every_page_names_the_real_file_sheet_and_row(runner, workdir, tmp_path):
    """A workbook's thing names its workbook, sheet and row, in the page's language; a
    Turtle thing its .ttl file; the workbook's named graph its workbook; no page a file of
    the graph's name with .ttl added."""
    from publisher.config import load_settings
    from publisher.web import create_app

    (workdir / "data" / "veranstaltungen.csv").write_bytes(ROW.encode("cp1252"))
    out = tmp_path / "out"
    result = runner.invoke(main, ["build", "--root", str(workdir), "--out", str(out)])
    assert result.exit_code == 0, result.output
    app = create_app(load_settings(env={}, overrides={"out": str(out)}),
                     release=current_release(out))
    client = app.test_client()

    def page(path: str) -> str:
        response = client.get(path, headers={"Accept": "text/html"})
        assert response.status_code == 200, path
        text = response.get_data(as_text=True)
        named = re.findall(r"<code>([^<]*)</code>", text)  # file names (a link to the
        assert not [n for n in named if n.endswith((".csv.ttl", ".ods.ttl"))], path  # Turtle
        return text  # representation, …/veranstaltungen.csv.ttl, is no file name)

    assert "data/veranstaltungen.csv › veranstaltungen › Zeile 2" in page(
        "/doc/event/hoffest-2024")
    assert "data/veranstaltungen.csv › veranstaltungen › row 2" in page(
        "/doc/event/hoffest-2024?lang=en")
    assert "<code>data/events.ttl</code>" in page("/doc/event/fest-der-nachbarn-berlin-2016")
    assert "<code>data/veranstaltungen.csv</code>" in page("/graph/data/veranstaltungen.csv")
