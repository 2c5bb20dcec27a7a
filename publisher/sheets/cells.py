"""One cell's value as RDF terms, or the reason it is wrong in German and English."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import urlsplit

from rdflib import Literal, URIRef

from publisher.dates import parse_when

__all__ = ["CellProblem", "check_iri", "parse_date", "parse_slug", "parse_text", "parse_url",
           "split_values", "text_of"]

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


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
        return (value.strftime("%d.%m.%Y") if value.time() == dt.time()
                else value.strftime("%d.%m.%Y %H:%M"))
    if isinstance(value, dt.date):
        return value.strftime("%d.%m.%Y")
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
    if not SLUG.fullmatch(text):
        raise CellProblem(
            f"„{text}“ ist kein gültiges Kürzel: nur Kleinbuchstaben (a–z), Ziffern und "
            "einzelne Bindestriche",
            "not a valid slug: only lower-case letters (a-z), digits and single hyphens")
    return text


def parse_date(value: Any, allow_time: bool = False) -> Literal:
    """A date as people write it (publisher.dates): a year, a month, a day and, where
    allow_time, a day with a Berlin time; a date cell of the spreadsheet counts as it is."""
    found = parse_when(value, allow_time)
    if found is not None:
        return found
    if allow_time:
        raise CellProblem(
            f"„{_shown(text_of(value))}“ ist kein Datum: erlaubt sind „2024“, „Mai 2024“, "
            "„05.05.2022“ oder „05.05.2022 15:00“ (Berliner Zeit)",
            "not a date: use '2024', 'Mai 2024', '05.05.2022' or '05.05.2022 15:00' "
            "(Berlin time)")
    raise CellProblem(
        f"„{_shown(text_of(value))}“ ist kein Datum: erlaubt sind „2024“, „Mai 2024“ oder "
        "„05.05.2022“ (ohne Uhrzeit)",
        "not a date: use '2024', 'Mai 2024' or '05.05.2022' (no time of day)")


# What an IRI may never hold (RFC 3987): controls, spaces, <>"{}|\^` and what ucschar
# leaves out (C1 controls, surrogates, non-characters, private use outside a query).
_NOT_IN_IRI = re.compile(r"[\x00-\x20\x7f-\x9f<>\"{}|\\^`\ud800-\uf8ff\ufdd0-\ufdef"
                         r"\ufff0-\uffff\U000e0000-\U000e0fff\U000f0000-\U0010ffff]")
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CHARACTER_NAMES = {"\n": ("einen Zeilenumbruch", "a line break"),
                    "\r": ("einen Zeilenumbruch", "a line break"),
                    "\t": ("einen Tabulator", "a tab"), " ": ("ein Leerzeichen", "a space")}


def _shown(text: str) -> str:
    """A cell's text for a message on one line: line breaks as ↵, other controls as �."""
    text = text if len(text) <= 200 else text[:200] + "…"
    return _CONTROLS.sub(lambda m: "↵" if m.group() in "\r\n" else "�", text)


def _iri_problem(text: str) -> tuple[str, str] | None:
    """Why the text cannot be an IRI in the graph (German, English), or None if it can.

    The store's own parser (pyoxigraph) decides, so what passes here is loaded by build;
    the characters it would refuse are named first, in the maintainer's words."""
    import pyoxigraph

    bad = _NOT_IN_IRI.search(text)
    if bad:
        char = bad.group()
        de, en = _CHARACTER_NAMES.get(char, (f"das Zeichen U+{ord(char):04X}",
                                             f"the character U+{ord(char):04X}"))
        if char not in _CHARACTER_NAMES and char.isprintable():
            de, en = f"das Zeichen „{char}“", f"the character '{char}'"
        return (f"enthält {de}; das ist in einer URL nicht erlaubt",
                f"contains {en}, which a URL may not hold")
    try:
        pyoxigraph.NamedNode(text)
    except ValueError as exc:
        return f"ist so keine gültige URL ({exc})", f"is not valid ({exc})"
    return None


def parse_url(text: str) -> URIRef:
    """An http(s) URL with a host, which the store can hold as an IRI as it stands."""
    shown = _shown(text)
    parts = urlsplit(text.strip())  # urlsplit drops line breaks and tabs: read, not trusted
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise CellProblem(f"„{shown}“ ist keine URL (sie muss mit https:// oder http:// "
                          "beginnen)", "not a URL (must start with https:// or http://)")
    problem = _iri_problem(text)
    if problem:
        raise CellProblem(f"„{shown}“ {problem[0]}",
                          f"not a URL the graph can hold: it {problem[1]}")
    return URIRef(text)


# What XML 1.0 cannot hold, so no RDF/XML dump or page could carry it: C0 controls but tab
# and line breaks, and U+FFFE/U+FFFF.
_NOT_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def parse_text(text: str, lang: str | None) -> Literal:
    """Text for a literal: any text a maintainer can see, but no control character."""
    bad = _NOT_IN_TEXT.search(text)
    if bad:
        code = f"U+{ord(bad.group()):04X}"
        raise CellProblem(f"enthält das unsichtbare Steuerzeichen {code}; bitte löschen",
                          f"contains the invisible control character {code}; delete it")
    return Literal(text, lang=lang)


def check_iri(iri: str, given: str) -> URIRef:
    """An IRI made from a cell's text (a class's compact form, expanded), if the store can
    hold it; the problem names the text as given."""
    problem = _iri_problem(iri)
    if problem:
        raise CellProblem(f"„{_shown(given)}“ {problem[0]}",
                          f"not a name the graph can hold: it {problem[1]}")
    return URIRef(iri)
