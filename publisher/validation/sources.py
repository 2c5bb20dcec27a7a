"""Validate a project's sources: SHACL, the vocabulary and reasoning checks, each at its line.

Apart from the graph's validation because only here is it known where a statement is
written (a file and line, or a workbook's sheet, row and column), and the term and
reasoning checks report in the same Report as SHACL.
"""

from __future__ import annotations

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, SH

from publisher.source_types import Sources
from publisher.validation.graph import validate_graph
from publisher.validation.report import Report, Violation, _short

__all__ = ["REASONING_CHECK", "TERMS_CHECK", "validate_sources"]

# The names (under the base) the reasoning and vocabulary checks give as their source shape.
REASONING_CHECK = "shapes/ReasoningCheck"
TERMS_CHECK = "shapes/VocabularyCheck"


def _places(sources: Sources, data: Graph,
            violation: Violation) -> list[tuple[str, int | None]]:
    """Where each value of a violation's subject and path is stated, when it has no value."""
    if violation.node is None or violation.value or not violation.path:
        return []
    try:
        path = data.namespace_manager.expand_curie(violation.path)
    except (ValueError, TypeError):
        return []
    places: list[tuple[str, int | None]] = []
    for value in data.objects(violation.node, path):
        needle = f'"{value}"' if isinstance(value, Literal) else _short(data, value)
        where = sources.locate_statement(violation.node, [needle, violation.path],
                                         (violation.node, path, value))
        if where and where not in places:
            places.append(where)
    return sorted(places, key=lambda p: (p[0], p[1] or 0))


def _missing(data: Graph, violation: Violation) -> bool:
    """Whether the violation is about a property its focus does not state at all."""
    if violation.node is None or violation.value or not violation.path:
        return False
    try:
        path = data.namespace_manager.expand_curie(violation.path)
    except (ValueError, TypeError):
        return False
    return next(data.objects(violation.node, path), None) is None


def _term_violations(sources: Sources, data: Graph) -> list[Violation]:
    """Unknown terms, bad slugs and ill-typed literals (publisher.terms), located exactly."""
    from publisher.terms import check_terms
    from publisher.validation.mistakes import check_mistakes

    ontology = Graph()
    folder = (sources.project.root / "ontology").resolve()
    for iri, path in sources.files.items():
        if path.resolve().is_relative_to(folder):
            for triple in sources.dataset.graph(iri):
                ontology.add(triple)
    violations = []
    for problem in [*check_terms(data, ontology, sources.base),
                    *check_mistakes(data, ontology, sources.base)]:
        if problem.focus in sources.places:  # from a workbook: its sheet, row and column
            where = sources.locate(problem.focus, _short(data, problem.path))
        else:
            where = sources.locate_statement(problem.focus, [problem.needle],
                                             (problem.focus, problem.path, problem.value))
        violation = Violation(
            severity="Violation", focus=_short(data, problem.focus),
            path=_short(data, problem.path), value=_short(data, problem.value) or None,
            message_de=problem.message_de, message_en=problem.message_en,
            shape=_short(data, URIRef(sources.base + TERMS_CHECK)), node=problem.focus)
        if where:
            violation.file, violation.line = where
        violations.append(violation)
    return violations


def _reasoning_violations(data: Graph, base: str, report_graph: Graph) -> list[Violation]:
    """The reasoning check's findings as violations, and as results in the report graph."""
    from publisher.reasoning import findings  # owlrl is loaded only when the check runs

    violations = []
    report = next(report_graph.subjects(RDF.type, SH.ValidationReport), None)
    source_shape = URIRef(base + REASONING_CHECK)
    for finding in findings(data, base):
        violations.append(Violation(
            severity="Violation", focus=_short(data, finding.focus),
            path=_short(data, finding.path), value=_short(data, finding.value) or None,
            message_de=finding.message_de, message_en=finding.message_en,
            shape=_short(data, source_shape), node=finding.focus))
        result = BNode()
        for predicate, value in (
                (RDF.type, SH.ValidationResult), (SH.focusNode, finding.focus),
                (SH.resultPath, finding.path), (SH.resultSeverity, SH.Violation),
                (SH.sourceShape, source_shape),
                (SH.sourceConstraintComponent, SH.SPARQLConstraintComponent),
                (SH.resultMessage, Literal(finding.message_de, lang="de")),
                (SH.resultMessage, Literal(finding.message_en, lang="en"))):
            report_graph.add((result, predicate, value))
        if finding.value is not None:
            report_graph.add((result, SH.value, finding.value))
        if report is not None:
            report_graph.add((report, SH.result, result))
    if violations and report is not None:
        report_graph.set((report, SH.conforms, Literal(False)))
    return violations


def validate_sources(sources: Sources, shapes: Graph, processes: int = 1,
                     min_triples: int = 0,
                     reasoning_max_triples: int | None = 10_000) -> Report:
    """Validate the union of all sources and point each violation at its file and line.

    Graphs of at most reasoning_max_triples triples (None: any; the default is the setting's)
    also get the reasoning check (publisher.reasoning); its findings are reported like SHACL
    violations.
    """
    data = sources.union()
    reason = reasoning_max_triples is None or len(data) <= reasoning_max_triples
    report = validate_graph(data, shapes, inplace=True, processes=processes,
                            min_triples=min_triples)
    report.reasoned = reason
    problems = _term_violations(sources, data)
    if problems:
        # An ill-typed literal is also a sh:datatype violation: the term check's text (with
        # the right form) says it better, so the statement is reported once.
        said = {(v.focus, v.path, v.value) for v in problems}
        report.violations = [v for v in report.violations
                             if (v.focus, v.path, v.value) not in said]
        report.violations.extend(problems)
        report.conforms = False
    if reason:
        assert report.graph is not None  # validate_graph's report holds pyshacl's graph
        found = _reasoning_violations(data, sources.base, report.graph)
        if found:
            report.violations.extend(found)
            report.conforms = False
    for violation in report.violations:
        if violation.file:
            continue
        if violation.node in sources.places:  # a workbook's thing: file › sheet › row › column
            place = sources.locate(violation.node, violation.path)
            assert place is not None  # locate finds every node of sources.places
            violation.file, violation.line = place
            continue
        places = _places(sources, data, violation)
        if len(places) > 1:  # e.g. a second date: where each value is stated
            listed = ", ".join(f"{f}:{n}" if n else f for f, n in places)
            violation.message_de += f" (angegeben in {listed})"
            violation.message_en += f" (stated at {listed})"
            violation.file, violation.line = places[-1]
            continue
        where = None
        if _missing(data, violation):  # nothing stated: the subject's own line, not the
            where = sources.locate(violation.node)  # next line that names the property
        elif violation.node is not None:
            # The line of the offending statement: the value or property as written, at or
            # after the subject's line (a wrong date is on its own line, not the subject's).
            needles = [f'"{violation.value}' if violation.value else "",
                       violation.value or "", violation.path or ""]
            where = sources.locate_statement(violation.node, needles)
        if where:
            violation.file, violation.line = where
    report.violations.sort(key=lambda v: (v.file or "", v.line or 0, v.focus, v.path or ""))
    return report
