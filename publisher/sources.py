"""Load a project's Turtle sources into one dataset, a named graph per file."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin

from rdflib import Dataset, Graph, URIRef
from rdflib.plugins.parsers.notation3 import BadSyntax

from publisher.project import Project

__all__ = [
    "KNOWN_PREFIXES",
    "SourceError",
    "Sources",
    "graph_iri",
    "load_shapes",
    "load_sources",
    "parse_file",
]


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


# Namespaces for the hint on an undefined prefix, where no file of the project declares it.
KNOWN_PREFIXES = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dcterms": "http://purl.org/dc/terms/",
    "org": "http://www.w3.org/ns/org#",
    "prov": "http://www.w3.org/ns/prov#",
    "schema": "http://schema.org/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "time": "http://www.w3.org/2006/time#",
    "cv": "http://data.europa.eu/m8g/",
    "sh": "http://www.w3.org/ns/shacl#",
}
_PREFIX_LINE = re.compile(r"@prefix\s+([A-Za-z][\w.-]*)?:\s*<([^>]*)>", re.IGNORECASE)


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


def _declared_prefixes(path: Path) -> dict[str, str]:
    """The @prefix declarations of the Turtle files next to and around path (for hints)."""
    found: dict[str, str] = {}
    folder = path.resolve().parent
    for candidate in sorted({*folder.parent.rglob("*.ttl")} if folder.parent != folder else []):
        with suppress(OSError, UnicodeDecodeError):
            for prefix, namespace in _PREFIX_LINE.findall(candidate.read_text(encoding="utf-8")):
                found.setdefault(prefix, namespace)
    return found


def _syntax_error(shown: str, path: Path, line: int, reason: str) -> SourceError:
    """A Turtle syntax error in both languages, with how to fix the common ones."""
    unbound = re.search(r'Prefix "([^"]*):" not bound', reason)
    if unbound:
        prefix = unbound.group(1)
        namespace = _declared_prefixes(path).get(prefix) or KNOWN_PREFIXES.get(prefix)
        declaration = f"@prefix {prefix}: <{namespace or '…'}> ."
        return SourceError(
            shown, line, f'Turtle syntax error: the prefix "{prefix}:" is not declared',
            f"Turtle-Syntaxfehler: das Präfix „{prefix}:“ ist nicht deklariert",
            f"add `{declaration}` at the top of the file (or correct the prefix's spelling)",
            f"oben in der Datei `{declaration}` ergänzen (oder die Schreibweise des Präfixes "
            "berichtigen)")
    if "newline found in string" in reason or "unterminated string" in reason.lower():
        return SourceError(
            shown, line, "Turtle syntax error: a string is not closed on its line",
            "Turtle-Syntaxfehler: eine Zeichenkette wird in ihrer Zeile nicht geschlossen",
            'close it with " on the same line, e.g. rdfs:label "Stadtteilzentrum"@de ; '
            '(text over several lines goes in """…""")',
            'mit " in derselben Zeile schließen, z. B. rdfs:label "Stadtteilzentrum"@de ; '
            '(Text über mehrere Zeilen steht in """…""")')
    return SourceError(
        shown, line, f"Turtle syntax error: {reason}", f"Turtle-Syntaxfehler: {reason}",
        "look at this line and the one before it: a missing ' .', ' ;' or ',' between "
        "statements, or a missing '>' or '\"', is the usual cause",
        "diese und die vorige Zeile prüfen: meist fehlt ein ' .', ' ;' oder ',' zwischen "
        "Aussagen oder ein schließendes '>' bzw. '\"'")


def parse_file(graph: Graph, path: Path, base: str, shown: str | None = None) -> str:
    """Parse one Turtle file into graph, relative IRIs resolved against base; return its text."""
    shown = shown or str(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise SourceError(shown, None, f"cannot read: {exc.strerror}",
                          f"nicht lesbar: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise SourceError(shown, line, "not UTF-8 text", "kein UTF-8-Text",
                          "save the file as UTF-8", "die Datei als UTF-8 speichern") from None
    try:
        with _quiet_literals():
            graph.parse(data=text, format="turtle", publicID=base)
    except BadSyntax as exc:
        # rdflib's message quotes the bytes around the error; keep its reason only.
        reason = getattr(exc, "_why", None) or str(exc).split("Bad syntax", 1)[-1].strip()
        raise _syntax_error(shown, path, _error_line(exc), reason) from None
    except Exception as exc:  # rdflib raises plain exceptions for bad IRIs, literals, prefixes
        raise SourceError(shown, None, f"Turtle error: {exc}", f"Turtle-Fehler: {exc}") from None
    return text


class _NoIllTypedLiterals(logging.Filter):
    """Drops rdflib's log record (with a Python traceback) for a literal it cannot convert.

    Such a literal (e.g. "05.05.2022"^^xsd:date) is reported by the gate itself, with the
    file, the line and the right form (publisher.terms).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Failed to convert Literal lexical form")


@contextmanager
def _quiet_literals() -> Iterator[None]:
    term_logger = logging.getLogger("rdflib.term")
    quiet = _NoIllTypedLiterals()
    term_logger.addFilter(quiet)
    try:
        yield
    finally:
        term_logger.removeFilter(quiet)


def load_sources(project: Project, base: str) -> Sources:
    """Parse the ontology and data files of a project, one named graph per file."""
    dataset = Dataset()
    sources = Sources(project=project, base=base, dataset=dataset)
    for path in project.source_files():
        iri = graph_iri(base, project, path)
        graph = dataset.graph(iri)
        text = parse_file(graph, path, base, project.relative(path))
        for prefix, namespace in graph.namespaces():
            dataset.bind(prefix, namespace, override=False, replace=True)
        sources.files[iri] = path
        sources.texts[path] = text.splitlines()
        for prefix, namespace in _PREFIX_LINE.findall(text):
            sources.prefixes.setdefault(prefix, urljoin(base, namespace))
    if not sources.files:
        raise SourceError(str(project.root), None, "no Turtle files in ontology/ or data/")
    # Imported here: the workbook import builds on this module's Sources and SourceError.
    from publisher.sheets.source import add_workbooks

    add_workbooks(sources)
    return sources


def load_shapes(project: Project, base: str) -> Graph:
    """Parse the SHACL shapes, relative IRIs resolved against base."""
    shapes = Graph()
    for path in project.files("shapes"):
        parse_file(shapes, path, base, project.relative(path))
    if len(shapes) == 0:
        raise SourceError(str(project.root / "shapes"), None, "no SHACL shapes found")
    return shapes
