"""What a test needs, as markers, so that the fast loop can leave the expensive tests out.

Four markers (declared in pyproject.toml) say what makes a test expensive:

- live: starts a real server, in a thread or a process, listening on a port
- virtuoso: starts or uses Debian's Virtuoso
- browser: drives Debian's Chromium
- slow: builds the graph inside the test, installs a wheel, or runs LibreOffice

`python -m pytest --fast` leaves all four out. Tests that use the fixtures in FIXTURE_MARKS
get their marker at collection. Every other test is watched while it runs: if it starts a
server, Virtuoso, Chromium, LibreOffice, pip or a build without carrying the marker that says
so, it fails with a message naming the marker, so a new expensive test cannot slip into the
fast loop unnoticed. A build in a session- or module-scoped fixture is shared, not per test,
and is not counted.

Under pytest-xdist (`-n 2 --dist loadgroup`, the README's test command) every test gets an
xdist_group: a test module runs on one worker, so its module fixtures start once; every test
that uses Virtuoso shares one group, so the session starts one Virtuoso, not one per worker.
"""

from __future__ import annotations

import os
import shlex
import socket
import subprocess

import pytest

__all__ = ["FAST", "NEEDS"]

NEEDS = ("live", "virtuoso", "browser", "slow")
FAST = " and ".join(f"not {need}" for need in NEEDS)

# Fixtures whose use alone says what a test needs.
FIXTURE_MARKS = {
    "live_server": "live",
    "virtuoso": "virtuoso",
    "loaded_virtuoso": "virtuoso",
    "chromium": "browser",
    "browse": "browser",
}

# Groups that run first under xdist: the longest single units of work, so that they do not
# start last and leave one worker running alone at the end.
FIRST = ("virtuoso", "tests/acceptance/test_acceptance.py")

_STASH = pytest.StashKey[dict]()
_now: dict = {"needs": None, "fixtures": []}
_FIXTURE_NEEDS: dict[int, dict[str, str]] = {}  # id(FixtureDef) -> what its setup started


def pytest_addoption(parser) -> None:
    parser.addoption("--fast", action="store_true", default=False,
                     help=f"the fast loop: only tests marked none of {', '.join(NEEDS)} "
                          f"(the same as -m '{FAST}')")


def pytest_configure(config) -> None:
    if config.getoption("fast"):
        given = config.option.markexpr
        config.option.markexpr = f"({given}) and {FAST}" if given else FAST
    if getattr(config.option, "dist", "no") == "loadgroup":
        # Hand out the groups in the order pytest_collection_modifyitems leaves them, not
        # sorted by their number of tests (a few long tests would otherwise come last).
        config.option.loadscopereorder = False
    _watch()


def _group(item) -> str:
    if item.get_closest_marker("virtuoso"):
        return "virtuoso"
    return item.nodeid.split("::", 1)[0]


@pytest.hookimpl(tryfirst=True)  # before -m deselects and before xdist reads the groups
def pytest_collection_modifyitems(config, items) -> None:
    for item in items:
        for fixture, need in FIXTURE_MARKS.items():
            if fixture in item.fixturenames:
                item.add_marker(need)
        if "/browser/" in item.nodeid:
            item.add_marker("browser")
    if "PYTEST_XDIST_WORKER" in os.environ and config.getoption("dist", "no") == "loadgroup":
        for item in items:
            item.add_marker(pytest.mark.xdist_group(_group(item)))
        # Work units are handed out in collection order (pytest_configure turns xdist's
        # reordering by test count off); the longest go first; the order within a module stays.
        items.sort(key=lambda item: FIRST.index(_group(item)) if _group(item) in FIRST
                   else len(FIRST))


# --- Watching what a test does ----------------------------------------------------------


def _need(need: str, why: str, shared_build: bool = False) -> None:
    """Note that the running test (or the fixture being set up) needs a marker."""
    fixture = _now["fixtures"][-1] if _now["fixtures"] else None
    if shared_build and fixture is not None and fixture.scope != "function":
        return  # one build for the session or the module, not one per test
    if fixture is not None:  # every test that uses the fixture needs it, not only the first
        _FIXTURE_NEEDS.setdefault(id(fixture), {}).setdefault(need, why)
    if _now["needs"] is not None:
        _now["needs"].setdefault(need, why)


