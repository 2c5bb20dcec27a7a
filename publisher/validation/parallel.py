"""Validation in more than one process, with the report one process makes.

After the graph is parsed, the process forks (publisher.children.fork: the graph is shared
copy-on-write, not parsed again), every process takes the next batch of the shapes that have
targets until none is left, and the report graphs are merged into one report. Apart from the
rest because it is the one place that decides whether such a split is a whole run (`_plan`),
and the one module of the package that unpickles: what its own forks send.
"""

from __future__ import annotations

import gc
import os
import pickle
import signal
import sys
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import TypeAlias, TypeGuard

from pyshacl import validate as shacl_validate
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS, SH
from rdflib.term import Node

from publisher import children
from publisher.validation.shacl import _OPTIONS

__all__ = ["ValidationProcessError"]


class ValidationProcessError(RuntimeError):
    """A forked validation process failed or was stopped: there is no complete report."""


_TARGETS = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf, SH.target)
_NESTING = (SH.property, SH.node, SH["not"], SH.qualifiedValueShape)
_NESTING_LISTS = (SH["and"], SH["or"], SH.xone)
_USE_SHAPES_SCHEMES = ("http:", "https:", "urn:", "file:")
_CAN_FORK = sys.platform.startswith("linux") and hasattr(os, "fork")
_EXIT_OK, _EXIT_ERROR = 0, 3

# A triple pattern (None: any node), as rdflib's Graph.triples takes it.
_Pattern: TypeAlias = tuple[Node | None, Node | None, Node | None]
# What one batch's validation sends back: the batch's index, whether it conforms, and the
# triples of its report graph.
_Part: TypeAlias = tuple[int, bool, list[tuple[Node, Node, Node]]]


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
    nested: set[Node] = set()
    for predicate in _NESTING:
        nested.update(shapes.objects(None, predicate))
    for predicate in _NESTING_LISTS:
        for items in shapes.objects(None, predicate):
            nested.update(shapes.items(items))
    named = {n for n in nested if isinstance(n, URIRef)}
    if (len(targeted) < 2 or targeted & nested
            or not _use_shapes_iris(targeted) or not _use_shapes_iris(named)
            or any((n, None, None) not in shapes for n in named)):
        return None
    counts: dict[_Pattern, int] = {}
    cost = {shape: _cost(data, shapes, shape, named, counts) for shape in targeted}
    return _Plan(shapes=tuple(sorted(targeted, key=lambda s: (-cost[s], str(s)))),
                 nested=tuple(sorted(named, key=str)))


def _use_shapes_iris(nodes: Collection[Node]) -> TypeGuard[Collection[URIRef]]:
    """Whether every node is an IRI that pyshacl's use_shapes takes."""
    return all(isinstance(s, URIRef) and s.lower().startswith(_USE_SHAPES_SCHEMES)
               for s in nodes)


def _cost(data: Graph, shapes: Graph, shape: URIRef, named: Collection[URIRef],
          counts: dict[_Pattern, int]) -> int:
    """A guess at the work a shape is: its focus nodes times the size of its description
    (with the named shapes it uses).

    Only the order in which the processes take the shapes depends on it (costliest first,
    so that no large one is left for last), never the report.
    """
    def count(pattern: _Pattern) -> int:
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
    size = 0
    todo: list[Node] = [shape]
    seen: set[Node] = {shape}
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


def _validate_batches(data: Graph, shapes: Graph, plan: _Plan, tickets: int) -> list[_Part]:
    """Validate batch after batch, each the next one no process has taken yet."""
    batches = _batches(plan)
    parts: list[_Part] = []
    while ticket := os.read(tickets, 1):
        index = ticket[0]
        conforms, report, _text = shacl_validate(
            data, shacl_graph=shapes, inplace=True, use_shapes=[*batches[index], *plan.nested],
            **_OPTIONS)
        parts.append((index, bool(conforms), list(report)))
    return parts


def _merge(parts: list[_Part], shapes: Graph) -> tuple[bool, Graph]:
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


def _in_fork(work: Callable[[], list[_Part]]) -> tuple[bytes, int]:
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


def _outcome(pid: int, payload: bytes, code: int) -> list[_Part]:
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
            parts: list[_Part] = value  # what _in_fork pickled in our own fork
            return parts
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
                close=[f.fd for f in forks], record=forks.append)
            if forked is None:  # no other process to be had: this one does more
                break
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
