"""The layering docs/ARCHITECTURE.md promises, held by tests (issue #21).

The import contracts are data, in pyproject.toml's [tool.importlinter]; import-linter checks
them here. A second test starts a server the way a worker process does and looks at what it
loaded: the build's libraries stay out of every process that only serves.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import tomllib

from tests.conftest import ROOT

PACKAGE = ROOT / "publisher"

# Libraries only the build (SHACL, OWL RL reasoning) and the workbook import need. odfpy's
# package is called odf.
BUILD_LIBRARIES = ("pyshacl", "owlrl", "openpyxl", "odf")


def _env() -> dict[str, str]:
    """This checkout first on the path, whatever else is installed (the venv may hold another)."""
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    return {**os.environ, "PYTHONPATH": path}


def _contracts() -> dict[str, dict]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return {c["id"]: c for c in config["tool"]["importlinter"]["contracts"]}


def _modules() -> set[str]:
    """The package's own modules and sub-packages, one level down."""
    names = {p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    names |= {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    return {f"publisher.{name}" for name in names}


def test_issue21_the_import_contracts_hold():
    """cli -> web | build -> core -> base; Flask only in web, click only in the CLI; the web
    layer reaches no SHACL, OWL RL or workbook library; no circles between siblings."""
    run = subprocess.run(
        [sys.executable, "-c",
         "import sys; from importlinter.cli import lint_imports; "
         "sys.exit(lint_imports(config_filename='pyproject.toml', no_cache=True, no_logo=True))"],
        cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=300)
    report = run.stdout + run.stderr
    assert run.returncode == 0, f"lint-imports found broken contracts:\n{report}"
    assert "0 broken" in report, report


def test_issue21_the_forbidden_contracts_name_every_other_module():
    """A module added later is bound by "Flask only in web" and "click only in the CLI" too
    (the layers contract is exhaustive by itself)."""
    contracts = _contracts()
    modules = _modules()
    assert set(contracts["flask-only-in-web"]["source_modules"]) == modules - {"publisher.web"}
    assert set(contracts["click-only-in-cli"]["source_modules"]) == modules - {"publisher.cli"}


_SERVE = """
import json, sys

WATCHED = ("click", "flask") + tuple(sys.argv[2].split(","))
first_importer = {}


class Watch:
    '''Notes which module first imported each watched package (importlib's frames skipped).'''

    def find_spec(self, name, path=None, target=None):
        top = name.partition(".")[0]
        if top in WATCHED and top not in first_importer:
            frame = sys._getframe(1)
            while frame and frame.f_globals.get("__name__", "").startswith("importlib"):
                frame = frame.f_back
            first_importer[top] = frame.f_globals.get("__name__") if frame else None
        return None


sys.meta_path.insert(0, Watch())

import publisher.web

after_import = sorted(m for m in WATCHED if m in sys.modules)

from publisher.config import load_settings

app = publisher.web.create_app(load_settings(env={}, overrides={"out": sys.argv[1]}))
client = app.test_client()
statuses = {path: client.get(path).status_code
            for path in ("/", "/doc/organisation/vska.html", "/changes", "/download/")}
app.extensions["kiezgraph"].published.store.close()
print(json.dumps({
    "after_import": after_import,
    "loaded": sorted(m for m in WATCHED if m in sys.modules),
    "first_importer": first_importer,
    "ours": sorted(m for m in sys.modules if m.startswith("publisher.")),
    "statuses": statuses,
}))
"""


def test_issue21_a_server_process_loads_no_build_library(build_dir):
    """A fresh interpreter does what a server's worker does (import publisher.web, create_app
    for a built release, answer a few pages) and never loads pyshacl, owlrl, openpyxl, odfpy
    or the build; click arrives only with Flask, which imports it itself."""
    run = subprocess.run([sys.executable, "-c", _SERVE, str(build_dir),
                          ",".join(BUILD_LIBRARIES)],
                         cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    assert seen["after_import"] == [], "importing publisher.web alone loads " + \
        ", ".join(seen["after_import"])
    assert all(code == 200 for code in seen["statuses"].values()), seen["statuses"]
    loaded = [m for m in BUILD_LIBRARIES if m in seen["loaded"]]
    assert not loaded, f"a server process loaded {loaded}: {seen['first_importer']}"
    assert not {"publisher.build", "publisher.validation", "publisher.reasoning",
                "publisher.terms", "publisher.cli"} & set(seen["ours"]), seen["ours"]
    # Flask's app module imports click for its own command line; none of ours does.
    assert seen["first_importer"].get("click", "flask").partition(".")[0] == "flask", \
        seen["first_importer"]


# Small modules (#21): one job each, none over MAX_LINES lines, with no exceptions.
MAX_LINES = 450


def _line_counts() -> dict[str, int]:
    """Lines of every Python module in the package, by path from the checkout's root."""
    return {path.relative_to(ROOT).as_posix(): len(path.read_text(encoding="utf-8").splitlines())
            for path in sorted(PACKAGE.rglob("*.py"))}


def test_issue21_no_module_is_over_450_lines():
    """A module that grows past MAX_LINES is split along a seam, never let off."""
    counts = _line_counts()
    assert counts, f"no modules found under {PACKAGE}"
    over = {path: n for path, n in counts.items() if n > MAX_LINES}
    assert not over, (f"over {MAX_LINES} lines (split along a seam, one job a module): "
                      + ", ".join(f"{path} ({n})" for path, n in sorted(over.items())))


# Words that start a child process or tie it to its parent: only the package
# publisher/children/ may say them. (sandbox.py's prctl sets PR_SET_NO_NEW_PRIVS only.)
_CHILDREN_ONLY = ("socketpair", "PR_SET_PDEATHSIG", "prctl", "os.fork", "subprocess.Popen")
# Modules that execute what they read (or wrap one that does, as multiprocessing's Connection)
_UNPICKLERS = {"pickle", "multiprocessing", "marshal", "shelve", "dill", "cloudpickle"}
# The one module that unpickles: what the parallel validation's own forks send back.
PICKLING_FORKS = "publisher/validation/parallel.py"


def _imported_modules(source: str) -> set[str]:
    """The full names of the modules a source imports (relative imports left out)."""
    tree = ast.parse(source)
    names = {alias.name for node in ast.walk(tree)
             if isinstance(node, ast.Import) for alias in node.names}
    return names | {node.module for node in ast.walk(tree)
                    if isinstance(node, ast.ImportFrom) and node.module and not node.level}


def _imported(source: str) -> set[str]:
    """The top-level names of the modules a source imports."""
    return {name.partition(".")[0] for name in _imported_modules(source)}


def test_issue21_child_processes_are_made_in_one_place():
    """The package publisher/children/ alone makes socket pairs, forks, starts children and
    sets the parent-death signal, and imports the standard library only (and its own
    modules); nothing in the package unpickles, but the validation's forks (unsandboxed
    copies of this process, our data)."""
    helper = PACKAGE / "children"
    helper_modules = sorted(helper.rglob("*.py"))
    assert helper / "__init__.py" in helper_modules, "publisher/children/ is not a package"
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        where = path.relative_to(ROOT)
        unpicklers = _imported(source) & _UNPICKLERS
        if unpicklers and unpicklers != ({"pickle"} if where.as_posix() == PICKLING_FORKS
                                         else set()):
            found.append(f"{where}: imports {sorted(unpicklers)}")
        if helper in path.parents:
            continue
        for number, line in enumerate(source.splitlines(), 1):
            for word in _CHILDREN_ONLY:
                if word in line and not (word == "prctl" and "NO_NEW_PRIVS" in line):
                    found.append(f"{where}:{number}: {word}")
    assert not found, "\n".join(found)
    for path in helper_modules:
        own = "publisher.children"
        imported = {name.partition(".")[0]
                    for name in _imported_modules(path.read_text(encoding="utf-8"))
                    if name != own and not name.startswith(own + ".")}
        assert imported <= set(sys.stdlib_module_names) | {"__future__"}, (path.name, imported)
