"""A date cell as its number format shows it: a month or a year stays a month or a year.

LibreOffice turns „Mai 2024" typed into a cell into a date cell for 1 May 2024 and shows it
with a format without a day („MMMM JJJJ"); „2024" can become a date shown as a year. The
cell holds a day nobody said. So a date cell is read as what its format shows: no day but a
month is the month („Mai 2024", read as xsd:gYearMonth by publisher.dates), only a year is
the year („2024", xsd:gYear). A format that shows a day keeps the cell as it is, a day or a
day and a time.

For an .xlsx the format is openpyxl's number_format of the cell (a format code); for an
.ods it is the cell's style, its parent styles and their data style (number:date-style),
collected by DataStyles while styles.xml and content.xml are streamed, within MAX_STYLES.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from rdflib import Literal
from rdflib.namespace import XSD

from publisher.dates import as_cell
from publisher.sheets.limits import MAX_STYLES, over

__all__ = ["DataStyles", "as_shown", "code_shows"]

_STYLE = "urn:oasis:names:tc:opendocument:xmlns:style:1.0 "
_NUMBER = "urn:oasis:names:tc:opendocument:xmlns:datastyle:1.0 "
DATE_STYLE, STYLE = _NUMBER + "date-style", _STYLE + "style"
_PARTS = {_NUMBER + "day": "d", _NUMBER + "month": "m", _NUMBER + "year": "y"}
_PARENTS = 20  # parent styles followed at most (a loop or a long chain ends there)

# What a format code shows besides its date parts: quoted text, \-escaped and _ or * padded
# characters, [bracketed] colours and locales (not elapsed times: [h]), AM/PM.
_LITERALS = re.compile(r'"[^"]*"|\\.|[_*].|\[(?![hms]+\])[^\]]*\]|am/pm|a/p', re.IGNORECASE)
_TOKENS = re.compile(r"d+|m+|y+|h+|s+")


def code_shows(code: str | None) -> str | None:
    """What an .xlsx number format code shows of a date: "month" (a month, no day), "year"
    (only a year), or None (a day, or no date part to go by: the cell stays as it is)."""
    if not code:
        return None
    section = _LITERALS.sub(" ", code.split(";", 1)[0]).lower()
    tokens = [t[0] for t in _TOKENS.findall(section)]
    parts = set()
    for i, token in enumerate(tokens):
        if token == "m" and ((i and tokens[i - 1] == "h") or tokens[i + 1:i + 2] == ["s"]):
            continue  # minutes: m after an hour or before seconds
        parts.add(token)
    return _shows(parts)


def _shows(parts: set[str]) -> str | None:
    if "d" in parts:
        return None
    if "m" in parts:
        return "month"
    if "y" in parts:
        return "year"
    return None


def as_shown(value: Any, shows: str | None) -> Any:
    """A date cell's value as its format shows it: „Mai 2024" for a month, „2024" for a year
    (the text publisher.dates reads as xsd:gYearMonth and xsd:gYear); anything else as is."""
    if shows is None or not isinstance(value, dt.date):
        return value
    if shows == "year":
        return as_cell(Literal(f"{value.year:04d}", datatype=XSD.gYear))
    return as_cell(Literal(f"{value.year:04d}-{value.month:02d}", datatype=XSD.gYearMonth))


class DataStyles:
    """The date styles and cell styles of an .ods, as expat meets them (styles.xml, then the
    automatic styles of content.xml): for each date style the parts it shows, for each cell
    style its data style and parent. At most MAX_STYLES are kept; more are refused."""

    def __init__(self) -> None:
        self.dates: dict[str, set[str]] = {}  # date style -> its parts: "d", "m", "y"
        self.cells: dict[str, tuple[str | None, str | None]] = {}  # -> data style, parent
        self.current: set[str] | None = None  # the parts of the date style being read

    def _keep(self) -> None:
        if len(self.dates) + len(self.cells) >= MAX_STYLES:
            raise over("Formatvorlagen", "styles", MAX_STYLES, "je Datei", "per workbook")

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if name == DATE_STYLE:
            self._keep()
            self.current = self.dates[attrs.get(_STYLE + "name", "")] = set()
        elif self.current is not None and name in _PARTS:
            self.current.add(_PARTS[name])
        elif name == STYLE and attrs.get(_STYLE + "family") == "table-cell":
            data, parent = attrs.get(_STYLE + "data-style-name"), \
                attrs.get(_STYLE + "parent-style-name")
            if data or parent:  # a style with neither never makes a date a month
                self._keep()
                self.cells[attrs.get(_STYLE + "name", "")] = (data, parent)

    def end(self, name: str) -> None:
        if name == DATE_STYLE:
            self.current = None

    def shows(self, style: str | None) -> str | None:
        """What a cell of this style shows of a date ("month", "year" or None)."""
        for _ in range(_PARENTS):
            if style is None or style not in self.cells:
                return None
            data, parent = self.cells[style]
            if data is not None:
                parts = self.dates.get(data)
                return None if parts is None else _shows(parts)
            style = parent
        return None
