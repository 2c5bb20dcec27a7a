"""The declarative mappings from a workbook's columns to RDF, one JSON file per kind.

The files use the W3C CSV on the Web metadata vocabulary (titles, propertyUrl, datatype,
required, separator, default, lang, aboutUrl) with a few annotations of our own under
`kg:` (the kind, the classes, look-ups by name, fixed choices, an example value).

Why our own interpreter and not an engine: morph-kgc 2.10 (RML/YARRRML) pins pyoxigraph
0.3, which conflicts with the pyoxigraph 0.5 the store needs, and brings pandas, numpy and
duckdb; the `csvw` package (4.1) reads CSV files only, writes every value as a plain
literal (no language tags, no datatypes) and cannot look a Träger up by its name. Neither
names a wrong cell by sheet, row and column in the maintainer's words. So the mapping
stays a declarative CSVW document and this module reads it; a new column is a change to
the JSON file only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from rdflib import URIRef

from publisher.namespaces import kg, prefixes

__all__ = ["KINDS", "Column", "Mapping", "expand", "load_mapping", "mappings"]

HERE = Path(__file__).resolve().parent / "mappings"

# The prefixes the mappings' compact IRIs may use (besides kg:), a part of the one table.
PREFIXES = prefixes("rdf", "rdfs", "skos", "dcterms", "org", "schema", "cv", "foaf", "prov")


def expand(curie: str, base: str) -> URIRef:
    """A compact IRI (prefix:name; kg: is the project's ontology) as a full IRI."""
    prefix, sep, local = curie.partition(":")
    if not sep:
        raise KeyError(curie)
    if prefix == "kg":
        return kg(base)[local]
    return URIRef(PREFIXES[prefix] + local)


@dataclass(frozen=True)
class Column:
    """One column of a kind's sheet and how its cells become triples."""

    name: str
    title_de: str
    title_en: str
    properties: tuple[str, ...] = ()
    datatype: str = "string"
    lang: str | None = None
    required: bool = False
    separator: str | None = None
    default: str | None = None
    lookup: tuple[str, ...] = ()
    inverse: str | None = None  # the property the looked-up thing gets back (kg:operates)
    choices: dict[str, str] = field(default_factory=dict)
    description_de: str = ""
    description_en: str = ""
    example: str = ""


@dataclass(frozen=True)
class Mapping:
    """A kind's mapping: its sheet, the IRI template, the classes and the columns."""

    kind: str
    title_de: str
    title_en: str
    about: str
    select: str | None
    types: tuple[str, ...]
    columns: tuple[Column, ...]

    def column(self, name: str) -> Column:
        """The column of that name."""
        return next(c for c in self.columns if c.name == name)

    def iri(self, base: str, slug: str) -> URIRef:
        """The IRI of the thing a row with this slug describes."""
        return URIRef(base + self.about.replace("{slug}", slug))

    def prefix(self, base: str) -> str:
        """The IRI prefix every thing of this kind has."""
        return base + self.about.split("{", 1)[0]


def _column(raw: dict) -> Column:
    props = raw.get("propertyUrl") or ()
    return Column(
        name=raw["name"], title_de=raw["titles"]["de"], title_en=raw["titles"]["en"],
        properties=tuple([props] if isinstance(props, str) else props),
        datatype=raw.get("datatype", "string"), lang=raw.get("lang"),
        required=bool(raw.get("required")), separator=raw.get("separator"),
        default=raw.get("default"), lookup=tuple(raw.get("kg:lookup", ())),
        inverse=raw.get("kg:inverse"),
        choices=dict(raw.get("kg:choices", {})),
        description_de=raw.get("dc:description", {}).get("de", ""),
        description_en=raw.get("dc:description", {}).get("en", ""),
        example=raw.get("kg:example", ""))


def load_mapping(path: Path) -> Mapping:
    """Read one mapping file."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    return Mapping(kind=raw["kg:kind"], title_de=raw["dc:title"]["de"],
                   title_en=raw["dc:title"]["en"], about=raw["tableSchema"]["aboutUrl"],
                   select=raw.get("kg:select"), types=tuple(raw.get("kg:types", ())),
                   columns=tuple(_column(c) for c in raw["tableSchema"]["columns"]))


@cache
def mappings() -> dict[str, Mapping]:
    """Every kind's mapping, by kind."""
    found = (load_mapping(p) for p in sorted(HERE.glob("*.json")))
    return {m.kind: m for m in found}


KINDS = ("organisation", "stadtteilzentrum", "event", "membership")
