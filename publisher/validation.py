"""The SHACL gate: validate the graph with pyshacl and report each violation readably.

A large graph is validated in more than one process: after the graph is parsed, the process
forks (the graph is shared copy-on-write, not parsed again), every process takes the next of
the shapes that have targets until none is left, and the report graphs are merged into one
report, the same as one process makes.
"""

from __future__ import annotations

import gc
import json
import os
import pickle
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field

from pyshacl import validate as shacl_validate
from pyshacl.constraints.constraint_component import ConstraintComponent
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS, SH

from publisher import children
from publisher.source_types import Sources

__all__ = ["REASONING_CHECK", "TERMS_CHECK", "Report", "ValidationProcessError", "Violation",
           "validate_graph", "validate_sources"]

# The names (under the base) the reasoning and vocabulary checks give as their source shape.
REASONING_CHECK = "shapes/ReasoningCheck"
TERMS_CHECK = "shapes/VocabularyCheck"


class ValidationProcessError(RuntimeError):
    """A forked validation process failed or was stopped: there is no complete report."""


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
    reasoned: bool = False

    def as_text(self) -> str:
        """The report as text for people, German first."""
        if self.conforms:
            checked = (" und die Schlussfolgerungsprüfung (OWL 2 RL)", " and the reasoning "
                       "check (OWL 2 RL)") if self.reasoned else ("", "")
            return (f"OK: der Graph erfüllt alle Shapes{checked[0]} ({self.triples} Tripel).\n"
                    f"OK: the graph conforms to the shapes{checked[1]} ({self.triples} "
                    "triples).")
        body = "\n\n".join(v.text() for v in self.violations)
        count = len(self.violations)
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


# pyshacl's options for our gate: no inference (what is checked is what is published),
# SHACL-AF, and warnings do not fail the gate.
_OPTIONS = {"inference": "none", "advanced": True, "allow_warnings": True}

_TARGETS = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf, SH.target)
_NESTING = (SH.property, SH.node, SH["not"], SH.qualifiedValueShape)
_NESTING_LISTS = (SH["and"], SH["or"], SH.xone)
_USE_SHAPES_SCHEMES = ("http:", "https:", "urn:", "file:")
_CAN_FORK = sys.platform.startswith("linux") and hasattr(os, "fork")
_EXIT_OK, _EXIT_ERROR = 0, 3


@dataclass(frozen=True)
class _Plan:
    """The shapes with targets, costliest first, and the named shapes nested in shapes."""

    shapes: tuple[URIRef, ...]
    nested: tuple[URIRef, ...]


def _plan(data: Graph, shapes: Graph) -> _Plan | None:
    """How to validate shape by shape, or None where that would not be a whole run.

    pyshacl validates every shape that has targets on its own (a nested shape is evaluated
    where it is used), so running them in parts with use_shapes and adding up the results is
    a whole run, if: no SHACL rule changes the data meanwhile; every shape with targets has
    an IRI (use_shapes takes IRIs) and is nested in no other shape; and every named nested
    shape is listed in every part, because pyshacl skips a named shape that a shape of the
    part uses but the part does not list. Those have no targets, so listing them adds no
    results.
    """
    if (None, SH.rule, None) in shapes:
        return None
    targeted = {s for p in _TARGETS for s in shapes.subjects(p)}
    # pyshacl's implicit class targets: a shape that is also an rdfs:Class (or of a subclass)
    for kind in (RDFS.Class, *shapes.subjects(RDFS.subClassOf, RDFS.Class)):
        targeted.update(shapes.subjects(RDF.type, kind))
    nested = set()
    for predicate in _NESTING:
        nested.update(shapes.objects(None, predicate))
    for predicate in _NESTING_LISTS:
        for items in shapes.objects(None, predicate):
            nested.update(shapes.items(items))
    named = {n for n in nested if isinstance(n, URIRef)}
    if (len(targeted) < 2 or targeted & nested
            or any(not isinstance(s, URIRef) or not s.lower().startswith(_USE_SHAPES_SCHEMES)
                   for s in targeted | named)
            or any((n, None, None) not in shapes for n in named)):
        return None
    counts: dict[tuple, int] = {}
    cost = {shape: _cost(data, shapes, shape, named, counts) for shape in targeted}
    return _Plan(shapes=tuple(sorted(targeted, key=lambda s: (-cost[s], str(s)))),
                 nested=tuple(sorted(named, key=str)))


