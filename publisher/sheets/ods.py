"""Read an .ods workbook as rows of values, streamed from its content.xml within the bounds.

styles.xml is streamed first, and content.xml's automatic styles before its tables, for the
date styles alone (publisher.sheets.shown): a date cell whose style shows no day is read as
the month or year it shows.

odfpy's reader keeps the whole document as a DOM of Python objects and has no notion of
repeated rows and columns, which LibreOffice writes for every empty stretch (a million
rows), so content.xml is walked with expat instead, a part at a time as it is unpacked:
no element is kept, only the text of the cell being read and the rows made so far. A
repeated row or cell is checked against the totals (publisher.sheets.limits) before it is
spelled out; empty rows and cells cost nothing until a value follows them.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from publisher.sheets.limits import (
    MAX_CELL_CHARS,
    MAX_COLUMNS,
    Budget,
    Unpacked,
    WorkbookError,
    cell_too_long,
    check_file_size,
    counted_chunks,
    open_zip,
    over,
    xml_parser,
)
from publisher.sheets.shown import DataStyles, as_shown

__all__ = ["read_ods"]

_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0 "
_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0 "
_TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0 "
TABLE, ROW, CELL = _TABLE + "table", _TABLE + "table-row", _TABLE + "table-cell"
COLUMN, STYLE_NAME = _TABLE + "table-column", _TABLE + "style-name"
DEFAULT_STYLE = _TABLE + "default-cell-style-name"
COVERED = _TABLE + "covered-table-cell"
P, SPACE, TAB, BREAK = _TEXT + "p", _TEXT + "s", _TEXT + "tab", _TEXT + "line-break"
ANNOTATION = _OFFICE + "annotation"


def _count(attrs: dict[str, str], name: str) -> int:
    """A repeat count (1 when absent); at most nine digits are read, a longer one is huge."""
    raw = attrs.get(name, "1").strip()
    if not raw.isdigit():
        raise WorkbookError(f"ungültige Anzahl „{raw[:20]}“ in {name.split()[-1]}",
                            "invalid count in a repeat attribute")
    return int(raw) if len(raw) <= 9 else 10**9


class _Reader:
    """expat's handlers: the state of the sheet, row and cell being read."""

    def __init__(self) -> None:
        self.budget = Budget()
        self.sheets: dict[str, list[list[Any]]] = {}
        self.sheet: str | None = None  # the table being read
        self.nested = 0
        self.rows: list[list[Any]] = []
        self.blank_rows = 0  # empty rows not yet spelled out (trailing ones never are)
        self.values: list[Any] | None = None  # the row being read
        self.pending = 0  # empty cells not yet spelled out
        self.row_repeat = 1
        self.cell: dict[str, str] | None = None  # the cell being read: its attributes
        self.depth = 0  # elements open inside the cell
        self.paragraphs: list[list[str]] = []
        self.in_paragraph = False
        self.skip = 0  # depth of an annotation being skipped (0: none)
        self.chars = 0  # characters of the cell's text so far
        self.styles = DataStyles()  # what a date cell's style shows: a day, month or year
        self.columns: list[tuple[int, str | None]] = []  # (last column + 1, default style)
        self.row_style: str | None = None  # the row's default cell style

    def number(self) -> int:
        """The 1-based number of the row being read."""
        return len(self.rows) + self.blank_rows + 1

    def add_text(self, text: str) -> None:
        self.chars += len(text)
        if self.chars > MAX_CELL_CHARS:
            raise cell_too_long(self.sheet, self.number())
        self.paragraphs[-1].append(text)

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if self.cell is not None:
            self.depth += 1
            if self.skip:
                return
            if name == ANNOTATION:
                self.skip = self.depth
            elif name == P and self.depth == 1:
                self.paragraphs.append([])
                self.in_paragraph = True
            elif self.in_paragraph and name == SPACE:
                spaces = min(_count(attrs, _TEXT + "c"), MAX_CELL_CHARS + 1)
                self.add_text(" " * spaces)
            elif self.in_paragraph and name == TAB:
                self.add_text("\t")
            elif self.in_paragraph and name == BREAK:
                self.add_text("\n")
        elif name == TABLE and self.sheet is not None:
            self.nested += 1  # a table in a table is read as part of the outer one
        elif name == TABLE:
            self.sheet = attrs.get(_TABLE + "name", "")
            self.budget.sheet(self.sheet)
            self.rows, self.blank_rows, self.columns = [], 0, []
        elif name == COLUMN and self.sheet is not None and not self.nested:
            self.column(attrs)
        elif name == ROW and self.sheet is not None:
            self.values, self.pending = [], 0
            self.row_repeat = _count(attrs, _TABLE + "number-rows-repeated")
            self.row_style = attrs.get(DEFAULT_STYLE)
        elif self.sheet is None:
            self.styles.start(name, attrs)
        elif name in (CELL, COVERED) and self.values is not None:
            self.cell, self.depth, self.paragraphs, self.chars = attrs, 0, [], 0
            self.in_paragraph, self.skip = False, 0

    def end(self, name: str) -> None:
        if self.cell is not None and self.depth:
            if self.depth == self.skip:
                self.skip = 0
            if self.depth == 1 and not self.skip:
                self.in_paragraph = False
            self.depth -= 1
        elif self.cell is not None:
            self.end_cell()
        elif name == ROW and self.values is not None:
            self.end_row()
        elif name == TABLE and self.nested:
            self.nested -= 1
        elif name == TABLE and self.sheet is not None:
            self.sheets[self.sheet] = self.rows  # blank rows are made only before a value
            self.sheet, self.rows = None, []
        elif self.sheet is None:
            self.styles.end(name)

    def column(self, attrs: dict[str, str]) -> None:
        """A column (or a run of them) and its default cell style: kept only as far as
        MAX_COLUMNS, past which no cell is read."""
        first = self.columns[-1][0] if self.columns else 0
        if first <= MAX_COLUMNS:
            last = first + min(_count(attrs, _TABLE + "number-columns-repeated"), MAX_COLUMNS + 1)
            self.columns.append((last, attrs.get(DEFAULT_STYLE)))

    def style_at(self, column: int) -> str | None:
        """The default cell style of a column (0-based) of the sheet being read."""
        return next((style for last, style in self.columns if column < last), None)

    def text(self, data: str) -> None:
        if self.cell is not None and self.in_paragraph and not self.skip:
            self.add_text(data)

    def end_cell(self) -> None:
        assert self.cell is not None and self.values is not None
        repeat = _count(self.cell, _TABLE + "number-columns-repeated")
        value = _value(self.cell, "\n".join("".join(p) for p in self.paragraphs))
        if isinstance(value, dt.date):  # a month or a year where the style shows no day
            style = (self.cell.get(STYLE_NAME) or self.row_style
                     or self.style_at(len(self.values) + self.pending))
            value = as_shown(value, self.styles.shows(style))
        self.cell = None
        if value is None:
            self.pending += repeat
            return
        if len(self.values) + self.pending + repeat > MAX_COLUMNS:
            raise over("Spalten", "columns", MAX_COLUMNS, "je Blatt", "per sheet",
                       sheet=self.sheet, row=self.number())
        self.values.extend([None] * self.pending)
        self.values.extend([value] * repeat)
        self.pending = 0

    def end_row(self) -> None:
        assert self.values is not None and self.sheet is not None
        values, repeat, self.values = self.values, self.row_repeat, None
        if not values:
            self.blank_rows += repeat
            return
        self.budget.row(self.sheet, self.number(), values, repeat)
        self.rows.extend([[]] * self.blank_rows)
        self.blank_rows = 0
        self.rows.extend(list(values) for _ in range(repeat))