def _argv_needs(args) -> tuple[str, str] | None:
    """What starting this command line needs, if it is one of the expensive ones."""
    try:
        if isinstance(args, str | bytes):
            argv = shlex.split(os.fsdecode(args))
        elif isinstance(args, os.PathLike):
            argv = [os.fspath(args)]
        else:
            argv = [os.fsdecode(a) for a in args]
    except (TypeError, ValueError):
        return None  # not ours to judge; Popen says what is wrong with it
    if not argv:
        return None
    line = " ".join(argv)
    program = os.path.basename(argv[0])
    words = [os.path.basename(a) for a in argv]
    if program.startswith("virtuoso"):
        return "virtuoso", line
    if program in ("soffice", "libreoffice", "soffice.bin"):
        return "slow", line
    if program in ("nginx", "wrk") or "chromium" in program:
        return ("browser" if "chromium" in program else "live"), line
    if "playwright" in line:
        return "browser", line
    for i, word in enumerate(words):
        if (word == "kiezgraph" and i == 0) or (word == "publisher"
                                                and words[i - 1:i] == ["-m"]):
            command = next((w for w in words[i + 1:] if w in ("serve", "build")), None)
            if command:
                return ("live" if command == "serve" else "slow"), line
        if word in ("bench", "bench.loadtest") and words[i - 1:i] == ["-m"]:
            return "live", line
        if word == "pip" and {"wheel", "install"} & set(words[i + 1:]):
            return "slow", line
    return None


def _watch() -> None:
    """Wrap what starts servers and builds, once per process."""
    if getattr(subprocess.Popen, "_kiezgraph_watched", False):
        return

    popen_init = subprocess.Popen.__init__

    def init(self, args, *rest, **kwargs):
        found = _argv_needs(args)
        if found:
            _need(*found)
        popen_init(self, args, *rest, **kwargs)

    subprocess.Popen.__init__ = init
    subprocess.Popen._kiezgraph_watched = True

    listen = socket.socket.listen

    def listening(self, *args):
        if self.family in (socket.AF_INET, socket.AF_INET6):
            _need("live", f"a server listens on {self.getsockname()}")
        return listen(self, *args)

    socket.socket.listen = listening

    try:
        import publisher.build as module
    except ImportError:
        return
    build = getattr(module, "build", None)
    if callable(build):
        def watched_build(*args, **kwargs):
            _need("slow", "a build of the graph inside the test", shared_build=True)
            return build(*args, **kwargs)

        watched_build.__wrapped__ = build
        watched_build.__doc__ = build.__doc__
        module.build = watched_build


@pytest.hookimpl(hookwrapper=True)
def pytest_fixture_setup(fixturedef, request):
    _now["fixtures"].append(fixturedef)
    try:
        yield
    finally:
        _now["fixtures"].pop()


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_protocol(item, nextitem):
    item.stash[_STASH] = _now["needs"] = {}
    try:
        yield
    finally:
        _now["needs"] = None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if call.when != "call" or not report.passed:
        return
    needs = dict(item.stash.get(_STASH, {}))
    info = getattr(item, "_fixtureinfo", None)  # the fixtures it uses, as pytest resolved them
    for defs in info.name2fixturedefs.values() if info else ():
        for need, why in _FIXTURE_NEEDS.get(id(defs[-1]), {}).items():
            needs.setdefault(need, why)
    missing = {need: why for need, why in needs.items() if not item.get_closest_marker(need)}
    if missing:
        report.outcome = "failed"
        report.longrepr = (
            "this test passed but is missing markers that the fast loop (--fast) relies on:\n"
            + "\n".join(f"  @pytest.mark.{need}: {why}" for need, why in missing.items())
            + "\nmark it (or its module: pytestmark), as tests/markers.py explains")