def _cost(data: Graph, shapes: Graph, shape: URIRef, named: set[URIRef],
          counts: dict[tuple, int]) -> int:
    """A guess at the work a shape is: its focus nodes times the size of its description
    (with the named shapes it uses).

    Only the order in which the processes take the shapes depends on it (costliest first,
    so that no large one is left for last), never the report.
    """
    def count(pattern: tuple) -> int:
        if pattern not in counts:
            counts[pattern] = sum(1 for _ in data.triples(pattern))
        return counts[pattern]

    focus = count((None, RDF.type, shape))
    for predicate, value in shapes.predicate_objects(shape):
        if predicate == SH.targetClass:
            focus += count((None, RDF.type, value))
        elif predicate in (SH.targetSubjectsOf, SH.targetObjectsOf):
            focus += count((None, value, None))
        elif predicate in (SH.targetNode, SH.target):
            focus += 1
    size, todo, seen = 0, [shape], {shape}
    while todo:
        description = shapes.cbd(todo.pop())
        size += len(description)
        uses = {o for o in description.objects() if o in named and o not in seen}
        seen |= uses
        todo.extend(uses)
    return focus * size


def _batches(plan: _Plan) -> list[tuple[URIRef, ...]]:
    """The plan's shapes in at most 255 batches, one per byte value (see _tickets)."""
    count = min(len(plan.shapes), 255)
    return [plan.shapes[i::count] for i in range(count)]


def _tickets(count: int) -> int:
    """A pipe holding one byte per batch, closed for writing: the read end hands them out.

    Each process reads one byte at a time, so no two get the same batch, and a process that
    dies holds nothing the others wait for (as a lock could).
    """
    read, write = os.pipe()
    try:
        os.write(write, bytes(range(count)))
    finally:
        os.close(write)
    return read


def _validate_batches(data: Graph, shapes: Graph, plan: _Plan, tickets: int) -> list[tuple]:
    """Validate batch after batch, each the next one no process has taken yet."""
    batches = _batches(plan)
    parts = []
    while ticket := os.read(tickets, 1):
        index = ticket[0]
        conforms, report, _text = shacl_validate(
            data, shacl_graph=shapes, inplace=True, use_shapes=[*batches[index], *plan.nested],
            **_OPTIONS)
        parts.append((index, bool(conforms), list(report)))
    return parts


def _merge(parts: list[tuple], shapes: Graph) -> tuple[bool, Graph]:
    """One report graph from the parts' reports, as pyshacl writes it for a whole run.

    rdflib names new blank nodes by uuid4, so the parts' results do not clash; blank nodes
    pyshacl copies from the shapes and the data keep their names, as in a whole run.
    """
    merged = Graph(bind_namespaces="core")
    for prefix, namespace in shapes.namespace_manager.namespaces():
        merged.namespace_manager.bind(prefix, namespace)
    conforms = all(ok for _index, ok, _triples in parts)
    report = BNode()
    merged.add((report, RDF.type, SH.ValidationReport))
    merged.add((report, SH.conforms, Literal(conforms)))
    for _index, _ok, triples in sorted(parts, key=lambda part: part[0]):
        own = {s for s, p, o in triples if p == RDF.type and o == SH.ValidationReport}
        for s, p, o in triples:
            if s not in own:
                merged.add((s, p, o))
            elif p == SH.result:
                merged.add((report, p, o))
    return conforms, merged


def _in_fork(work: Callable[[], list]) -> tuple[bytes, int]:
    """In a forked process: the parts it validated (or the error that stopped it) for the
    parent, and the exit code that says which.

    Pickle, not JSON, and only here: the fork is this very process (our code, our data, no
    sandbox), and the parts are rdflib terms whose blank node names and literal forms must
    arrive exactly, and an error is raised again in the parent as one process would raise it.
    The query workers and parser processes, which read untrusted text, answer in JSON.
    """
    try:
        return pickle.dumps(("parts", work()), pickle.HIGHEST_PROTOCOL), _EXIT_OK
    except Exception as exc:  # sent to the parent, which raises it as one process would
        return _pickled_error(exc), _EXIT_ERROR


def _pickled_error(exc: Exception) -> bytes:
    try:
        payload = pickle.dumps(("error", exc), pickle.HIGHEST_PROTOCOL)
        pickle.loads(payload)
        return payload
    except Exception:  # an exception that does not survive pickling: its text does
        error = ValidationProcessError(f"validation process {os.getpid()} failed: "
                                       f"{type(exc).__name__}: {exc}")
        return pickle.dumps(("error", error), pickle.HIGHEST_PROTOCOL)


