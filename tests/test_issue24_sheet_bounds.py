"""Workbooks and CSV are read within fixed bounds, decided before anything is expanded (#24).

Each bomb of the red team's report is made here and given to `kiezgraph validate` in a
child process: it must end with exit code 2 and a message naming the limit and the file
(and sheet), below MAX_PEAK of memory and within MAX_SECONDS. These are bounds, not
benchmarks. Before the bounds, the same files took 0.8 GB (2.9 s), 2.4 GB (9.9 s), 5.6 GB
(91 s) and more than 6 GB (still running after three minutes).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from publisher.sheets import limits
from publisher.sheets.limits import WorkbookError
from publisher.sheets.workbook import SheetSpec, read_workbook, write_workbook

ROOT = Path(__file__).resolve().parent.parent
MAX_PEAK = 300 * 1024  # KiB of resident memory, the child and whatever it waits for
MAX_SECONDS = 30
KILL_AT = 1024 * 1024  # KiB: a child past this is killed, so a regression cannot take the host

HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n<office:document-content '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        '<office:body><office:spreadsheet>')
TAIL = '</office:spreadsheet></office:body></office:document-content>'
MIMETYPE = "application/vnd.oasis.opendocument.spreadsheet"


# --- the bombs ---------------------------------------------------------------------------

def _ods(path: Path, tables: str) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), MIMETYPE)
        archive.writestr("content.xml", HEAD + tables + TAIL)
    return path


def _text_cell(text: str, repeat: int = 1) -> str:
    times = f' table:number-columns-repeated="{repeat}"' if repeat > 1 else ""
    return (f'<table:table-cell office:value-type="string"{times}><text:p>{text}</text:p>'
            '</table:table-cell>')


def _row(cells: str, repeat: int = 1) -> str:
    times = f' table:number-rows-repeated="{repeat}"' if repeat > 1 else ""
    return f'<table:table-row{times}>{cells}</table:table-row>'


def _table(name: str, rows: str) -> str:
    return f'<table:table table:name="{name}">{rows}</table:table>'


def repeated(name: str = "A") -> str:
    """The red team's shape: 99 rows, each a million times, of a cell a million times (the
    old reader spelled each out 1,000 times: 99 million cells from 600 bytes)."""
    return _table(name, _row(_text_cell("x", 1_000_000), 1_000_000) * 99)


def only_rows() -> str:
    return _table("A", _row(_text_cell("x"), 1_000_000))


def only_cells() -> str:
    return _table("A", _row(_text_cell("x", 1_000_000)))


def three_sheets_over_the_total() -> str:
    """Three sheets, each within the bounds of a sheet (9,000 rows of 10 cells), together
    over the cells of a workbook."""
    return "".join(_table(f"S{i}", _row(_text_cell("x") * 10, 9_000)) for i in range(3))


def zip_bomb(path: Path, megabytes: int = 820) -> Path:
    """A 2 MB .ods whose content.xml unpacks to 820 MB of empty cells in one row."""
    chunk = ("<table:table-cell/>" * 55_000).encode()  # ~1 MB
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), MIMETYPE)
        with archive.open("content.xml", "w") as out:
            out.write((HEAD + '<table:table table:name="A"><table:table-row>').encode())
            for _ in range(megabytes):
                out.write(chunk)
            out.write(("</table:table-row></table:table>" + TAIL).encode())
    return path


def lie_about_size(path: Path, member: str, size: int) -> Path:
    """Make the zip's local header and directory claim `member` unpacks to `size` bytes."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(member)
    name = member.encode()
    local = info.header_offset
    assert data[local:local + 4] == b"PK\x03\x04"
    data[local + 22:local + 26] = size.to_bytes(4, "little")
    central = data.find(b"PK\x01\x02")  # the directory entries; the name tells which
    while central != -1:
        length = int.from_bytes(data[central + 28:central + 30], "little")
        if bytes(data[central + 46:central + 46 + length]) == name:
            data[central + 24:central + 28] = size.to_bytes(4, "little")
            break
        central = data.find(b"PK\x01\x02", central + 4)
    else:
        raise AssertionError(f"no directory entry for {member}")
    path.write_bytes(bytes(data))
    return path


def big_csv(path: Path, rows: int = 400_000) -> Path:
    """43 MB of organisations, 400,000 rows (the red team's was 33 MB; CSV had no row limit)."""
    with path.open("w", encoding="utf-8") as out:
        out.write("Kürzel,Name,Webseite,Quelle\n")
        for i in range(rows):
            out.write(f"verein-{i},Nachbarschaftsverein {i} e.V.,https://example.org/{i},"
                      f"https://www.berlin.de/ba-pankow/quelle/{i}\n")
    return path


