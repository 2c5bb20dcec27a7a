"""One cell's value as RDF terms, or the reason it is wrong in German and English."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import urlsplit

from rdflib import Literal, URIRef
from rdflib.namespace import XSD

__all__ = ["CellProblem", "parse_date", "parse_slug", "parse_url", "split_values", "text_of"]

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
GERMAN_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")
ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


class CellProblem(ValueError):
    """A cell's value does not fit its column: the German and the English reason."""

    def __init__(self, de: str, en: str):
        self.de, self.en = de, en
        super().__init__(f"{de} / {en}")


def text_of(value: Any) -> str:
    """A cell's value as the text a maintainer sees."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def split_values(text: str, separator: str | None) -> list[str]:
    """The values of a cell that may hold several: split at the separator (any space for ' ')."""
    if separator is None:
        return [text] if text else []
    parts = text.split() if not separator.strip() else text.split(separator.strip())
    return [p.strip() for p in parts if p.strip()]


def parse_slug(value: Any) -> str:
    """A slug: lower-case letters, digits, single hyphens."""
    text = text_of(value)
    if not SLUG.match(text):
        raise CellProblem(
            f"„{text}“ ist kein gültiges Kürzel: nur Kleinbuchstaben (a–z), Ziffern und "
            "einzelne Bindestriche",
            "not a valid slug: only lower-case letters (a-z), digits and single hyphens")
    return text


def parse_date(value: Any) -> Literal:
    """A date typed as a spreadsheet date, as TT.MM.JJJJ text or as JJJJ-MM-TT text."""
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return Literal(value.isoformat(), datatype=XSD.date)
    text = text_of(value) if isinstance(value, str) else ""
    day: tuple[int, ...] | None = None  # (year, month, day)
    if match := GERMAN_DATE.match(text):
        d, m, y = (int(g) for g in match.groups())
        day = (y, m, d)
    elif match := ISO_DATE.match(text):
        day = tuple(int(g) for g in match.groups())
    if day:
        try:
            return Literal(dt.date(*day).isoformat(), datatype=XSD.date)
        except ValueError:
            pass
    raise CellProblem("muss ein Datum sein (TT.MM.JJJJ oder JJJJ-MM-TT)", "must be a date")


def parse_url(text: str) -> URIRef:
    """An http(s) URL with a host and no spaces."""
    parts = urlsplit(text)
    if (parts.scheme not in ("http", "https") or not parts.netloc or " " in text
            or any(c in text for c in '<>"{}|\\^`')):
        raise CellProblem(f"„{text}“ ist keine URL (sie muss mit https:// oder http:// "
                          "beginnen)", "not a URL (must start with https:// or http://)")
    return URIRef(text)
