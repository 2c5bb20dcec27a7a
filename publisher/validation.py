"""The SHACL gate: validate the graph with pyshacl and report each violation readably."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field

from pyshacl import validate as shacl_validate
from pyshacl.constraints.constraint_component import ConstraintComponent
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, SH

from publisher.sources import Sources

__all__ = ["Report", "Violation", "validate_graph", "validate_sources"]


@dataclass
class Violation:
    """One SHACL result, with the file and line its focus node is written in where known."""

    severity: str
    focus: str
    path: str | None
    value: str | None
    message_de: str
    message_en: str
    shape: str | None
    file: str | None = None
    line: int | None = None
    node: object = field(default=None, repr=False, compare=False)

    def as_dict(self) -> dict:
        """The violation as plain JSON-ready values."""
        data = asdict(self)
        data.pop("node")
        return data

    def text(self) -> str:
        """The violation as a few readable lines, German first."""
        where = self.file or "?"
        if self.line:
            where += f":{self.line}"
        lines = [f"{where}: {self.severity}: {self.focus}"]
        if self.path:
            lines.append(f"  path:  {self.path}")
        if self.value:
            lines.append(f"  value: {self.value}")
        lines.append(f"  de: {self.message_de}")
        if self.message_en and self.message_en != self.message_de:
            lines.append(f"  en: {self.message_en}")
        return "\n".join(lines)


@dataclass
class Report:
    """The outcome of validation: conforms or not, the violations, and pyshacl's report graph."""

    conforms: bool
    violations: list[Violation] = field(default_factory=list)
    graph: Graph | None = None
    triples: int = 0

    def as_text(self) -> str:
        """The report as text for people."""
        if self.conforms:
            return (f"OK: the graph conforms to the shapes ({self.triples} triples).\n"
                    f"OK: der Graph erfüllt alle Shapes ({self.triples} Tripel).")
        body = "\n\n".join(v.text() for v in self.violations)
        count = len(self.violations)
        return (f"{body}\n\nFAILED: {count} violation(s) of the shapes.\n"
                f"FEHLER: {count} Verstoß/Verstöße gegen die Shapes.")

    def as_json(self) -> str:
        """The report as JSON for tools."""
        return json.dumps(
            {"conforms": self.conforms, "triples": self.triples,
             "violations": [v.as_dict() for v in self.violations]},
            ensure_ascii=False, indent=2)

    def as_turtle(self) -> str:
        """pyshacl's SHACL validation report graph as Turtle."""
        return (self.graph or Graph()).serialize(format="turtle")

    def render(self, fmt: str) -> str:
        """The report in one of text, json or turtle."""
        return {"text": self.as_text, "json": self.as_json, "turtle": self.as_turtle}[fmt]()


def _short(graph: Graph, node) -> str:
    if isinstance(node, URIRef):
        try:
            return graph.namespace_manager.normalizeUri(node)
        except Exception:  # rdflib cannot shorten every IRI
            return str(node)
    return str(node) if node is not None else ""


def _messages(report: Graph, result) -> tuple[str, str]:
    german = english = other = ""
    for message in report.objects(result, SH.resultMessage):
        lang = message.language if isinstance(message, Literal) else None
        if lang == "de" and not german:
            german = str(message)
        elif lang == "en" and not english:
            english = str(message)
        elif not other:
            other = str(message)
    return german or other or english, english or other or german


_TEXTS_LOCK = threading.Lock()


def _no_text(self, *args, **kwargs) -> str:
    return ""


@contextmanager
def _without_result_texts() -> Iterator[None]:
    """While pyshacl runs, leave out the text it renders for each result; we never read it.

    pyshacl writes a text description (every node in it spelled out) for each result, also
    for the many results of the shapes nested in sh:or and sh:qualifiedValueShape that it
    then throws away; on a large graph that text is about a fifth of the validation time.
    Our report is read from pyshacl's report graph, which stays as it is. pyshacl has no
    option to skip the text, so its renderer is swapped for one that returns "" meanwhile.
    """
    original = ConstraintComponent.__dict__.get("make_v_result_description")
    if original is None:  # a pyshacl that renders its texts elsewhere: nothing to skip
        yield
        return
    with _TEXTS_LOCK:
        ConstraintComponent.make_v_result_description = _no_text
        try:
            yield
        finally:
            ConstraintComponent.make_v_result_description = original


def validate_graph(data: Graph, shapes: Graph, inplace: bool = False) -> Report:
    """Validate data against shapes without inference: what is checked is what is published.

    With inplace, pyshacl works on data itself instead of a copy of it (for a graph made only
    to be validated).
    """
    with _without_result_texts():
        conforms, report_graph, _text = shacl_validate(
            data, shacl_graph=shapes, inference="none", advanced=True, allow_warnings=True,
            inplace=inplace)
    violations = []
    for result in report_graph.subjects(RDF.type, SH.ValidationResult):
        focus = report_graph.value(result, SH.focusNode)
        path = report_graph.value(result, SH.resultPath)
        value = report_graph.value(result, SH.value)
        severity = report_graph.value(result, SH.resultSeverity)
        german, english = _messages(report_graph, result)
        violations.append(Violation(
            severity=str(severity).rsplit("#", 1)[-1] if severity else "Violation",
            focus=_short(data, focus), path=_short(data, path) or None,
            value=_short(data, value) or None, message_de=german, message_en=english,
            shape=_short(data, report_graph.value(result, SH.sourceShape)) or None,
            node=focus))
    violations.sort(key=lambda v: (v.focus, v.path or "", v.message_de))
    return Report(conforms=bool(conforms), violations=violations, graph=report_graph,
                  triples=len(data))


def validate_sources(sources: Sources, shapes: Graph) -> Report:
    """Validate the union of all sources and point each violation at its file and line."""
    report = validate_graph(sources.union(), shapes, inplace=True)
    for violation in report.violations:
        where = sources.locate(violation.node) if violation.node is not None else None
        if where:
            violation.file, violation.line = where
    report.violations.sort(key=lambda v: (v.file or "", v.line or 0, v.focus, v.path or ""))
    return report