ORGANISATION = ["Kürzel", "Name", "Webseite", "Quelle"]


def organisation(slug: str, url: str) -> list[str]:
    return [slug, f"Verein {slug} e.V.", url, "https://www.berlin.de/ba-pankow/quelle"]


# --- running kiezgraph --------------------------------------------------------------------

def _project(folder: Path) -> Path:
    for part in ("ontology", "data", "shapes"):
        shutil.copytree(ROOT / part, folder / part)
    return folder


def _hwm(pid: int) -> int:
    """The child's peak resident memory so far (KiB), 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def kiezgraph(*args: str, folder: Path) -> tuple[int, str, int, float]:
    """Run `python -m publisher ARGS` as a child: exit code, stderr, peak memory (KiB, its
    VmHWM, polled every 20 ms) and seconds. A child over
    KILL_AT or MAX_SECONDS * 2 is killed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIEZGRAPH_")}
    env["PYTHONPATH"] = str(ROOT)
    err_path = folder / "stderr.txt"
    start = time.monotonic()
    with open(err_path, "wb") as err:
        child = subprocess.Popen([sys.executable, "-m", "publisher", *args],
                                 stdout=subprocess.DEVNULL, stderr=err, env=env)
    peak = 0
    while True:
        pid, status, _usage = os.wait4(child.pid, os.WNOHANG)
        if pid:
            break
        peak = max(peak, _hwm(child.pid))
        if peak > KILL_AT or time.monotonic() - start > 2 * MAX_SECONDS:
            child.kill()
        time.sleep(0.02)  # the sampling rate of the peak, not a wait for an event
    seconds = time.monotonic() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    # Not wait4's ru_maxrss: the kernel carries the high-water mark over exec, so a child
    # started from a large process (a pytest-xdist worker) reports its parent's peak. The
    # child's own mm's VmHWM, polled above, is its peak after exec.
    return child.returncode, err_path.read_text(encoding="utf-8"), peak, seconds


def validate(folder: Path) -> tuple[int, str, int, float]:
    return kiezgraph("validate", "--root", str(folder), folder=folder)


def assert_refused(result: tuple[int, str, int, float], *words: str, exit_code: int = 2) -> None:
    """Refused with exit_code (2: the file cannot be read within the bounds; 1: a cell is
    wrong, as the README says), the words, no traceback, within memory and time."""
    code, err, peak, seconds = result
    assert code == exit_code, err[-2000:]
    assert "Traceback" not in err, err[-2000:]
    for word in words:
        assert word in err, (word, err[-2000:])
    assert peak < MAX_PEAK, f"peak {peak // 1024} MiB"
    assert seconds < MAX_SECONDS, f"{seconds:.1f} s"


# --- the bombs, through `kiezgraph validate` --------------------------------------------

ROWS = ("zu groß: mehr als 10.000 Zeilen (Grenze: 10.000 Zeilen je Blatt",
        "too large: more than 10,000 rows (limit: 10,000 rows per sheet")
COLUMNS = ("zu groß: mehr als 100 Spalten (Grenze: 100 Spalten je Blatt",
           "too large: more than 100 columns (limit: 100 columns per sheet")
CELLS = ("zu groß: mehr als 200.000 Zellen (Grenze: 200.000 Zellen je Datei, alle Blätter",
         "too large: more than 200,000 cells (limit: 200,000 cells per workbook, all sheets")
UNPACKED = ("zu groß: entpackt mehr als 50 MiB (Grenze: 50 MiB entpackt je Datei",
            "too large: unpacks to more than 50 MiB (limit: 50 MiB unpacked per workbook")


@pytest.mark.parametrize(("tables", "where", "words"), [
    (repeated(), "data/bomb.ods › A › Zeile 1", COLUMNS),
    ("".join(repeated(name) for name in "ABC"), "data/bomb.ods › A › Zeile 1", COLUMNS),
    (only_rows(), "data/bomb.ods › A › Zeile 10001", ROWS),
    (only_cells(), "data/bomb.ods › A › Zeile 1", COLUMNS),
    (three_sheets_over_the_total(), "data/bomb.ods › S2 › Zeile 1", CELLS),
], ids=["repeated-rows-and-cells", "three-sheets", "rows", "cells", "cells-across-sheets"])
def test_issue24_repeated_rows_and_cells_are_refused_before_they_are_made(tmp_path, tables,
                                                                           where, words):
    folder = _project(tmp_path / "kg")
    assert _ods(folder / "data" / "bomb.ods", tables).stat().st_size < 1000
    assert_refused(validate(folder), where, *words)


@pytest.fixture(scope="module")
def bomb(tmp_path_factory) -> Path:
    return zip_bomb(tmp_path_factory.mktemp("zip") / "bomb.ods")


