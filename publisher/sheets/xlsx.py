"""Check an .xlsx workbook's parts before openpyxl reads it, within publisher.sheets.limits.

openpyxl reads the cells (publisher.sheets.workbook), in read-only mode, which streams
each sheet row by row. What it would still take whole is checked first, here, in one pass
over every part of the archive with expat, counting the bytes unpacked: the parts it
parses whole (styles, workbook, relations) may hold MAX_PART_ELEMENTS elements, one row or
one shared string MAX_ROW_ELEMENTS, the shared strings MAX_CELLS strings, the workbook
MAX_SHEETS sheets, and a sheet's rows must come in order (openpyxl keeps every row it has
read past). Then the rows are counted as openpyxl hands them over; it stops after row
MAX_ROWS + 1, whatever the sheet's dimension claims (a hint that may lie either way, so it
is reset). openpyxl is imported only in publisher.sheets.workbook, where the import
contracts expect it, and only when a workbook is read or written.
"""

from __future__ import annotations

from typing import IO

from publisher.sheets.limits import (
    MAX_CELLS,
    MAX_PART_ELEMENTS,
    MAX_ROW_ELEMENTS,
    MAX_ROWS,
    MAX_SHEETS,
    Unpacked,
    WorkbookError,
    counted_chunks,
    open_zip,
    over,
    xml_parser,
)

__all__ = ["check_parts"]

_XML = (".xml", ".rels", ".vml")


class _PartCheck:
    """expat's handlers for one part: counts its elements, its records (a sheet's rows, the
    shared strings) and the elements within each record."""

    def __init__(self, name: str):
        self.name = name
        self.record = ""  # the element that is one record in this part
        self.container = ""  # the element the records stand in
        self.records_max = 0
        if name.startswith("xl/worksheets/") and "/_rels/" not in name:
            self.record, self.container, self.records_max = "row", "sheetData", MAX_ROWS + 1
        elif name == "xl/sharedStrings.xml":
            self.record, self.container, self.records_max = "si", "sst", MAX_CELLS
        self.inside = False  # within the container
        self.depth = 0  # elements open within the current record (0: none open)
        self.in_record = 0  # elements of the current record
        self.records = 0
        self.last_row = 0
        self.others = 0  # elements outside any record
        self.sheets = 0
        self.done = False  # past the last row openpyxl reads: the rest is not parsed

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if self.done:
            return
        local = name.rsplit(" ", 1)[-1]
        if self.depth:
            self.depth += 1
            self.in_record += 1
            if self.in_record > MAX_ROW_ELEMENTS:
                raise over("XML-Elemente in einer Zeile oder Zeichenkette",
                           "XML elements in one row or string", MAX_ROW_ELEMENTS, f"in {self.name}",
                           f"in {self.name}")
            return
        if self.inside and local == self.record:
            self.begin_record(attrs)
            return
        if local == self.container and self.container:
            self.inside = True
        self.others += 1
        if self.others > MAX_PART_ELEMENTS:
            raise over("XML-Elemente", "XML elements", MAX_PART_ELEMENTS, f"in {self.name}",
                       f"in {self.name}")
        if local == "sheet" and self.name == "xl/workbook.xml":
            self.sheets += 1
            if self.sheets > MAX_SHEETS:
                raise over("Blätter", "sheets", MAX_SHEETS, "je Datei", "per workbook")

    def begin_record(self, attrs: dict[str, str]) -> None:
        self.records += 1
        if self.record == "row":
            raw = attrs.get("r")
            if raw is not None and not (raw.isdigit() and len(raw) <= 9):
                raise WorkbookError(f"{self.name}: ungültige Zeilennummer",
                                    f"{self.name}: invalid row number")
            number = int(raw) if raw is not None else self.last_row + 1
            if number <= self.last_row:
                raise WorkbookError(f"{self.name}: Zeilen nicht in Reihenfolge",
                                    f"{self.name}: rows out of order")
            self.last_row = number
            if number > self.records_max:
                self.done = True
                return
        elif self.records > self.records_max:
            raise over("Zeichenketten", "shared strings", self.records_max, "je Datei",
                       "per workbook")
        self.depth, self.in_record = 1, 1

    def end(self, name: str) -> None:
        if self.depth:
            self.depth -= 1
        elif name.rsplit(" ", 1)[-1] == self.container:
            self.inside = False


def check_parts(handle: IO[bytes]) -> None:
    """One pass over every part: bytes unpacked, and the XML within what openpyxl takes."""
    unpacked = Unpacked()
    with open_zip(handle) as archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            parser = None
            if info.filename.lower().endswith(_XML):
                check = _PartCheck(info.filename)
                parser = xml_parser()
                parser.StartElementHandler = check.start
                parser.EndElementHandler = check.end
            for chunk in counted_chunks(archive, info.filename, unpacked):
                if parser is not None:
                    parser.Parse(chunk, False)
            if parser is not None:
                parser.Parse(b"", True)
