"""Turn kiezgraph workbooks into RDF by their mappings, naming every wrong cell."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from rdflib import Graph, Literal, URIRef
from rdflib.term import Node

from publisher.namespaces import RDF, RDFS, SCHEMA, SKOS
from publisher.sheets.cells import (
    CellProblem,
    check_iri,
    parse_date,
    parse_slug,
    parse_text,
    parse_url,
    split_values,
    text_of,
)
from publisher.sheets.classes import class_names
from publisher.sheets.mapping import Column, Mapping, expand, mappings
from publisher.sheets.workbook import Workbook

__all__ = ["EXAMPLE_SHEET", "META_SHEET", "Converted", "Names", "Problem", "Table",
           "convert_tables", "find_table", "load_tables", "register_tables"]

META_SHEET = "kiezgraph"
# The template's example sheet, never imported (nor any sheet its name marks as examples).
EXAMPLE_SHEET = "Beispiel"
_EXAMPLE_NAMES = ("beispiel", "beispiele", "example", "examples")


@dataclass(frozen=True)
class Problem:
    """A wrong cell (or row, or file), in the maintainer's terms: file › sheet › row › column."""

    file: str
    sheet: str | None
    row: int | None
    column: str | None
    de: str
    en: str
    read_as: str = ""  # a CSV file's encoding and separator, as detected
    unreadable: bool = False  # the file cannot be read as a workbook (exit 2, not 1)

    def where(self) -> str:
        """file › sheet › Zeile N › Spalte „X“, as far as known (a CSV file with how it was
        read: a wrong guess of encoding or separator shows in every message)."""
        parts = [f"{self.file} ({self.read_as})" if self.read_as else self.file]
        if self.sheet:
            parts.append(self.sheet)
        if self.row:
            parts.append(f"Zeile {self.row}")
        if self.column:
            parts.append(f"Spalte „{self.column}“")
        return " › ".join(parts)

    def text(self) -> str:
        """The problem in one line, German first."""
        return f"{self.where()}: {self.de} / {self.en}"


@dataclass
class Table:
    """A workbook's data sheet: its kind, header positions and data rows (1-based numbers)."""

    file: str
    sheet: str
    mapping: Mapping
    columns: dict[str, int]  # column name -> index
    rows: list[tuple[int, list[Any]]]
    read_as: str = ""  # a CSV file's encoding and separator

    def cell(self, row: list[Any], name: str) -> Any:
        """The value of a named column in a row (None where the column is absent or empty)."""
        index = self.columns.get(name)
        return row[index] if index is not None and index < len(row) else None


@dataclass
class Converted:
    """The triples of every table and where each thing was written."""

    graphs: dict[str, Graph] = field(default_factory=dict)  # file -> graph
    places: dict[URIRef, tuple[str, str, int]] = field(default_factory=dict)
    columns: dict[URIRef, dict[str, str]] = field(default_factory=dict)  # local name -> title
    problems: list[Problem] = field(default_factory=list)
    read_as: dict[str, str] = field(default_factory=dict)  # file -> encoding and separator


def _kind_from_meta(book: Workbook) -> str | None:
    for row in book.sheets.get(META_SHEET, []):
        if len(row) >= 2 and text_of(row[0]).lower().startswith(("art", "kind")):
            return text_of(row[1])
    return None


def _header_names(header: list[Any], mapping: Mapping) -> tuple[dict[str, int], list[str]]:
    """Which column sits where, by German or English title; and the unknown titles."""
    titles = {}
    for column in mapping.columns:
        for title in (column.title_de, column.title_en, column.name):
            titles[title.casefold()] = column.name
    found, unknown = {}, []
    for index, cell in enumerate(header):
        text = text_of(cell).split("\n")[0].split(" / ")[0].strip()
        if not text:
            continue
        name = titles.get(text.casefold())
        if name is None:
            unknown.append(text)
        elif name not in found:
            found[name] = index
    return found, unknown


def find_table(book: Workbook, shown: str) -> tuple[Table | None, list[Problem]]:
    """The data sheet of a kiezgraph workbook, recognised by its meta sheet or its header."""
    kind = _kind_from_meta(book)
    candidates = [m for m in mappings().values() if kind is None or m.kind == kind]
    if kind is not None and not candidates:
        return None, [Problem(shown, META_SHEET, None, None,
                              f"unbekannte Art „{kind}“ (bekannt: {', '.join(mappings())})",
                              f"unknown kind (known: {', '.join(mappings())})")]
    best = None
    for name, rows in book.sheets.items():
        if name == META_SHEET or not rows or name.strip().casefold() in _EXAMPLE_NAMES:
            continue
        for mapping in candidates:
            found, unknown = _header_names(rows[0], mapping)
            score = (len(found), name == mapping.title_de)
            needed = {c.name for c in mapping.columns if c.required}
            if kind is None and not needed <= set(found):
                continue
            if found and (best is None or score > best[0]):
                best = (score, name, mapping, found, unknown)
    if best is None:
        return None, [Problem(shown, None, None, None,
                              "ist keine kiezgraph-Tabelle: Blatt „kiezgraph“ mit der Art fehlt "
                              "und keine Kopfzeile passt",
                              "not a kiezgraph workbook: no 'kiezgraph' sheet naming its kind "
                              "and no header row fits")]
    _score, sheet, mapping, found, unknown = best
    problems = [Problem(shown, sheet, 1, title, "unbekannte Spalte", "unknown column")
                for title in unknown]
    problems += [Problem(shown, sheet, 1, c.title_de, "Pflichtspalte fehlt",
                         "required column missing")
                 for c in mapping.columns if c.required and c.name not in found]
    data_rows = [(number, row) for number, row in enumerate(book.sheets[sheet], start=1)
                 if number > 1 and any(text_of(v) for v in row)]
    return Table(shown, sheet, mapping, found, data_rows, book.read_as), problems


