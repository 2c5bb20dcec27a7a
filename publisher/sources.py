"""Load a project's Turtle sources into one dataset, a named graph per file."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from urllib.parse import urljoin

from rdflib import Dataset, Graph, URIRef
from rdflib.plugins.parsers.notation3 import BadSyntax

from publisher.project import Project
from publisher.sheets.source import add_workbooks
from publisher.source_types import SourceError, Sources

__all__ = [
    "KNOWN_PREFIXES",
    "SourceError",
    "Sources",
    "graph_iri",
    "load_shapes",
    "load_sources",
    "parse_file",
]


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
    except MemoryError:
        raise  # not the file's fault: the build says so (publisher.cli)
    except SystemError as exc:
        # rdflib's parser out of memory fails in C as "error return without exception set"
        # (measured at 10M triples under a heap cap); nothing in a file causes that.
        raise MemoryError(str(exc)) from exc
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
