"""Read and write workbooks (.ods, .xlsx, .csv) as plain rows of typed cell values.

openpyxl reads and writes .xlsx; odfpy writes .ods. An .ods is read straight from its
content.xml with the standard library: odfpy's reader keeps the whole document as a DOM of
Python objects and has no notion of repeated rows and columns, which LibreOffice writes
for every empty stretch (a million rows), so walking the XML is both simpler and smaller.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

__all__ = ["SUFFIXES", "SheetSpec", "Workbook", "WorkbookError", "read_workbook",
           "write_workbook"]

SUFFIXES = (".ods", ".xlsx", ".csv")
MAX_REPEAT = 1000  # a repeated non-empty cell or row is spelled out at most this often
MAX_COLUMNS, MAX_ROWS = 1024, 100_000  # a data cell beyond these is refused, not allocated


class WorkbookError(ValueError):
    """The file cannot be read as a workbook."""


@dataclass
class Workbook:
    """A workbook's sheets, in order, each as rows of cell values (None for an empty cell)."""

    path: Path
    sheets: dict[str, list[list[Any]]] = field(default_factory=dict)


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


def read_workbook(path: Path) -> Workbook:
    """Read a workbook of any supported kind."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".xlsx":
            return _read_xlsx(path)
        if suffix == ".ods":
            return _read_ods(path)
        if suffix == ".csv":
            return _read_csv(path)
    except WorkbookError:
        raise
    except (OSError, zipfile.BadZipFile, KeyError, ElementTree.ParseError,
            UnicodeDecodeError, csv.Error) as exc:
        raise WorkbookError(f"kann nicht gelesen werden / cannot be read: {exc}") from None
    except Exception as exc:  # openpyxl raises plain exceptions for damaged files
        raise WorkbookError(f"kann nicht gelesen werden / cannot be read: {exc}") from None
    raise WorkbookError(f"unbekanntes Format / unknown format: {suffix}")


def _trim(rows: list[list[Any]]) -> list[list[Any]]:
    out = []
    for row in rows:
        while row and row[-1] is None:
            row = row[:-1]
        out.append(row)
    while out and not out[-1]:
        out.pop()
    return out


def _read_xlsx(path: Path) -> Workbook:
    import openpyxl

    book = openpyxl.load_workbook(path, data_only=True)
    sheets = {}
    for ws in book.worksheets:
        if ws.max_row > MAX_ROWS or ws.max_column > MAX_COLUMNS:
            raise WorkbookError(f"Blatt „{ws.title}“ ist zu groß (mehr als {MAX_ROWS} Zeilen "
                                f"oder {MAX_COLUMNS} Spalten) / sheet too large")
        rows = [[_clean(v) for v in row] for row in ws.iter_rows(values_only=True)]
        sheets[ws.title] = _trim(rows)
    return Workbook(path, sheets)


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return value if value.strip() else None
    return value


_NS = {
    "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
    "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
}


def _q(prefix: str, name: str) -> str:
    return f"{{{_NS[prefix]}}}{name}"


def _text(node: ElementTree.Element) -> str:
    """The text of an ODF text element, with its space, tab and line-break elements."""
    parts = [node.text or ""]
    for child in node:
        if child.tag == _q("text", "s"):
            parts.append(" " * int(child.get(_q("text", "c"), "1")))
        elif child.tag == _q("text", "tab"):
            parts.append("\t")
        elif child.tag == _q("text", "line-break"):
            parts.append("\n")
        elif child.tag != _q("office", "annotation"):
            parts.append(_text(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _ods_value(cell: ElementTree.Element) -> Any:
    kind = cell.get(_q("office", "value-type"))
    if kind == "date":
        raw = cell.get(_q("office", "date-value"), "")
        try:
            return (dt.datetime.fromisoformat(raw) if "T" in raw
                    else dt.date.fromisoformat(raw))
        except ValueError:
            return raw
    if kind in ("float", "percentage", "currency"):
        raw = cell.get(_q("office", "value"), "0")
        number = float(raw)
        return int(number) if number.is_integer() else number
    if kind == "boolean":
        return cell.get(_q("office", "boolean-value")) == "true"
    paragraphs = [_text(p) for p in cell.findall(_q("text", "p"))]
    text = "\n".join(paragraphs)
    return text if text.strip() else None


def _read_ods(path: Path) -> Workbook:
    with zipfile.ZipFile(path) as archive:
        root = ElementTree.fromstring(archive.read("content.xml"))
    sheets = {}
    for table in root.iter(_q("table", "table")):
        rows: list[list[Any]] = []
        blank_rows = 0
        for row in table.iter(_q("table", "table-row")):
            values: list[Any] = []
            pending = 0
            for cell in row:
                if cell.tag not in (_q("table", "table-cell"), _q("table", "covered-table-cell")):
                    continue
                repeat = int(cell.get(_q("table", "number-columns-repeated"), "1"))
                value = _ods_value(cell)
                if value is None:
                    pending += repeat
                    continue
                if len(values) + pending >= MAX_COLUMNS:
                    raise WorkbookError(f"mehr als {MAX_COLUMNS} Spalten / more than "
                                        f"{MAX_COLUMNS} columns")
                values.extend([None] * pending)
                values.extend([value] * min(repeat, MAX_REPEAT))
                pending = 0
            repeat = int(row.get(_q("table", "number-rows-repeated"), "1"))
            if not values:
                blank_rows += repeat
                continue
            if len(rows) + blank_rows >= MAX_ROWS:
                raise WorkbookError(f"mehr als {MAX_ROWS} Zeilen / more than {MAX_ROWS} rows")
            rows.extend([[]] * blank_rows)
            blank_rows = 0
            rows.extend([list(values) for _ in range(min(repeat, MAX_REPEAT))])
        sheets[table.get(_q("table", "name"), "")] = _trim(rows)
    return Workbook(path, sheets)


def _read_csv(path: Path) -> Workbook:
    text = path.read_bytes().decode("utf-8-sig")
    try:
        dialect = csv.Sniffer().sniff(text.split("\n", 1)[0], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = [[_clean(v) for v in row] for row in csv.reader(io.StringIO(text), dialect)]
    return Workbook(path, {path.stem: _trim(rows)})


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
    from odf.number import DateStyle, Day, Month, Year
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
    for style in (hidden, shown, date_style, date_cell, bold):
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
            table.addElement(TableColumn(stylename=widths[width]))
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
