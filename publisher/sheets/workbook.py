"""Read and write workbooks (.ods, .xlsx, .csv) as plain rows of typed cell values.

Reading is bounded (publisher.sheets.limits): an .ods is streamed from its content.xml
(publisher.sheets.ods), an .xlsx read here by openpyxl in read-only mode after a pass over
its parts (publisher.sheets.xlsx), a CSV file streamed line by line here. openpyxl writes
.xlsx, odfpy writes .ods.
"""

from __future__ import annotations

import csv
import datetime as dt
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from xml.parsers import expat

from publisher.sheets.encoding import SEPARATOR_NAMES, detect_encoding
from publisher.sheets.limits import (
    MAX_CELL_CHARS,
    MAX_LINE_CHARS,
    MAX_ROWS,
    Budget,
    WorkbookError,
    cell_too_long,
    check_file_size,
    over,
)
from publisher.sheets.shown import as_shown, code_shows

__all__ = ["SUFFIXES", "SheetSpec", "Workbook", "WorkbookError", "read_workbook",
           "write_workbook"]

SUFFIXES = (".ods", ".xlsx", ".csv")


@dataclass
class Workbook:
    """A workbook's sheets, in order, each as rows of cell values (None for an empty cell)."""

    path: Path
    sheets: dict[str, list[list[Any]]] = field(default_factory=dict)
    read_as: str = ""  # how a CSV file was read: encoding and separator, for every message


@dataclass
class SheetSpec:
    """One sheet to write: rows, and optionally hidden, notes, drop-down lists, widths."""

    name: str
    rows: list[list[Any]]
    hidden: bool = False
    notes: dict[tuple[int, int], str] = field(default_factory=dict)  # (row, col), 0-based
    lists: dict[int, tuple[str, int, int]] = field(default_factory=dict)  # col -> sheet, col, n
    widths: dict[int, float] = field(default_factory=dict)  # col -> width in cm
    bold_first_row: bool = True
    # Columns (0-based) whose cells below the header are text cells: what is typed stays the
    # text typed („Mai 2024" is not made 1 May 2024 by the spreadsheet; issue 23)
    text_columns: set[int] = field(default_factory=set)


def read_workbook(path: Path) -> Workbook:
    """Read a workbook of any supported kind, within the bounds of publisher.sheets.limits."""
    from publisher.sheets.ods import read_ods

    suffix = path.suffix.lower()
    try:
        if suffix == ".xlsx":
            return Workbook(path, _read_xlsx(path))
        if suffix == ".ods":
            return Workbook(path, read_ods(path))
        if suffix == ".csv":
            rows, read_as = _read_csv(path)
            return Workbook(path, {path.stem: rows}, read_as)
    except WorkbookError:
        raise
    except (OSError, zipfile.BadZipFile, KeyError, expat.ExpatError, ValueError,
            UnicodeDecodeError, csv.Error) as exc:
        raise WorkbookError(f"kann nicht gelesen werden / cannot be read: {exc}") from None
    except Exception as exc:  # openpyxl raises plain exceptions for damaged files
        raise WorkbookError(f"kann nicht gelesen werden / cannot be read: {exc}") from None
    raise WorkbookError(f"unbekanntes Format / unknown format: {suffix}")


