"""Load a project's Turtle sources into one dataset, a named graph per file."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.namespace import SH
from rdflib.plugins.parsers.notation3 import BadSyntax

from publisher.project import Project

__all__ = [
    "SourceError",
    "Sources",
    "graph_iri",
    "load_shapes",
    "load_sources",
    "parse_file",
]


class SourceError(ValueError):
    """A source file cannot be read or is not valid Turtle; names the file and line."""

    def __init__(self, path: str, line: int | None, message: str):
        self.path, self.line, self.message = path, line, message
        where = f"{path}:{line}" if line else path
        super().__init__(f"{where}: {message}")


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

    def union(self) -> Graph:
        """All triples of all source files in one graph (the published graph)."""
        graph = Graph()
        for prefix, namespace in self.dataset.namespaces():
            graph.bind(prefix, namespace, override=False)
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
        for iri, path in self.files.items():
            graph = self.dataset.graph(iri)
            if (node, None, None) not in graph:
                continue
            relative = self.project.relative(path)
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
            for number, text in enumerate(self.texts.get(path, []), start=1):
                if any(_token_in(needle, text) for needle in needles):
                    return relative, number
            return relative, None
        return None


def _token_in(needle: str, text: str) -> bool:
    """Whether needle stands in text as a whole token (not inside a longer name)."""
    return re.search(rf"(?<![\w:-]){re.escape(needle)}(?![\w-])", text) is not None


def graph_iri(base: str, project: Project, path: Path) -> URIRef:
    """The named graph a source file's triples sit in: <base>graph/<path without .ttl>."""
    relative = project.relative(path)
    return URIRef(f"{base}graph/{relative.removesuffix('.ttl')}")


def _error_line(exc: BadSyntax) -> int:
    """The 1-based line of a syntax error, counted from its offset in the parsed text.

    rdflib's own line counter drifts (it counts some newlines twice), the offset does not.
    """
    text, offset = getattr(exc, "_str", None), getattr(exc, "_i", None)
    if isinstance(text, bytes):  # the offset counts characters, not bytes
        text = text.decode("utf-8", errors="replace")
    if isinstance(text, str) and isinstance(offset, int):
        return text[:offset].count("\n") + 1
    return exc.lines + 1


def parse_file(graph: Graph, path: Path, base: str, shown: str | None = None) -> str:
    """Parse one Turtle file into graph, relative IRIs resolved against base; return its text."""
    shown = shown or str(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise SourceError(shown, None, f"cannot read: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise SourceError(shown, line, "not UTF-8 text") from None
    try:
        graph.parse(data=text, format="turtle", publicID=base)
    except BadSyntax as exc:
        # rdflib's message quotes the bytes around the error; keep its reason only.
        reason = getattr(exc, "_why", None) or str(exc).split("Bad syntax", 1)[-1].strip()
        raise SourceError(shown, _error_line(exc), f"Turtle syntax error: {reason}") from None
    except Exception as exc:  # rdflib raises plain exceptions for bad IRIs, literals, prefixes
        raise SourceError(shown, None, f"Turtle error: {exc}") from None
    return text


def load_sources(project: Project, base: str) -> Sources:
    """Parse the ontology and data files of a project, one named graph per file."""
    dataset = Dataset()
    sources = Sources(project=project, base=base, dataset=dataset)
    for path in project.source_files():
        iri = graph_iri(base, project, path)
        graph = dataset.graph(iri)
        text = parse_file(graph, path, base, project.relative(path))
        for prefix, namespace in graph.namespaces():
            dataset.bind(prefix, namespace, override=False)
        sources.files[iri] = path
        sources.texts[path] = text.splitlines()
    if not sources.files:
        raise SourceError(str(project.root), None, "no Turtle files in ontology/ or data/")
    # Imported here: the workbook import builds on this module's Sources and SourceError.
    from publisher.sheets.source import add_workbooks

    add_workbooks(sources)
    return sources


def load_shapes(project: Project, base: str) -> Graph:
    """Parse the SHACL shapes; the literal '{base}' in a sh:pattern stands for the base IRI."""
    shapes = Graph()
    for path in project.files("shapes"):
        parse_file(shapes, path, base, project.relative(path))
    if len(shapes) == 0:
        raise SourceError(str(project.root / "shapes"), None, "no SHACL shapes found")
    # SHACL cannot parametrise a regular expression by the document's base, so the
    # "IRIs of ours lie under the base" shape names it as '{base}' and we fill it in.
    for subject, pattern in list(shapes.subject_objects(SH.pattern)):
        if "{base}" in str(pattern):
            shapes.remove((subject, SH.pattern, pattern))
            filled = str(pattern).replace("{base}", re.escape(base))
            shapes.add((subject, SH.pattern, Literal(filled)))
    return shapes