def _outcome(pid: int, payload: bytes, code: int) -> list[tuple]:
    """The parts a child validated, or the error that says why there are none."""
    if code < 0:
        name = signal.Signals(-code).name
        raise ValidationProcessError(
            f"validation process {pid}, forked to share the work, was stopped by {name}"
            + (" (out of memory?)" if name == "SIGKILL" else "") + "; there is no report")
    if code in (_EXIT_OK, _EXIT_ERROR):
        try:
            kind, value = pickle.loads(payload)
        except Exception:
            kind, value = None, None
        if kind == "parts" and code == _EXIT_OK:
            return value
        if kind == "error" and code == _EXIT_ERROR:
            raise value
    raise ValidationProcessError(f"validation process {pid}, forked to share the work, ended "
                                 f"with exit status {code} before it sent its results; there "
                                 "is no report")


def _validate_in_processes(data: Graph, shapes: Graph, plan: _Plan,
                           processes: int) -> tuple[bool, Graph]:
    """Validate the plan's shapes in this process and processes-1 forked ones, then merge."""
    tickets = _tickets(len(_batches(plan)))
    forks: list[children.Forked] = []
    # Collections in either process would write to every object of the shared graph and
    # so copy its memory: the objects made so far are left out of them (gc.freeze).
    froze = gc.get_freeze_count() == 0
    if froze:
        gc.freeze()
    try:
        for _ in range(processes - 1):
            forked = children.fork(
                lambda: _in_fork(lambda: _validate_batches(data, shapes, plan, tickets)),
                close=[f.fd for f in forks])
            if forked is None:  # no other process to be had: this one does more
                break
            forks.append(forked)
        parts = _validate_batches(data, shapes, plan, tickets)
        while forks:
            payload, code = forks[0].result()  # reaped; still listed if interrupted
            done = forks.pop(0)
            parts.extend(_outcome(done.pid, payload, code))
    finally:
        for forked in forks:  # after an error or Ctrl-C: none is left running
            forked.kill()
        os.close(tickets)
        if froze:
            gc.unfreeze()
    return _merge(parts, shapes)


def validate_graph(data: Graph, shapes: Graph, inplace: bool = False, processes: int = 1,
                   min_triples: int = 0) -> Report:
    """Validate data against shapes without inference: what is checked is what is published.

    With inplace, pyshacl works on data itself instead of a copy of it (for a graph made only
    to be validated). A graph of at least min_triples triples is validated in up to
    processes processes where the system can fork and the shapes allow it.
    """
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


def _places(sources: Sources, data: Graph, violation: Violation) -> list[tuple]:
    """Where each value of a violation's subject and path is stated, when it has no value."""
    if violation.node is None or violation.value or not violation.path:
        return []
    try:
        path = data.namespace_manager.expand_curie(violation.path)
    except (ValueError, TypeError):
        return []
    places = []
    for value in data.objects(violation.node, path):
        needle = f'"{value}"' if isinstance(value, Literal) else _short(data, value)
        where = sources.locate_statement(violation.node, [needle, violation.path],
                                         (violation.node, path, value))
        if where and where not in places:
            places.append(where)
    return sorted(places, key=lambda p: (p[0], p[1] or 0))


def _term_violations(sources: Sources, data: Graph) -> list[Violation]:
    """Unknown terms, bad slugs and ill-typed literals (publisher.terms), located exactly."""
    from publisher.terms import check_terms

    ontology = Graph()
    folder = (sources.project.root / "ontology").resolve()
    for iri, path in sources.files.items():
        if path.resolve().is_relative_to(folder):
            for triple in sources.dataset.graph(iri):
                ontology.add(triple)
    violations = []
    for problem in check_terms(data, ontology, sources.base):
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
        found = _reasoning_violations(data, sources.base, report.graph)
        if found:
            report.violations.extend(found)
            report.conforms = False
    for violation in report.violations:
        if violation.file:
            continue
        if violation.node in sources.places:  # a workbook's thing: file › sheet › row › column
            violation.file, violation.line = sources.locate(violation.node, violation.path)
            continue
        places = _places(sources, data, violation)
        if len(places) > 1:  # e.g. a second date: where each value is stated
            listed = ", ".join(f"{f}:{n}" if n else f for f, n in places)
            violation.message_de += f" (angegeben in {listed})"
            violation.message_en += f" (stated at {listed})"
            violation.file, violation.line = places[-1]
            continue
        where = None
        if violation.node is not None:
            # The line of the offending statement: the value or property as written, at or
            # after the subject's line (a wrong date is on its own line, not the subject's).
            needles = [f'"{violation.value}' if violation.value else "",
                       violation.value or "", violation.path or ""]
            where = sources.locate_statement(violation.node, needles)
        if where:
            violation.file, violation.line = where
    report.violations.sort(key=lambda v: (v.file or "", v.line or 0, v.focus, v.path or ""))
    return report
