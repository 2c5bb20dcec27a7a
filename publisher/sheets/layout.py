"""The workbook layout of a kind: data sheet, help sheet, drop-down lists, meta sheet."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF
from rdflib.term import Identifier, Node

from publisher.dates import as_cell
from publisher.namespaces import kg
from publisher.sheets.cells import split_values
from publisher.sheets.classes import class_name
from publisher.sheets.convert import EXAMPLE_SHEET, META_SHEET, Names
from publisher.sheets.mapping import PREFIXES, Column, Mapping, expand
from publisher.sheets.workbook import SheetSpec, write_workbook

__all__ = ["ExportError", "export_rows", "things_of", "workbook_sheets", "write_kind"]

HELP_SHEET, LIST_SHEET = "Hilfe", "Listen"


class ExportError(ValueError):
    """A thing cannot be written in the kind's layout (a value no column can hold)."""


def things_of(graph: Graph, mapping: Mapping, base: str) -> list[URIRef]:
    """The things of a kind in the graph: under its IRI prefix (and of its class), sorted."""
    prefix = mapping.prefix(base)
    cls = expand(mapping.select, base) if mapping.select else None
    return sorted(s for s in set(graph.subjects(RDF.type, cls))
                  if isinstance(s, URIRef) and s.startswith(prefix))


def _compact(iri: Identifier, base: str) -> str:
    ours = kg(base)
    if iri.startswith(ours):
        return "kg:" + iri[len(ours):]
    for prefix, ns in PREFIXES.items():
        if iri.startswith(ns) and "/" not in iri[len(ns):] and "#" not in iri[len(ns):]:
            return f"{prefix}:{iri[len(ns):]}"
    raise ExportError(f"{iri}: no compact form")


def _class_cell(graph: Graph, names: Names, iri: Identifier, base: str) -> str:
    """A class as the „Art" column writes it: its German name, if that names it alone."""
    name = class_name(graph, URIRef(iri))
    if name and names.classes.get(name.casefold()) == iri:
        return name
    return _compact(iri, base)


def _name_of(graph: Graph, names: Names, column: Column, iri: Identifier) -> str:
    """The name a look-up cell writes for a thing: its German name where that is unique."""
    for name in Names._names_of(graph, iri):
        if names.find(column.lookup, name) == {iri}:
            return name
    return iri.rsplit("/", 1)[-1]


def _cell(graph: Graph, names: Names, column: Column, subject: URIRef, base: str) -> Any:
    if not column.properties:
        return subject.rsplit("/", 1)[-1]
    prop = expand(column.properties[0], base)
    objects = [o for o in graph.objects(subject, prop)  # a graph's terms are Identifiers
               if isinstance(o, Identifier)
               and not (column.lang and isinstance(o, Literal) and o.language != column.lang)]
    if column.datatype in ("date", "kg:when"):
        cells = [as_cell(o) if isinstance(o, Literal) else None for o in objects]
        if len(cells) > 1 or None in cells:
            raise ExportError(f"{subject}: {column.name} holds {[str(o) for o in objects]}")
        return cells[0] if cells else None
    if column.lookup:
        texts = [_name_of(graph, names, column, o) for o in objects]
    elif column.choices:
        back: dict[Node, str] = {expand(v, base): k for k, v in column.choices.items()}
        texts = [back[o] for o in objects if o in back]
    elif column.datatype == "kg:curie":  # a class by its German name where it is unique
        texts = [_class_cell(graph, names, o, base) for o in objects]
    else:
        texts = [str(o) for o in objects]
    texts.sort(key=str.casefold)
    if len(texts) > 1 and column.separator is None:
        raise ExportError(f"{subject}: {column.title_de} holds {len(texts)} values")
    joined = (column.separator or "").join(texts)
    if column.separator and len(split_values(joined, column.separator)) != len(texts):
        raise ExportError(f"{subject}: a value of {column.title_de} holds its separator")
    return joined or None


def export_rows(graph: Graph, mapping: Mapping, base: str) -> list[list[Any]]:
    """One row per thing of the kind, in the layout's column order."""
    names = Names(graph, base)
    return [[_cell(graph, names, c, s, base) for c in mapping.columns]
            for s in things_of(graph, mapping, base)]