def test_issue24_a_zip_bomb_is_refused_by_its_declared_size(tmp_path, bomb):
    folder = _project(tmp_path / "kg")
    shutil.copy(bomb, folder / "data" / "bomb.ods")
    assert (folder / "data" / "bomb.ods").stat().st_size < 3 * 1024 * 1024
    assert_refused(validate(folder), "data/bomb.ods", *UNPACKED)


def test_issue24_a_zip_bomb_that_lies_about_its_size_is_stopped_while_unpacking(tmp_path,
                                                                                 bomb):
    folder = _project(tmp_path / "kg")
    target = shutil.copy(bomb, folder / "data" / "bomb.ods")
    lie_about_size(Path(target), "content.xml", 40 * 1024 * 1024)
    with zipfile.ZipFile(target) as archive:
        assert archive.getinfo("content.xml").file_size == 40 * 1024 * 1024
    # zipfile stops at the declared size and finds the checksum wrong; kiezgraph's own count
    # (counted_chunks) stops at the limit whatever the size claims (see the test below)
    assert_refused(validate(folder), "data/bomb.ods", "kann nicht gelesen werden",
                   "cannot be read")


def test_issue24_unpacked_bytes_are_counted_not_taken_from_the_directory(bomb, monkeypatch):
    monkeypatch.setattr(limits, "MAX_UNPACKED_BYTES", 3 * limits.CHUNK)
    with zipfile.ZipFile(bomb) as archive:
        read = 0
        with pytest.raises(WorkbookError) as refused:
            for chunk in limits.counted_chunks(archive, "content.xml", limits.Unpacked()):
                read += len(chunk)
    assert read <= 3 * limits.CHUNK
    assert "unpacks to more than" in str(refused.value)


def test_issue24_a_csv_of_400k_rows_is_streamed_and_refused_at_row_10001(tmp_path):
    folder = _project(tmp_path / "kg")
    assert big_csv(folder / "data" / "bomb.csv").stat().st_size > 30 * 1024 * 1024
    assert_refused(validate(folder), "data/bomb.csv › bomb › Zeile 10001", *ROWS)


@pytest.mark.slow  # it runs `kiezgraph build` too
@pytest.mark.parametrize("suffix", ["ods", "xlsx", "csv"])
def test_issue24_a_url_with_a_line_break_is_refused_by_validate_and_build(tmp_path, suffix):
    folder = _project(tmp_path / "kg")
    rows = [ORGANISATION, organisation("verein-zeile", "https://example.org/a\nb")]
    path = folder / "data" / f"organisationen.{suffix}"
    if suffix == "csv":
        path.write_text("Kürzel,Name,Webseite,Quelle\nverein-zeile,Verein Zeile e.V.,"
                        '"https://example.org/a\nb",https://www.berlin.de/ba-pankow/quelle\n',
                        encoding="utf-8")
    else:
        write_workbook(path, [SheetSpec("Organisationen", rows)])
    sheet = "organisationen" if suffix == "csv" else "Organisationen"
    read_as = " (UTF-8, Trennzeichen: Komma / separator: comma)" if suffix == "csv" else ""
    where = f"data/organisationen.{suffix}{read_as} › {sheet} › Zeile 2 › Spalte „Webseite“"
    words = ("„https://example.org/a↵b“ enthält einen Zeilenumbruch",
             "it contains a line break, which a URL may not hold")
    assert_refused(validate(folder), where, *words, exit_code=1)
    assert_refused(kiezgraph("build", "--root", str(folder), "--out", str(tmp_path / "out"),
                             folder=folder), where, *words, exit_code=1)


def test_issue24_trailing_empty_repeats_as_libreoffice_writes_them_cost_nothing(tmp_path):
    """A million empty rows and 16,384 empty columns after the data, on three sheets."""
    folder = _project(tmp_path / "kg")
    empty_columns = '<table:table-cell table:number-columns-repeated="16380"/>'
    rows = "".join(_row("".join(_text_cell(v) for v in row) + empty_columns) for row in
                   [ORGANISATION, organisation("verein-eins", "https://example.org/eins")])
    tail = _row('<table:table-cell table:number-columns-repeated="16384"/>', 1_048_574)
    tables = _table("Organisationen", rows + tail) + _table("Leer", tail) + _table("Auch", tail)
    _ods(folder / "data" / "partner.ods", tables)
    code, err, peak, seconds = validate(folder)
    assert code == 0, err[-2000:]
    assert peak < MAX_PEAK and seconds < MAX_SECONDS
    book = read_workbook(folder / "data" / "partner.ods")
    assert book.sheets == {"Organisationen": [ORGANISATION, organisation(
        "verein-eins", "https://example.org/eins")], "Leer": [], "Auch": []}