class Names:
    """Things that cells may name (a Träger, a place, an event), by kind and name or slug."""

    def __init__(self, graph: Graph, base: str):
        self.base = base
        self.classes = class_names(graph)
        self.by_kind: dict[str, dict[str, set[URIRef]]] = {}
        for subject in set(graph.subjects()):
            if isinstance(subject, URIRef):
                for name in self._names_of(graph, subject):
                    self.add(subject, name)

    @staticmethod
    def _names_of(graph: Graph, subject: Node) -> list[str]:
        return [str(o) for p in (SKOS.prefLabel, RDFS.label, SCHEMA.name)
                for o in graph.objects(subject, p)
                if isinstance(o, Literal) and o.language in ("de", None)]

    def _kind(self, iri: URIRef) -> tuple[str, str] | None:
        if not iri.startswith(self.base + "id/"):
            return None
        kind, _, slug = iri[len(self.base) + 3:].rpartition("/")
        return (kind, slug) if kind and slug else None

    def add(self, iri: URIRef, name: str | None = None) -> None:
        """Make a thing findable by its slug and, where given, its name."""
        found = self._kind(iri)
        if found is None:
            return
        kind, slug = found
        table = self.by_kind.setdefault(kind, {})
        for key in (slug, name):
            if key:
                table.setdefault(key.strip().casefold(), set()).add(iri)

    def find(self, kinds: tuple[str, ...], text: str) -> set[URIRef]:
        """Every thing of these kinds of that name or slug."""
        key = text.strip().casefold()
        return set().union(*(self.by_kind.get(k, {}).get(key, set()) for k in kinds))

    def choices(self, kinds: tuple[str, ...], graph: Graph) -> list[str]:
        """The names a drop-down offers for these kinds: each thing's German name."""
        out = set()
        for kind in kinds:
            for iris in self.by_kind.get(kind, {}).values():
                for iri in iris:
                    names = self._names_of(graph, iri)
                    if names:
                        out.add(names[0])
        return sorted(out, key=str.casefold)


KIND_WORDS = {"organisation": ("Organisation", "organisation"),
              "stadtteilzentrum": ("Stadtteilzentrum", "neighbourhood centre"),
              "place": ("Ort", "place"), "site": ("Gebäude", "site"),
              "event": ("Veranstaltung", "event"),
              "concept/partner-role": ("Rolle", "role"),
              "collaboration": ("Kooperation", "collaboration")}


def _lookup(column: Column, text: str, names: Names) -> URIRef:
    found = names.find(column.lookup, text)
    what_de = " oder ".join(KIND_WORDS.get(k, (k, k))[0] for k in column.lookup)
    what_en = " or ".join(KIND_WORDS.get(k, (k, k))[1] for k in column.lookup)
    if not found:
        raise CellProblem(f"unbekannter Name „{text}“: keine {what_de} dieses Namens im Graphen",
                          f"unknown name: no {what_en} of that name in the graph")
    if len(found) > 1:
        raise CellProblem(f"„{text}“ ist mehrdeutig; bitte das Kürzel angeben",
                          "ambiguous name; give the slug instead")
    return next(iter(found))


def _values(column: Column, raw: Any, table: Table, row: list[Any], base: str,
            names: Names) -> list[URIRef | Literal]:
    """The RDF terms one cell stands for."""
    if column.datatype in ("date", "kg:when"):
        return [parse_date(raw, column.datatype == "kg:when")] if text_of(raw) else []
    text = text_of(raw)
    if not text and column.default:
        text = column.default
        if text.startswith("{") and text.endswith("}"):
            text = text_of(table.cell(row, text[1:-1]))
    values: list[URIRef | Literal] = []
    for part in split_values(text, column.separator):
        if column.lookup:
            values.append(_lookup(column, part, names))
        elif column.choices:
            if part not in column.choices:
                raise CellProblem(f"„{part}“ ist nicht vorgesehen (erlaubt: "
                                  f"{', '.join(column.choices)})",
                                  "not one of the allowed values")
            values.append(expand(column.choices[part], base))
        elif column.datatype == "anyURI":
            values.append(parse_url(part))
        elif column.datatype == "kg:curie":  # a class by its name (or its compact form)
            named = names.classes.get(part.strip().casefold())
            if named is not None:
                values.append(named)
                continue
            try:
                values.append(check_iri(expand(part, base), part))
            except KeyError:
                raise CellProblem(f"unbekannte Art „{part}“ (ein Name wie „Formale "
                                  "Organisation“, „Nichtregierungsorganisation“)",
                                  "unknown kind (a name such as 'Formal organisation', "
                                  "'Non-governmental organisation')") from None
        else:
            values.append(parse_text(part, column.lang))
    return values


