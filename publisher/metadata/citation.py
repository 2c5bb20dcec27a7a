"""Citations of a versioned document (issue 25): text, BibTeX, RIS and CSL-JSON.

A citation names what a reader saw: the versioned IRI of a release's document, the release
(its version and when it was published) and the day it was accessed. The author is the
dataset's publisher as the catalogue names it; nothing here invents people.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from publisher.metadata.catalog import PUBLISHER_NAME, TITLE

__all__ = ["FORMATS", "Citation", "bibtex", "csl_json", "ris", "text"]

# name in the URL -> (media type, file suffix)
FORMATS = {
    "bibtex": ("application/x-bibtex", "bib"),
    "ris": ("application/x-research-info-systems", "ris"),
    "csl": ("application/vnd.citationstyles.csl+json", "json"),
}


@dataclass(frozen=True)
class Citation:
    """What a citation says."""

    title: str
    url: str  # the versioned IRI
    version: str
    released: dt.datetime
    accessed: dt.date
    publisher: str = PUBLISHER_NAME
    container: str = TITLE["en"]

    @property
    def key(self) -> str:
        """A BibTeX key: the dataset, the version and the title's letters."""
        slug = re.sub(r"[^A-Za-z0-9]+", "-", self.title).strip("-").lower()[:40]
        return f"kiezgraph-{self.version}-{slug}".rstrip("-")


def text(c: Citation, lang: str = "de") -> str:
    """The citation as one line of text (German or English)."""
    if lang == "de":
        return (f"{c.publisher}: {c.title}. In: {c.container}, Version {c.version} vom "
                f"{c.released.date().isoformat()}. {c.url} (abgerufen am "
                f"{c.accessed.isoformat()}).")
    return (f"{c.publisher}: {c.title}. In: {c.container}, release {c.version} of "
            f"{c.released.date().isoformat()}. {c.url} (accessed {c.accessed.isoformat()}).")


_TEX = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "&": r"\&", "%": r"\%",
        "$": r"\$", "#": r"\#", "_": r"\_", "~": r"\textasciitilde{}", "^": r"\^{}"}


def _tex(value: str) -> str:
    return "".join(_TEX.get(ch, ch) for ch in value)


def bibtex(c: Citation) -> str:
    """A BibTeX @misc entry (biblatex's urldate and version fields included)."""
    fields = [("author", "{" + _tex(c.publisher) + "}"), ("title", _tex(c.title)),
              ("howpublished", _tex(c.container)), ("publisher", _tex(c.publisher)),
              ("version", _tex(c.version)), ("year", str(c.released.year)),
              ("month", str(c.released.month)), ("url", c.url),
              ("urldate", c.accessed.isoformat()),
              ("note", _tex(f"Release {c.version} of {c.released.date().isoformat()}, "
                            f"accessed {c.accessed.isoformat()}"))]
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
    return f"@misc{{{c.key},\n{body}\n}}\n"


def ris(c: Citation) -> str:
    """An RIS record (type DATA)."""
    lines = [("TY", "DATA"), ("AU", c.publisher), ("TI", c.title), ("T2", c.container),
             ("PB", c.publisher), ("ET", c.version), ("PY", str(c.released.year)),
             ("DA", c.released.strftime("%Y/%m/%d")), ("UR", c.url),
             ("Y2", c.accessed.strftime("%Y/%m/%d")), ("ER", "")]
    return "".join(f"{tag}  - {value}\r\n" for tag, value in lines)


def _parts(day: dt.date) -> dict:
    return {"date-parts": [[day.year, day.month, day.day]]}


def csl_json(c: Citation) -> list[dict]:
    """CSL-JSON: a list with one item of type dataset."""
    return [{"id": c.key, "type": "dataset", "title": c.title,
             "author": [{"literal": c.publisher}], "publisher": c.publisher,
             "container-title": c.container, "version": c.version, "URL": c.url,
             "issued": _parts(c.released.date()), "accessed": _parts(c.accessed)}]