def _read_xlsx(path: Path) -> dict[str, list[list[Any]]]:
    """An .xlsx file's sheets: its parts checked first (publisher.sheets.xlsx), then read by
    openpyxl in read-only mode, row by row, counted against the bounds as they come."""
    import openpyxl

    from publisher.sheets.xlsx import check_parts

    check_file_size(path.stat().st_size)
    sheets: dict[str, list[list[Any]]] = {}
    with path.open("rb") as handle:
        check_parts(handle)
        handle.seek(0)
        book = openpyxl.load_workbook(handle, read_only=True, data_only=True)
        try:
            budget = Budget()
            for ws in book.worksheets:
                budget.sheet(ws.title)
                ws.reset_dimensions()  # the dimension is a hint that can lie either way
                rows: list[list[Any]] = []
                blank = 0
                for number, cells in enumerate(ws.iter_rows(max_row=MAX_ROWS + 1),
                                               start=1):
                    values = _trimmed(_as_shown(cell) for cell in cells)
                    if not values:
                        blank += 1
                        continue
                    if any(isinstance(v, str) and len(v) > MAX_CELL_CHARS for v in values):
                        raise cell_too_long(ws.title, number)
                    budget.row(ws.title, number, values)
                    rows.extend([[]] * blank)
                    blank = 0
                    rows.append(values)
                sheets[ws.title] = rows
        finally:
            book.close()
    return sheets


def _as_shown(cell: Any) -> Any:
    """An .xlsx cell's value; a date cell as its number format shows it (a month, a year:
    publisher.sheets.shown)."""
    value = cell.value
    if isinstance(value, dt.date):
        return as_shown(value, code_shows(getattr(cell, "number_format", None)))
    return value


def _trimmed(row: Any) -> list[Any]:
    """A row's cleaned values without its trailing empty cells (empty: a blank row)."""
    values = [_clean(v) for v in row]
    while values and values[-1] is None:
        values.pop()
    return values


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return value if value.strip() else None
    return value


_FIELD_LIMIT = threading.Lock()  # csv.field_size_limit is one setting for the whole process


def _lines(handle: IO[str], sheet: str) -> Iterator[str]:
    """A text file's lines, each at most MAX_LINE_CHARS long (a row's fields are made whole)."""
    number = 0
    while line := handle.readline(MAX_LINE_CHARS + 1):
        number += 1
        if len(line) > MAX_LINE_CHARS:
            raise over("Zeichen in einer Zeile", "characters in a line", MAX_LINE_CHARS,
                       "je Zeile einer CSV-Datei", "per line of a CSV file", sheet=sheet,
                       row=number)
        yield line


