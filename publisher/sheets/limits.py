"""The fixed bounds a workbook is read within, and the checks that hold them (issue #24).

Every bound is on a total and is checked before anything is spelled out: a row repeated a
million times is refused when the reader sees the repeat count, not after it has made the
rows. Empty rows and cells that nothing follows (LibreOffice writes a million empty rows and
16,384 empty columns after every sheet) cost nothing: they are counted, never made. The
limits are generous for a district's data; SECURITY.md and the README name them.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from typing import IO, Any
from xml.parsers import expat

__all__ = ["CHUNK", "MAX_CELLS", "MAX_CELL_CHARS", "MAX_COLUMNS", "MAX_FILE_BYTES",
           "MAX_LINE_CHARS", "MAX_MEMBERS", "MAX_PART_ELEMENTS", "MAX_ROWS",
           "MAX_ROW_ELEMENTS", "MAX_SHEETS", "MAX_STYLES", "MAX_TEXT_CHARS",
           "MAX_UNPACKED_BYTES", "Budget", "Unpacked", "WorkbookError", "cell_too_long",
           "check_file_size", "counted_chunks", "open_zip", "over", "xml_parser"]

MAX_ROWS = 10_000  # rows per sheet, up to the last one that holds a value
MAX_COLUMNS = 100  # columns per sheet, up to the last one that holds a value
MAX_CELLS = 200_000  # cells per workbook, all sheets together (a repeated cell counts each time)
MAX_SHEETS = 100  # sheets per workbook
MAX_CELL_CHARS = 32_767  # characters in one cell: Excel's own limit (CSV: the field size limit)
MAX_TEXT_CHARS = 20_000_000  # characters of text per workbook, every cell counted
MAX_FILE_BYTES = 50 * 1024 * 1024  # bytes of a workbook file on disk
MAX_UNPACKED_BYTES = 50 * 1024 * 1024  # bytes unpacked from an .ods or .xlsx, all parts read
MAX_MEMBERS = 1_000  # parts (zip members) of an .ods or .xlsx
MAX_PART_ELEMENTS = 20_000  # XML elements of an .xlsx part openpyxl reads whole (styles, …)
MAX_ROW_ELEMENTS = 50_000  # XML elements in one row of an .xlsx sheet or one shared string
MAX_STYLES = 20_000  # date and cell styles an .ods may define (kept to read a date as shown)
MAX_LINE_CHARS = 1_048_576  # characters in one line of a CSV file
CHUNK = 64 * 1024  # bytes unpacked or read at a time


def _n(number: int) -> tuple[str, str]:
    """A number as German and English write it (10.000 / 10,000)."""
    english = f"{number:,}"
    return english.replace(",", "."), english


def _mib(number: int) -> str:
    return f"{number // (1024 * 1024)} MiB"


class WorkbookError(ValueError):
    """The file cannot be read as a workbook, or it is over one of the bounds above.

    str() is "German / English"; sheet and row say where, as far as known."""

    def __init__(self, de: str, en: str | None = None, *, sheet: str | None = None,
                 row: int | None = None):
        if en is None:
            de, _, en = de.partition(" / ")
        self.de, self.en = de, en or de
        self.sheet, self.row = sheet, row
        super().__init__(f"{self.de} / {self.en}")


def over(what_de: str, what_en: str, limit: int, per_de: str, per_en: str, *,
         sheet: str | None = None, row: int | None = None) -> WorkbookError:
    """The error for a total over its limit, naming the limit in both languages."""
    de_n, en_n = _n(limit)
    return WorkbookError(f"zu groß: mehr als {de_n} {what_de} (Grenze: {de_n} {what_de} "
                         f"{per_de}; siehe SECURITY.md)",
                         f"too large: more than {en_n} {what_en} (limit: {en_n} {what_en} "
                         f"{per_en}; see SECURITY.md)", sheet=sheet, row=row)


class Budget:
    """What one workbook has spent of its totals, row by row, before a row is spelled out."""

    def __init__(self) -> None:
        self.cells = 0
        self.chars = 0
        self.sheets = 0

    def sheet(self, name: str) -> None:
        """One more sheet."""
        self.sheets += 1
        if self.sheets > MAX_SHEETS:
            raise over("Blätter", "sheets", MAX_SHEETS, "je Datei", "per workbook", sheet=name)

    def row(self, sheet: str, number: int, values: list[Any], repeat: int = 1) -> None:
        """A row of values (trailing empty cells left off) that will stand `repeat` times from
        row `number` (1-based); refused if it would take the sheet or workbook over a bound."""
        if number + repeat - 1 > MAX_ROWS:
            raise over("Zeilen", "rows", MAX_ROWS, "je Blatt", "per sheet", sheet=sheet,
                       row=max(number, MAX_ROWS + 1))
        if len(values) > MAX_COLUMNS:
            raise over("Spalten", "columns", MAX_COLUMNS, "je Blatt", "per sheet",
                       sheet=sheet, row=number)
        self.cells += len(values) * repeat
        if self.cells > MAX_CELLS:
            raise over("Zellen", "cells", MAX_CELLS, "je Datei, alle Blätter zusammen",
                       "per workbook, all sheets together", sheet=sheet, row=number)
        self.chars += sum(len(v) for v in values if isinstance(v, str)) * repeat
        if self.chars > MAX_TEXT_CHARS:
            raise over("Zeichen Text", "characters of text", MAX_TEXT_CHARS, "je Datei",
                       "per workbook", sheet=sheet, row=number)


def cell_too_long(sheet: str | None, row: int | None) -> WorkbookError:
    """A cell over MAX_CELL_CHARS."""
    return over("Zeichen in einer Zelle", "characters in a cell", MAX_CELL_CHARS, "je Zelle",
                "per cell", sheet=sheet, row=row)


def check_file_size(size: int) -> None:
    """Refuse a workbook file larger than MAX_FILE_BYTES (before it is opened)."""
    if size > MAX_FILE_BYTES:
        raise WorkbookError(f"zu groß: die Datei hat mehr als {_mib(MAX_FILE_BYTES)} (Grenze: "
                            f"{_mib(MAX_FILE_BYTES)} je Datei; siehe SECURITY.md)",
                            f"too large: the file is over {_mib(MAX_FILE_BYTES)} (limit: "
                            f"{_mib(MAX_FILE_BYTES)} per file; see SECURITY.md)")


def _unpacked_over() -> WorkbookError:
    size = _mib(MAX_UNPACKED_BYTES)
    return WorkbookError(f"zu groß: entpackt mehr als {size} (Grenze: {size} entpackt je "
                         "Datei; siehe SECURITY.md)",
                         f"too large: unpacks to more than {size} (limit: {size} unpacked per "
                         "workbook; see SECURITY.md)")


def open_zip(handle: IO[bytes], members: list[str] | None = None,
             optional: tuple[str, ...] = ()) -> zipfile.ZipFile:
    """The zip archive of an .ods or .xlsx, once its directory and declared sizes are within
    the bounds: at most MAX_MEMBERS parts, each packed as ODF and OOXML pack them (deflate or
    stored: bzip2 and LZMA unpack without a bound per call), together at most
    MAX_UNPACKED_BYTES as declared (members: only the parts that will be read; optional:
    parts read where the archive has them).

    The declared sizes can lie; counted_chunks counts what is really unpacked."""
    # The directory's size, as ZipFile reads it (it makes an entry of every 46 bytes)
    end_record = getattr(zipfile, "_EndRecData", None)
    size_field = getattr(zipfile, "_ECD_SIZE", None)
    if end_record is not None and size_field is not None:
        record = end_record(handle)
        if record and record[size_field] > MAX_MEMBERS * 1024:
            raise over("Teile im Archiv", "parts in the archive", MAX_MEMBERS, "je Datei",
                       "per file")
        handle.seek(0)
    archive = zipfile.ZipFile(handle)
    infos = [i for i in archive.infolist() if not i.is_dir()]
    if len(infos) > MAX_MEMBERS:
        raise over("Teile im Archiv", "parts in the archive", MAX_MEMBERS, "je Datei",
                   "per file")
    if members is not None:
        infos = [archive.getinfo(name) for name in members]
        infos += [archive.getinfo(name) for name in optional if name in archive.NameToInfo]
    for info in infos:
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise WorkbookError(f"Teil „{info.filename}“ ist ungewöhnlich gepackt (nur Deflate "
                                "oder ungepackt)", "a part is packed in an unusual way "
                                "(deflate or stored only)")
    if sum(i.file_size for i in infos) > MAX_UNPACKED_BYTES:
        raise _unpacked_over()
    return archive


class Unpacked:
    """Bytes unpacked from one workbook so far, over all its parts."""

    def __init__(self) -> None:
        self.total = 0


def counted_chunks(archive: zipfile.ZipFile, name: str, unpacked: Unpacked) -> Iterator[bytes]:
    """A part's bytes, CHUNK at a time; stops with an error once the workbook's parts
    together have unpacked to more than MAX_UNPACKED_BYTES, whatever their sizes declared."""
    with archive.open(name) as stream:
        while chunk := stream.read(CHUNK):
            unpacked.total += len(chunk)
            if unpacked.total > MAX_UNPACKED_BYTES:
                raise _unpacked_over()
            yield chunk


def _no_dtd(*_args: Any) -> None:
    raise WorkbookError("enthält eine DTD (<!DOCTYPE …>), die eine Tabelle nie braucht",
                        "contains a DTD (<!DOCTYPE …>), which a workbook never needs")


def xml_parser() -> Any:
    """An expat parser with namespaces (`uri local`), which refuses any DTD, so no entity
    is ever declared or expanded."""
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartDoctypeDeclHandler = _no_dtd
    parser.EntityDeclHandler = _no_dtd
    parser.buffer_text = True
    return parser
