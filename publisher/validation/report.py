"""What validation finds: Violation, Report, and the readable texts of pyshacl's results.

On its own because everything after the validation reads it (the build writes it, the CLI
prints it) and none of it needs to know how the graph was validated.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import SH
from rdflib.term import Node

__all__ = ["Report", "Violation"]


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
    node: Node | None = field(default=None, repr=False, compare=False)  # the focus node

    def as_dict(self) -> dict[str, Any]:
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
    reasoned: bool = False

    def as_text(self) -> str:
        """The report as text for people, German first."""
        warnings = "".join(v.text() + "\n\n" for v in self.violations
                           if v.severity != "Violation")
        if self.conforms:
            checked = (" und die Schlussfolgerungsprüfung (OWL 2 RL)", " and the reasoning "
                       "check (OWL 2 RL)") if self.reasoned else ("", "")
            return (f"{warnings}OK: der Graph erfüllt alle Shapes{checked[0]} ({self.triples} "
                    f"Tripel).\n"
                    f"OK: the graph conforms to the shapes{checked[1]} ({self.triples} "
                    "triples).")
        body = "\n\n".join(v.text() for v in self.violations)
        count = sum(v.severity == "Violation" for v in self.violations)
        return (f"{body}\n\nFEHLER: {count} Verstoß/Verstöße gegen die Prüfregeln (Shapes, "
                f"Vokabular, Schlussfolgerung).\n"
                f"FAILED: {count} violation(s) of the checks (shapes, vocabulary, reasoning).")

    def as_json(self) -> str:
        """The report as JSON for tools."""
        return json.dumps(
            {"conforms": self.conforms, "triples": self.triples, "reasoned": self.reasoned,
             "violations": [v.as_dict() for v in self.violations]},
            ensure_ascii=False, indent=2)

    def as_turtle(self) -> str:
        """pyshacl's SHACL validation report graph as Turtle."""
        return (self.graph or Graph()).serialize(format="turtle")

    def render(self, fmt: str) -> str:
        """The report in one of text, json or turtle."""
        return {"text": self.as_text, "json": self.as_json, "turtle": self.as_turtle}[fmt]()


def _short(graph: Graph, node: object) -> str:
    """A node as the report writes it: an IRI by its prefixed name where it has one, any
    other value as text, None as ""."""
    if isinstance(node, URIRef):
        try:
            return graph.namespace_manager.normalizeUri(node)
        except Exception:  # rdflib cannot shorten every IRI
            return str(node)
    return str(node) if node is not None else ""


def _messages(report: Graph, result: Node) -> tuple[str, str]:
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
