"""Validate one graph: with pyshacl in one process or several, read into a Report.

The entry for a graph of any origin (the build's sources, a test's graph); it picks one
process or the parallel runner and turns pyshacl's report graph into violations.
"""

from __future__ import annotations

from pyshacl import validate as shacl_validate
from rdflib import Graph
from rdflib.namespace import RDF, SH

from publisher.validation.parallel import _CAN_FORK, _plan, _validate_in_processes
from publisher.validation.report import Report, Violation, _messages, _short
from publisher.validation.shacl import _OPTIONS, _without_result_texts

__all__ = ["validate_graph"]


def validate_graph(data: Graph, shapes: Graph, inplace: bool = False, processes: int = 1,
                   min_triples: int = 0) -> Report:
    """Validate data against shapes without inference: what is checked is what is published.

    With inplace, pyshacl works on data itself instead of a copy of it (for a graph made only
    to be validated). A graph of at least min_triples triples is validated in up to
    processes processes where the system can fork and the shapes allow it.
    """
    report_graph: Graph  # pyshacl's validate has no return annotation: a Graph, by its docs
    with _without_result_texts():
        plan = (_plan(data, shapes) if processes > 1 and _CAN_FORK and len(data) >= min_triples
                else None)
        if plan is None:
            conforms, report_graph, _text = shacl_validate(
                data, shacl_graph=shapes, inplace=inplace, **_OPTIONS)
        else:  # no rules (see _plan): pyshacl changes nothing in data, copy or not
            conforms, report_graph = _validate_in_processes(
                data, shapes, plan, min(processes, len(plan.shapes)))
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
    # Every field is in the key, so the order does not depend on the report graph's
    violations.sort(key=lambda v: (v.focus, v.path or "", v.message_de, v.value or "",
                                   v.shape or "", v.severity, v.message_en))
    return Report(conforms=bool(conforms), violations=violations, graph=report_graph,
                  triples=len(data))