def convert_tables(tables: list[Table], base: str, names: Names, taken: dict[URIRef, str],
                   graph_for: Callable[[str], Graph] | None = None) -> Converted:
    """Every table's rows as triples, one graph per file; problems for every wrong cell.

    names must already know every table's things (register_tables); taken maps the IRIs
    other sources (the Turtle files) describe to their file, so a slug cannot clash;
    graph_for gives the graph a file's triples go to (default: a new one)."""
    out = Converted()
    seen: dict[URIRef, tuple[str, str, int]] = {}
    for table in tables:
        if table.file not in out.graphs:
            out.graphs[table.file] = graph_for(table.file) if graph_for else Graph()
        graph = out.graphs[table.file]
        properties = {c.name: [expand(p, base) for p in c.properties]
                      for c in table.mapping.columns}
        inverses = {c.name: expand(c.inverse, base) for c in table.mapping.columns
                    if c.inverse}
        types = [expand(t, base) for t in table.mapping.types]
        by_local = {re.split(r"[/#]", str(p))[-1]: c.title_de for c in table.mapping.columns
                    for p in properties[c.name]}
        slug_title = table.mapping.column("slug").title_de
        for number, row in table.rows:
            def problem(column: Column | None, exc: CellProblem, number=number,
                        table=table) -> None:
                out.problems.append(Problem(table.file, table.sheet, number,
                                            column.title_de if column else None,
                                            exc.de, exc.en))
            try:
                slug = parse_slug(table.cell(row, "slug"))
            except CellProblem as wrong:
                empty = CellProblem("darf nicht leer sein (Pflichtfeld)", "must not be empty")
                problem(table.mapping.column("slug"),
                        wrong if text_of(table.cell(row, "slug")) else empty)
                continue
            subject = table.mapping.iri(base, slug)
            if subject in seen:
                first = seen[subject]
                out.problems.append(Problem(
                    table.file, table.sheet, number, slug_title,
                    f"Kürzel „{slug}“ kommt doppelt vor (zuerst {first[0]} › {first[1]} › "
                    f"Zeile {first[2]})", "duplicate slug"))
                continue
            if subject in taken:
                out.problems.append(Problem(
                    table.file, table.sheet, number, slug_title,
                    f"Kürzel „{slug}“ ist schon vergeben (in {taken[subject]})",
                    "slug already in use"))
                continue
            seen[subject] = out.places[subject] = (table.file, table.sheet, number)
            out.columns[subject] = by_local
            triples: list[tuple[Node, Node, Node]] = [(subject, RDF.type, t) for t in types]
            for column in table.mapping.columns:
                raw = table.cell(row, column.name)
                if column.required and not text_of(raw) and column.name in table.columns:
                    problem(column, CellProblem("darf nicht leer sein (Pflichtfeld)",
                                                "must not be empty"))
                    continue
                if not column.properties:
                    continue
                try:
                    values = _values(column, raw, table, row, base, names)
                except CellProblem as exc:
                    problem(column, exc)
                    continue
                for prop in properties[column.name]:
                    triples += [(subject, prop, v) for v in values]
                if column.name in inverses:
                    triples += [(v, inverses[column.name], subject) for v in values]
            for triple in triples:
                graph.add(triple)
    out.read_as = {t.file: t.read_as for t in tables if t.read_as}
    out.problems = [replace(p, read_as=out.read_as.get(p.file, "")) for p in out.problems]
    return out


def register_tables(tables: list[Table], base: str, names: Names) -> None:
    """Make every row's thing findable by its slug and name before any row is converted."""
    for table in tables:
        name_column = next(c for c in table.mapping.columns
                           if c.lang and c.required)
        for _number, row in table.rows:
            try:
                slug = parse_slug(table.cell(row, "slug"))
            except CellProblem:
                continue
            names.add(table.mapping.iri(base, slug), text_of(table.cell(row, name_column.name)))



def load_tables(paths: list[tuple[Path, str]]) -> tuple[list[Table], list[Problem]]:
    """Read workbooks (path, name shown) and find their data sheets."""
    from publisher.sheets.workbook import WorkbookError, read_workbook

    tables, problems = [], []
    for path, shown in paths:
        try:
            book = read_workbook(path)
        except WorkbookError as exc:
            problems.append(Problem(shown, exc.sheet, exc.row, None, exc.de, exc.en,
                                    unreadable=True))
            continue
        table, found = find_table(book, shown)
        problems += [replace(p, read_as=book.read_as) for p in found]
        if table is not None:
            tables.append(table)
    return tables, problems
