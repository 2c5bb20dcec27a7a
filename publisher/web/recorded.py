"""Where a page says its statements were recorded: the real files, sheets and rows.

A named graph's name is no file name: graph/data/events holds data/events.ttl, but
graph/data/veranstaltungen.ods holds the workbook itself, and a workbook's thing stands on
one row of one sheet. The release's build.json records both (Release.file_of, place_of); a
server without a local build (an external store) falls back to reading the graph's name.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

from publisher.iris import GRAPHS
from publisher.releases import Release

__all__ = ["Recorded", "file_of_graph", "recorded_in"]

_WORKBOOK_SUFFIXES = (".ods", ".xlsx", ".csv")  # a graph named after its file, suffix kept


@dataclass(frozen=True)
class Recorded:
    """One place a thing's statements come from: a file, and for a workbook's thing its
    sheet and row (the template words „Zeile“ or „row“ in the page's language)."""

    file: str
    sheet: str | None = None
    row: int | None = None


def file_of_graph(graph: str, base: str, release: Release | None) -> str:
    """The source file a named graph was read from, as the project names it."""
    known = release.file_of(graph) if release is not None else None
    if known is not None:
        return known
    path = unquote(str(graph).removeprefix(base).removeprefix(GRAPHS))
    if path.lower().endswith(_WORKBOOK_SUFFIXES) or path.split("/")[0] not in ("data",
                                                                               "ontology"):
        return path
    return f"{path}.ttl"


def recorded_in(graphs: list, thing: str, base: str, release: Release | None) -> list[Recorded]:
    """The files (and the workbook row) a thing's own statements were read from, in order."""
    place = release.place_of(thing) if release is not None else None
    found: list[Recorded] = []
    for graph in graphs:
        file = file_of_graph(str(graph), base, release)
        if place is not None and place[0] == file:
            found.append(Recorded(file, place[1], place[2]))
        else:
            found.append(Recorded(file))
    return list(dict.fromkeys(found))
