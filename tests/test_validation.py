"""Validation in more than one process gives the report one process gives, or a clear error.

The graph with every kind of violation is the shipped data plus every bad-data fixture of
test_shapes. Whether a second process ran is read from the kernel's count of the page
faults of this process's reaped children (a forked process always has some).
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import textwrap
import threading
from contextlib import suppress
from pathlib import Path

import pytest
from pyshacl.constraints.constraint_component import ConstraintComponent
from rdflib import Graph
from rdflib.compare import isomorphic

from bench.generate import generate
from publisher.project import Project
from publisher.sources import load_shapes, load_sources, parse_file
from publisher.validation import ValidationProcessError, validate_graph, validate_sources
from publisher.validation.parallel import _plan
from tests.waiting import eventually, until

BASE = "https://w3id.org/kiezgraph/pankow/"
ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "shapes"
KS = BASE + "shapes/"
PREFIXES = """
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix ex: <http://example.org/> .
"""

needs_fork = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="validation forks on Linux only")


@pytest.fixture(scope="module")
def shapes() -> Graph:
    return load_shapes(Project(ROOT), BASE)


@pytest.fixture(scope="module")
def every_violation() -> Graph:
    """The shipped data and every bad-data fixture in one graph."""
    graph = load_sources(Project(ROOT), BASE).union()
    for path in sorted(FIXTURES.glob("*.ttl")):
        parse_file(graph, path, BASE)
    return graph


@pytest.fixture(scope="module")
def large(tmp_path_factory) -> Path:
    """A generated project of ~20,000 triples: its validation takes a few seconds."""
    return generate(ROOT, tmp_path_factory.mktemp("large") / "project", 20_000, BASE).root


def _children_faults() -> int:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_minflt


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        with suppress(OSError):
            found.update(int(n) for n in (task / "children").read_text().split())
    return found


def _state(pid: int) -> str | None:
    """The process's state letter (R, S, Z, …), or None once it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None


def _wait_for_child(pid: int, timeout: float = 60.0) -> int:
    return min(eventually(lambda: _children(pid), timeout,
                          f"process {pid} to fork a validation process", interval=0.005))


def _as_dicts(report) -> list[dict]:
    return [v.as_dict() for v in report.violations]


@needs_fork
def test_issue8_two_processes_report_exactly_what_one_does(every_violation, shapes):
    one = validate_graph(every_violation, shapes)
    faults = _children_faults()
    two = validate_graph(every_violation, shapes, processes=2)
    assert _children_faults() > faults, "no second process ran"
    assert not one.conforms and not two.conforms
    reported = {v.shape for v in one.violations}
    assert len(reported) >= 20 and len(one.violations) >= len(list(FIXTURES.glob("*.ttl")))
    assert _as_dicts(two) == _as_dicts(one)
    assert len(two.graph) == len(one.graph)
    assert isomorphic(two.graph, one.graph)
    assert two.as_text() == one.as_text() and two.as_json() == one.as_json()


@needs_fork
def test_issue8_shapes_nested_by_name_are_checked_in_every_process(every_violation, shapes):
    plan = _plan(every_violation, shapes)
    assert plan is not None
    named = {KS + n for n in ("NamedRoleShape", "SupersededAgreementShape",
                              "PartnerMembershipShape")}
    assert named <= {str(s) for s in plan.nested}
    assert not named & {str(s) for s in plan.shapes}
    # the role without a German label is found only by the named shape nested in sh:node
    two = validate_graph(every_violation, shapes, processes=2)
    assert [(v.focus, v.value) for v in two.violations if v.path == "org:role"] == \
        [("mem:namenlos", "role:namenlos")]


@needs_fork
def test_issue8_a_conforming_graph_conforms_in_two_processes(large, shapes):
    sources = load_sources(Project(large), BASE)
    report = validate_sources(sources, shapes, processes=2)
    assert report.conforms and report.violations == []
    assert report.triples == len(sources.union())


@needs_fork
def test_issue8_a_small_graph_stays_in_one_process(every_violation, shapes):
    faults = _children_faults()
    report = validate_graph(every_violation, shapes, processes=2,
                            min_triples=len(every_violation) + 1)
    assert _children_faults() == faults
    assert _as_dicts(report) == _as_dicts(validate_graph(every_violation, shapes))


def test_issue8_result_texts_stay_off_only_while_validating(every_violation, shapes):
    original = ConstraintComponent.__dict__["make_v_result_description"]
    validate_graph(every_violation, shapes, processes=2)
    assert ConstraintComponent.__dict__["make_v_result_description"] is original