def _read_csv(path: Path) -> tuple[list[list[Any]], str]:
    """A CSV file's rows, streamed: refused at the first row or cell over a bound; and how it
    was read (encoding and separator, detected), which every message about it names."""
    check_file_size(path.stat().st_size)
    codec, encoding = detect_encoding(path)
    with path.open(encoding=codec, newline="") as handle:
        first = handle.readline(MAX_LINE_CHARS + 1)
        try:
            dialect: Any = csv.Sniffer().sniff(first.split("\n", 1)[0][:65536],
                                               delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
    de, en = SEPARATOR_NAMES.get(dialect.delimiter, (repr(dialect.delimiter),) * 2)
    read_as = f"{encoding}, Trennzeichen: {de} / separator: {en}"
    try:
        return _csv_rows(path, codec, dialect), read_as
    except WorkbookError as exc:
        exc.de, exc.en = f"{exc.de} ({encoding}, {de})", f"{exc.en} ({encoding}, {en})"
        raise


def _csv_rows(path: Path, codec: str, dialect: Any) -> list[list[Any]]:
    sheet, budget = path.stem, Budget()
    rows: list[list[Any]] = []
    blank = 0
    with path.open(encoding=codec, newline="") as handle:
        reader = csv.reader(_lines(handle, sheet), dialect)
        with _FIELD_LIMIT:
            before = csv.field_size_limit(MAX_CELL_CHARS)
            try:
                for number, row in enumerate(reader, start=1):
                    values = _trimmed(row)
                    if not values:
                        blank += 1
                        continue
                    budget.row(sheet, number, values)
                    rows.extend([[]] * blank)
                    blank = 0
                    rows.append(values)
            except csv.Error as exc:
                if "field larger than field limit" in str(exc):
                    raise cell_too_long(sheet, reader.line_num) from None
                raise
            finally:
                csv.field_size_limit(before)
    return rows


def write_workbook(path: Path, sheets: list[SheetSpec]) -> None:
    """Write the sheets as an .ods or .xlsx file, by the path's suffix."""
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        _write_xlsx(path, sheets)
    elif suffix == ".ods":
        _write_ods(path, sheets)
    else:
        raise WorkbookError(f"nur .ods oder .xlsx / only .ods or .xlsx: {path.name}")


def _col_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _sheet_ref(name: str) -> str:
    """A sheet's name as an ODF formula writes it: quoted where it is not a plain word."""
    return name if name.isalnum() else "'" + name.replace("'", "''") + "'"


def _write_xlsx(path: Path, sheets: list[SheetSpec]) -> None:
    import openpyxl
    from openpyxl.comments import Comment
    from openpyxl.styles import Font
    from openpyxl.worksheet.datavalidation import DataValidation

    book = openpyxl.Workbook()
    if book.active is not None:  # the empty sheet a new workbook starts with
        book.remove(book.active)
    for spec in sheets:
        ws = book.create_sheet(spec.name)
        for r, row in enumerate(spec.rows, start=1):
            for c, value in enumerate(row, start=1):
                cell = ws.cell(row=r, column=c, value=value)
                if isinstance(value, str) and value.startswith("="):
                    cell.data_type = "s"  # text from the graph, never a formula
                if isinstance(value, dt.date):
                    cell.number_format = "DD.MM.YYYY"
                if r == 1 and spec.bold_first_row:
                    cell.font = Font(bold=True)
        for c in spec.text_columns:  # the column's format holds for every cell not written
            ws.column_dimensions[_col_letter(c)].number_format = "@"
            for r in range(2, len(spec.rows) + 1):  # a written cell has a format of its own
                cell = ws.cell(row=r, column=c + 1)
                if not isinstance(cell.value, dt.date):  # a day exported stays a date cell
                    cell.number_format = "@"
        for (r, c), note in spec.notes.items():
            ws.cell(row=r + 1, column=c + 1).comment = Comment(note, "kiezgraph")
        for c, (sheet, list_col, count) in spec.lists.items():
            letter = _col_letter(list_col)
            dv = DataValidation(type="list", allow_blank=True,
                                formula1=f"'{sheet}'!${letter}$2:${letter}${count + 1}")
            ws.add_data_validation(dv)
            dv.add(f"{_col_letter(c)}2:{_col_letter(c)}1000")
        for c, width in spec.widths.items():
            ws.column_dimensions[_col_letter(c)].width = width * 4.5
        if spec.hidden:
            ws.sheet_state = "hidden"
    book.save(path)


def _write_ods(path: Path, sheets: list[SheetSpec]) -> None:
    from odf.number import DateStyle, Day, Month, TextContent, TextStyle, Year
    from odf.number import Text as NumberText
    from odf.office import Annotation
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.style import Style, TableColumnProperties, TableProperties, TextProperties
    from odf.table import (
        ContentValidation,
        ContentValidations,
        Table,
        TableCell,
        TableColumn,
        TableRow,
    )
    from odf.text import P

    doc = OpenDocumentSpreadsheet()
    hidden = Style(name="kgHidden", family="table")
    hidden.addElement(TableProperties(display="false"))
    shown = Style(name="kgShown", family="table")
    shown.addElement(TableProperties(display="true"))
    date_style = DateStyle(name="kgDate")
    for part in (Day(style="long"), NumberText(text="."), Month(style="long"),
                 NumberText(text="."), Year(style="long")):
        date_style.addElement(part)
    date_cell = Style(name="kgDateCell", family="table-cell", datastylename="kgDate")
    bold = Style(name="kgBold", family="table-cell")
    bold.addElement(TextProperties(fontweight="bold"))
    text_style = TextStyle(name="kgText")  # the number format "@": a cell as text
    text_style.addElement(TextContent())
    text_cell = Style(name="kgTextCell", family="table-cell", datastylename="kgText")
    for style in (hidden, shown, date_style, date_cell, bold, text_style, text_cell):
        doc.automaticstyles.addElement(style)
    widths: dict[float, Style] = {}

    validations = ContentValidations()
    names: dict[tuple[str, int], str] = {}
    for spec in sheets:
        for c, (sheet, list_col, count) in spec.lists.items():
            letter = _col_letter(list_col)
            name = f"kgList{len(names) + 1}"
            names[(spec.name, c)] = name
            validations.addElement(ContentValidation(
                name=name, allowemptycell="true", displaylist="unsorted",
                basecelladdress=f"{_sheet_ref(spec.name)}.{_col_letter(c)}2",
                condition=f"of:cell-content-is-in-list([${_sheet_ref(sheet)}.${letter}$2:"
                          f".${letter}${count + 1}])"))
    if names:
        doc.spreadsheet.addElement(validations)

    for spec in sheets:
        table = Table(name=spec.name, stylename=hidden if spec.hidden else shown)
        ncols = max([len(r) for r in spec.rows] + [c + 1 for c in spec.lists] + [1])
        for c in range(ncols):
            width = spec.widths.get(c, 3.0)
            if width not in widths:
                style = Style(name=f"kgCol{len(widths) + 1}", family="table-column")
                style.addElement(TableColumnProperties(columnwidth=f"{width}cm"))
                doc.automaticstyles.addElement(style)
                widths[width] = style
            text = {"defaultcellstylename": text_cell} if c in spec.text_columns else {}
            table.addElement(TableColumn(stylename=widths[width], **text))
        total = max(len(spec.rows), 200 if spec.lists else 0)
        for r in range(total):
            row = spec.rows[r] if r < len(spec.rows) else []
            tr = TableRow()
            for c in range(ncols):
                value = row[c] if c < len(row) else None
                attrs: dict[str, Any] = {}
                if r > 0 and (spec.name, c) in names:
                    attrs["contentvalidationname"] = names[(spec.name, c)]
                if r == 0 and spec.bold_first_row:
                    attrs["stylename"] = bold
                elif r > 0 and c in spec.text_columns:
                    attrs["stylename"] = text_cell  # a day exported keeps its date style
                cell = _ods_cell(TableCell, P, value, attrs, date_cell)
                note = spec.notes.get((r, c))
                if note:
                    annotation = Annotation()
                    for line in note.split("\n"):
                        annotation.addElement(P(text=line))
                    cell.childNodes.insert(0, annotation)
                    annotation.parentNode = cell
                tr.addElement(cell)
            table.addElement(tr)
        if spec.text_columns and total < MAX_ROWS:
            # LibreOffice gives a column's default cell style only to the rows written, so
            # the text cells stand on every row the import reads, as one repeated row
            tr = TableRow(numberrowsrepeated=MAX_ROWS - total)
            for c in range(ncols):
                tr.addElement(TableCell(stylename=text_cell) if c in spec.text_columns
                              else TableCell())
            table.addElement(tr)
        doc.spreadsheet.addElement(table)
    doc.save(str(path))


def _ods_cell(table_cell, paragraph, value: Any, attrs: dict, date_cell) -> Any:
    if isinstance(value, bool):
        cell = table_cell(valuetype="boolean", booleanvalue=str(value).lower(), **attrs)
        cell.addElement(paragraph(text=str(value).upper()))
    elif isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        cell = table_cell(valuetype="date", datevalue=value.isoformat(),
                          **{**attrs, "stylename": date_cell})
        cell.addElement(paragraph(text=value.strftime("%d.%m.%Y")))
    elif isinstance(value, int | float):
        cell = table_cell(valuetype="float", value=str(value), **attrs)
        cell.addElement(paragraph(text=str(value)))
    elif value is None or value == "":
        cell = table_cell(**attrs)
    else:
        cell = table_cell(valuetype="string", **attrs)
        for line in str(value).split("\n"):
            cell.addElement(paragraph(text=line))
    return cell