# --- .xlsx ------------------------------------------------------------------------------

def test_issue24_an_xlsx_of_20k_rows_is_refused_at_row_10001(tmp_path):
    import openpyxl

    folder = _project(tmp_path / "kg")
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("Organisationen")
    sheet.append(ORGANISATION)
    for i in range(20_000):
        sheet.append(organisation(f"verein-{i}", f"https://example.org/{i}"))
    book.save(folder / "data" / "viele.xlsx")
    assert_refused(validate(folder), "data/viele.xlsx › Organisationen › Zeile 10001", *ROWS)


def _xlsx_with(path: Path, part: str, text: str) -> Path:
    """A workbook written by kiezgraph with one of its parts replaced."""
    write_workbook(path, [SheetSpec("A", [ORGANISATION])])
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    parts[part] = text.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return path


MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


@pytest.mark.parametrize(("part", "text", "words"), [
    ("xl/styles.xml", f'<styleSheet xmlns="{MAIN}"><cellXfs>' + "<xf/>" * 30_000
     + "</cellXfs></styleSheet>", "more than 20,000 XML elements (limit: 20,000 XML elements "
     "in xl/styles.xml"),
    ("xl/worksheets/sheet1.xml", f'<worksheet xmlns="{MAIN}"><sheetData><row r="1">'
     + '<c t="inlineStr"><is><t>x</t></is></c>' * 20_000 + "</row></sheetData></worksheet>",
     "more than 50,000 XML elements in one row or string"),
    ("xl/worksheets/sheet1.xml", f'<worksheet xmlns="{MAIN}"><sheetData><row r="2"/>'
     '<row r="1"/></sheetData></worksheet>', "rows out of order"),
    ("xl/workbook.xml", '<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]><workbook/>',
     "contains a DTD"),
], ids=["styles", "one-row", "row-order", "dtd"])
def test_issue24_what_openpyxl_would_take_whole_is_bounded_first(tmp_path, part, text, words):
    path = _xlsx_with(tmp_path / "t.xlsx", part, text)
    with pytest.raises(WorkbookError) as refused:
        read_workbook(path)
    assert words in str(refused.value)


def test_issue24_an_xlsx_zip_bomb_is_refused(tmp_path):
    folder = _project(tmp_path / "kg")
    path = folder / "data" / "bomb.xlsx"
    write_workbook(path, [SheetSpec("A", [ORGANISATION])])
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED, compresslevel=9) as archive, \
            archive.open("xl/media/image1.png", "w") as out:
        for _ in range(60):
            out.write(bytes(1024 * 1024))
    assert_refused(validate(folder), "data/bomb.xlsx", *UNPACKED)


# --- cells and lines --------------------------------------------------------------------

def test_issue24_a_csv_field_or_line_over_its_limit_is_refused(tmp_path):
    long_field = tmp_path / "feld.csv"
    long_field.write_text("Kürzel,Name\nx," + "y" * 40_000 + "\n", encoding="utf-8")
    with pytest.raises(WorkbookError) as refused:
        read_workbook(long_field)
    assert (refused.value.sheet, refused.value.row) == ("feld", 2)
    assert "more than 32,767 characters in a cell" in str(refused.value)
    long_line = tmp_path / "zeile.csv"
    long_line.write_text("Kürzel,Name\n" + "," * 2_000_000 + "\n", encoding="utf-8")
    with pytest.raises(WorkbookError) as refused:
        read_workbook(long_line)
    assert "more than 1,048,576 characters in a line" in str(refused.value)


def test_issue24_text_spelled_out_by_repeated_spaces_is_bounded(tmp_path):
    cell = '<table:table-cell office:value-type="string"><text:p><text:s text:c="999999999"/>' \
           'x</text:p></table:table-cell>'
    path = _ods(tmp_path / "leer.ods", _table("A", _row(cell)))
    with pytest.raises(WorkbookError) as refused:
        read_workbook(path)
    assert "more than 32,767 characters in a cell" in str(refused.value)


def test_issue24_the_limits_are_written_down(tmp_path):
    """SECURITY.md and the README name the limits the code holds."""
    security = (ROOT / "SECURITY.md").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for text in (security, readme):
        for words in ("10,000 rows", "100 columns", "200,000 cells", "50 MiB"):
            assert words in text, words
    assert "10.000 Zeilen" in readme and "200.000 Zellen" in readme
    assert (limits.MAX_ROWS, limits.MAX_COLUMNS, limits.MAX_CELLS) == (10_000, 100, 200_000)
    assert limits.MAX_UNPACKED_BYTES == limits.MAX_FILE_BYTES == 50 * 1024 * 1024