def _example_row(mapping: Mapping, lists: dict[str, list[str]]) -> list[Any]:
    row: list[Any] = []
    for column in mapping.columns:
        value: Any = column.example or None
        if value == "@first":
            choices = lists.get(column.name)
            value = choices[0] if choices else None
        elif value and column.datatype in ("date", "kg:when"):
            value = dt.date.fromisoformat(value)
        row.append(value)
    return row


def workbook_sheets(mapping: Mapping, graph: Graph, base: str,
                    rows: list[list[Any]] | None = None) -> list[SheetSpec]:
    """The sheets of a template (rows None: an empty data sheet and an example sheet) or of
    an export (rows given)."""
    names = Names(graph, base)
    lists = {c.name: (list(c.choices) if c.choices else names.choices(c.lookup, graph))
             for c in mapping.columns if c.lookup or c.choices}
    header = [c.title_de for c in mapping.columns]
    notes = {(0, i): f"{c.title_en}: {c.description_en}" for i, c in enumerate(mapping.columns)}
    # A template's data sheet is empty: its example row stands on a sheet of its own, which
    # the import never reads (issue 23: an example row left in was published).
    data_rows: list[list[Any]] = [header, *(rows or [])]
    # Date columns are text: LibreOffice would make „Mai 2024" typed there 1 May 2024
    dated = {i for i, c in enumerate(mapping.columns) if c.datatype in ("date", "kg:when")}
    data = SheetSpec(mapping.title_de, data_rows, notes=notes,
                     widths={i: 4.5 for i in range(len(header))}, text_columns=dated)
    example = SheetSpec(EXAMPLE_SHEET, [header, _example_row(mapping, lists),
                                        [], ["Nur ein Beispiel: dieses Blatt wird nicht "
                                             "importiert. Einträge gehören auf das Blatt "
                                             f"„{mapping.title_de}“."],
                                        ["Only an example: this sheet is never imported. "
                                         f"Entries go on the sheet '{mapping.title_de}'."]],
                        widths={i: 4.5 for i in range(len(header))}, text_columns=dated)
    list_rows: list[list[Any]] = [[mapping.column(n).title_de for n in lists]]
    for r in range(max([len(v) for v in lists.values()] + [0])):
        list_rows.append([v[r] if r < len(v) else None for v in lists.values()])
    for position, name in enumerate(lists):
        index = [c.name for c in mapping.columns].index(name)
        data.lists[index] = (LIST_SHEET, position, max(len(lists[name]), 1))
    help_rows: list[list[Any]] = [
        ["Spalte", "column", "Pflicht / required", "Beschreibung", "description"]]
    help_rows += [[c.title_de, c.title_en, "ja / yes" if c.required else "",
                   c.description_de, c.description_en] for c in mapping.columns]
    help_rows += [[], ["Eine Zeile je Eintrag. Prüfen: kiezgraph validate; veröffentlichen: "
                       "kiezgraph build; Änderungen ansehen: /changes."],
                  ["One row per entry. Check: kiezgraph validate; publish: kiezgraph build; "
                   "see the changes: /changes."]]
    meta: list[list[Any]] = [
        ["kiezgraph", "Diese Tabelle wird von kiezgraph gelesen / read by kiezgraph"],
        ["Art / kind", mapping.kind], ["Version", 1]]
    return [data, *([example] if rows is None else []),
            SheetSpec(HELP_SHEET, help_rows, widths={0: 4, 1: 4, 2: 3, 3: 12, 4: 12}),
            SheetSpec(LIST_SHEET, list_rows, hidden=True),
            SheetSpec(META_SHEET, meta, hidden=True, bold_first_row=False)]


def write_kind(mapping: Mapping, graph: Graph, base: str, out: Path, export: bool) -> int:
    """Write a kind's template (export False) or its current things; return the row count."""
    rows = export_rows(graph, mapping, base) if export else None
    write_workbook(out, workbook_sheets(mapping, graph, base, rows))
    return len(rows) if rows is not None else 0
