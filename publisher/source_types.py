"""What loading the sources yields, and the error for a source that cannot be read.

publisher.sources (the Turtle files) and publisher.sheets.source (the workbooks) both fill a
Sources and raise SourceError. The two types live here, so load_sources calls the workbook
import directly and sheets.source needs nothing back from publisher.sources (the two modules
used to import each other).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import Dataset, Graph, URIRef

from publisher.project import Project

__all__ = ["SourceError", "Sources"]


class SourceError(ValueError):
    """A source file cannot be read or is not valid Turtle; names the file and line.

    str() is the English text (as before); bilingual() is German first, then English, each
    with how to fix it where we know.
    """

    def __init__(self, path: str, line: int | None, message: str, message_de: str = "",
                 hint_en: str = "", hint_de: str = ""):
        self.path, self.line, self.message = path, line, message
        self.message_de = message_de or message
        self.hint_en, self.hint_de = hint_en, hint_de
        self.exit_code = 2  # unreadable input (README); a wrong value in a cell says 1
        where = f"{path}:{line}" if line else path
        self.where = where
        super().__init__(f"{where}: {message}")

    def bilingual(self) -> str:
        """German, then English: where, what is wrong and how to fix it."""
        german = f"Fehler: {self.where}: {self.message_de}"
        english = f"error: {self.where}: {self.message}"
        if self.hint_de:
            german += f"\n  Abhilfe: {self.hint_de}"
        if self.hint_en:
            english += f"\n  Fix: {self.hint_en}"
        return f"{german}\n{english}"


@dataclass
class Sources:
    """The parsed sources: the dataset, and for each named graph the file it came from."""

    project: Project
    base: str
    dataset: Dataset
    files: dict[URIRef, Path] = field(default_factory=dict)
    texts: dict[Path, list[str]] = field(default_factory=dict)
    # Things from workbooks: "file › sheet › Zeile N", where a report points instead of a
    # line, and which column each property came from (by the property's local name).
    places: dict[URIRef, str] = field(default_factory=dict)
    columns: dict[URIRef, dict[str, str]] = field(default_factory=dict)
    prefixes: dict[str, str] = field(default_factory=dict)
    # The real place of each thing from a workbook: (file, sheet, row), as build.json records
    # it ("rows") for pages to name; the graph's name (graph/data/x.ods) is no file name.
    rows: dict[URIRef, tuple[str, str, int]] = field(default_factory=dict)

    def union(self) -> Graph:
        """All triples of all source files in one graph (the published graph)."""
        # Only the files' own prefixes (rdflib's defaults would name http://schema.org/
        # "schema1", as its own "schema" is https://schema.org/).
        graph = Graph(bind_namespaces="core")
        for prefix, namespace in self.prefixes.items():
            graph.bind(prefix, namespace, override=True, replace=True)
        for context in self.dataset.graphs():
            for triple in context:
                graph.add(triple)
        return graph

    def locate(self, node, path: str | None = None) -> tuple[str, int | None] | None:
        """Where a subject is written down: the source file and, where found, the line.

        For a thing from a workbook: file › sheet › row, and › column where the violated
        property (path, as the report shortens it) came from one."""
        if node in self.places:
            local = re.split(r"[:/#]", path)[-1] if path else None
            column = self.columns.get(node, {}).get(local) if local else None
            return self.places[node] + (f" › Spalte „{column}“" if column else ""), None
        for iri, file in self.files.items():
            graph = self.dataset.graph(iri)
            if (node, None, None) not in graph:
                continue
            relative = self.project.relative(file)
            if not isinstance(node, URIRef):
                return relative, None
            needles = [f"<{node}>"]
            try:
                prefix, _ns, local = graph.namespace_manager.compute_qname(node, generate=False)
                needles.append(f"{prefix}:{local}")
            except (ValueError, KeyError, TypeError):
                pass
            if node.startswith(self.base):
                needles.append(f"<{node[len(self.base):]}>")
            for number, text in enumerate(self.texts.get(file, []), start=1):
                if any(_token_in(needle, text) for needle in needles):
                    return relative, number
            return relative, None
        return None

    def locate_statement(self, node, needles: list[str],
                         triple: tuple | None = None) -> tuple[str, int | None] | None:
        """Where a statement about node is written: the line at or after the subject's that
        holds one of the needles (the property or the value as written), else the subject's.
        """
        where = self.locate(node)
        if triple is not None:  # the file that holds the very triple, where known
            for iri, path in self.files.items():
                if triple in self.dataset.graph(iri):
                    relative = self.project.relative(path)
                    if where is None or where[0] != relative:
                        where = (relative, None)
                    break
        if where is None:
            return None
        relative, line = where
        path = self.project.root / relative
        lines = self.texts.get(path) or self.texts.get(path.resolve()) or []
        for needle in (n for n in needles if n):  # the most telling needle first
            for start in ((line or 1) - 1, 0):
                for number in range(start, len(lines)):
                    if needle in lines[number]:
                        return relative, number + 1
        return where


def _token_in(needle: str, text: str) -> bool:
    """Whether needle stands in text as a whole token (not inside a longer name)."""
    return re.search(rf"(?<![\w:-]){re.escape(needle)}(?![\w-])", text) is not None