def _value(attrs: dict[str, str], text: str) -> Any:
    """A cell's value by its office:value-type: a date, number, truth value or text."""
    kind = attrs.get(_OFFICE + "value-type")
    if kind == "date":
        raw = attrs.get(_OFFICE + "date-value", "")
        try:
            return dt.datetime.fromisoformat(raw) if "T" in raw else dt.date.fromisoformat(raw)
        except ValueError:
            return raw
    if kind in ("float", "percentage", "currency"):
        number = float(attrs.get(_OFFICE + "value", "0"))
        return int(number) if number.is_integer() else number
    if kind == "boolean":
        return attrs.get(_OFFICE + "boolean-value") == "true"
    return text if text.strip() else None


def read_ods(path: Path) -> dict[str, list[list[Any]]]:
    """The sheets of an .ods file, each as rows of values (None for an empty cell)."""
    check_file_size(path.stat().st_size)
    reader = _Reader()
    parser = xml_parser()
    parser.StartElementHandler = reader.start
    parser.EndElementHandler = reader.end
    parser.CharacterDataHandler = reader.text
    with path.open("rb") as handle, \
            open_zip(handle, ["content.xml"], optional=("styles.xml",)) as archive:
        unpacked = Unpacked()
        if "styles.xml" in archive.NameToInfo:  # the common styles, which cells may use
            styles = xml_parser()
            styles.StartElementHandler = reader.styles.start
            styles.EndElementHandler = reader.styles.end
            for chunk in counted_chunks(archive, "styles.xml", unpacked):
                styles.Parse(chunk, False)
            styles.Parse(b"", True)
        for chunk in counted_chunks(archive, "content.xml", unpacked):
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    return reader.sheets