@pytest.mark.parametrize("extra, why", [
    ("ex:R a sh:NodeShape ; sh:targetClass ex:C ; "
     "sh:rule [ a sh:TripleRule ; sh:subject sh:this ; sh:predicate ex:p ; sh:object 1 ] .",
     "a rule changes the data while shapes are checked"),
    ("[] a sh:NodeShape ; sh:targetClass ex:C ; sh:property [ sh:path ex:p ; sh:minCount 1 ] .",
     "a shape with targets but no IRI cannot be named in use_shapes"),
    ("ex:Outer a sh:NodeShape ; sh:targetClass ex:D ; sh:node ex:Inner .\n"
     "ex:Inner a sh:NodeShape ; sh:targetClass ex:C ; sh:property [ sh:path ex:q ; "
     "sh:minCount 1 ] .",
     "a shape with targets nested in another would be skipped where it is not listed"),
    ("ex:Outer a sh:NodeShape ; sh:targetClass ex:D ; sh:not ex:Missing .",
     "a nested shape without a description cannot be listed in use_shapes"),
])
def test_issue8_shapes_that_cannot_be_split_are_checked_in_one_process(extra, why):
    shapes = Graph().parse(data=PREFIXES + """
        ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:property [ sh:path ex:p ; sh:minCount 1 ] .
        ex:T a sh:NodeShape ; sh:targetClass ex:D ; sh:property [ sh:path ex:p ; sh:maxCount 0 ] .
        """ + extra, format="turtle")
    data = Graph().parse(data=PREFIXES + "ex:a a ex:C, ex:D ; ex:p 1 .\nex:b a ex:C .\n",
                         format="turtle")
    assert _plan(data, shapes) is None, why
    faults = _children_faults()
    two = validate_graph(data, shapes, processes=2)
    assert _children_faults() == faults
    assert _as_dicts(two) == _as_dicts(validate_graph(data, shapes))


def test_issue8_splittable_shapes_have_a_plan_costliest_first():
    # Few: 2 focus nodes x 5 triples; Many: 2 x (3 + the 10 of the named shape it uses)
    shapes = Graph().parse(data=PREFIXES + """
        ex:Few a sh:NodeShape ; sh:targetClass ex:C ; sh:property [ sh:path ex:p ; sh:minCount 1 ] .
        ex:Many a sh:NodeShape ; sh:targetSubjectsOf ex:q ; sh:node ex:Named .
        ex:Named a sh:NodeShape ; sh:property [ sh:path ex:p ; sh:maxCount 3 ] ,
            [ sh:path ex:q ; sh:maxCount 3 ] , [ sh:path ex:r ; sh:maxCount 3 ] .
        """, format="turtle")
    data = Graph().parse(data=PREFIXES + "ex:a a ex:C ; ex:p 1 .\nex:b a ex:C ; ex:q 2 .\n"
                         "ex:c ex:q 3 .\n", format="turtle")
    plan = _plan(data, shapes)
    assert plan is not None
    assert [str(s) for s in plan.shapes] == ["http://example.org/Many", "http://example.org/Few"]
    assert [str(s) for s in plan.nested] == ["http://example.org/Named"]


@needs_fork
def test_issue8_a_killed_process_is_a_clear_error_and_is_reaped(large, shapes):
    sources = load_sources(Project(large), BASE)
    me = os.getpid()
    before = _children(me)
    ours = Path(f"/proc/{me}/cmdline").read_bytes()
    killed: list[int] = []
    done = threading.Event()

    def kill_the_fork() -> None:  # only a new child that is a fork of this process
        while not done.is_set():
            for pid in _children(me) - before:
                with suppress(OSError):
                    if Path(f"/proc/{pid}/cmdline").read_bytes() == ours:
                        os.kill(pid, signal.SIGKILL)
                        killed.append(pid)
                        return
            done.wait(0.002)  # look again soon: the fork must die before it is done

    killer = threading.Thread(target=kill_the_fork)
    killer.start()
    try:
        with pytest.raises(ValidationProcessError, match="stopped by SIGKILL"):
            validate_sources(sources, shapes, processes=2)
    finally:
        done.set()
        killer.join()
    assert killed
    with pytest.raises(ChildProcessError):  # reaped: no zombie left
        os.waitpid(killed[0], os.WNOHANG)


# The run starts as from a terminal: with Python's own Ctrl-C handler. A test runner started
# in the background by a shell without job control (`.ci/run &`) ignores SIGINT, and its
# children would inherit that and never see the Ctrl-C this test sends.
RUN = textwrap.dedent("""
    import os, signal, sys
    signal.signal(signal.SIGINT, signal.default_int_handler)
    from pathlib import Path
    from publisher.project import Project
    from publisher.sources import load_shapes, load_sources
    from publisher.validation import validate_sources

    project = Project(Path(sys.argv[1]))
    sources = load_sources(project, sys.argv[2])
    shapes = load_shapes(project, sys.argv[2])
    print("loaded", flush=True)
    try:
        validate_sources(sources, shapes, processes=2)
    except KeyboardInterrupt:
        left = [t for t in Path("/proc/self/task").iterdir()
                if (t / "children").read_text().split()]
        print("interrupted, children left:", len(left), flush=True)
        sys.exit(130)
    print("finished", flush=True)
""")


def _start(project: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", RUN, str(project), BASE], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


@needs_fork
@pytest.mark.parametrize("group", [True, False], ids=["ctrl-c", "sigint-to-parent"])
def test_issue8_ctrl_c_stops_both_processes(large, group):
    proc = _start(large)
    try:
        child = _wait_for_child(proc.pid)
        if group:  # what a terminal does on Ctrl-C: the whole foreground group
            os.killpg(proc.pid, signal.SIGINT)
        else:
            os.kill(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == 130, err
    assert "interrupted, children left: 0" in out
    assert "finished" not in out
    assert _state(child) is None


@needs_fork
def test_issue8_a_parent_killed_outright_takes_its_fork_with_it(large):
    proc = _start(large)
    try:
        child = _wait_for_child(proc.pid)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        until(lambda: _state(child) in (None, "Z"), 10, "the forked process to end with its parent",
              interval=0.01)
    finally:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
