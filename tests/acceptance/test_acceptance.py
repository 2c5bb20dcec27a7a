"""kiezgraph as its users run it: the wheel installed, `kiezgraph serve` in an empty folder.

Nothing here uses the source tree or the test fixtures' settings: the wheel is built and
installed into a venv of its own, the server is started from an empty folder with default
settings (relative `out`, rewriting on, granian) as the README's quick start does, and a
crawler (tests/acceptance/crawler.py) checks every URL it can reach. The crawl is repeated
after a rebuild of unchanged data and after a build of changed data, each swapped in by SIGHUP
while the server keeps running; after the last, two releases are kept, and every thing's
TimeGate, TimeMap and mementos (issue 25) are crawled across both.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from rdflib import Dataset, URIRef
from werkzeug.http import http_date

from tests.acceptance.crawler import CRAWLS, RAPPER, crawl
from tests.conftest import BASE, ROOT
from tests.waiting import eventually, until

pytestmark = [pytest.mark.live, pytest.mark.slow]  # a wheel installed, builds, 3 crawls

START = ["/", "/robots.txt", "/sitemap.xml", "/catalog", "/.well-known/void", "/sparql",
         "/ontology", "/download/", "/download/SHA256SUMS"]
PROBE = "Bezirksamt Pankow Abnahmeprobe"
# The README's SPARQL formats table: every query form in every format it names, by Accept.
_QUERIES = {
    "SELECT ?s ?label WHERE { ?s <http://www.w3.org/2000/01/rdf-schema#label> ?label } LIMIT 5":
        ("application/sparql-results+json", "application/sparql-results+xml", "text/csv",
         "text/tab-separated-values"),
    "ASK { ?s ?p ?o }": ("application/sparql-results+json", "application/sparql-results+xml",
                         "text/csv", "text/tab-separated-values"),
    "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o } LIMIT 5":
        ("text/turtle", "application/ld+json", "application/rdf+xml", "application/n-triples"),
}
ASKED = tuple(("sparql?" + urlencode({"query": query}), accept)
              for query, formats in _QUERIES.items() for accept in formats)


def _user_env() -> dict[str, str]:
    """The environment a user's shell would give the installed kiezgraph: no KIEZGRAPH_*
    settings, and no PYTHONPATH, which would put a source tree ahead of the installed wheel."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith("KIEZGRAPH_") and k != "PYTHONPATH"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A venv holding the installed wheel; returns its bin/ folder.

    The wheel is built from this checkout (hatchling, from the test extras; no build
    isolation, so nothing is downloaded) and installed with `--no-deps` into a fresh venv.
    Its dependencies are the test venv's: a `.pth` file adds the test venv's site-packages
    (which the README's test command filled from pyproject's dependencies) behind the new
    venv's own. Installing them again from the package index would cost a minute and need
    the network for nothing new; the copy of kiezgraph that runs is still the installed one
    (checked below), never the source tree, whose editable-install hook lives in a `.pth`
    file of the test venv that the new venv does not process."""
    tmp = tmp_path_factory.mktemp("installed")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(tmp / "wheel"), str(ROOT)], check=True, capture_output=True)
    wheel = next((tmp / "wheel").glob("kiezgraph-*.whl"))
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run([str(python), "-c",
                              "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    import sysconfig

    (Path(purelib) / "kiezgraph_test_deps.pth").write_text(
        sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q",
                    "--no-deps", "--no-index", str(wheel)], check=True, capture_output=True)
    where = subprocess.run([str(python), "-c", "import publisher; print(publisher.__file__)"],
                           check=True, capture_output=True, text=True, cwd=tmp,
                           env=_user_env()).stdout
    assert where.startswith(purelib), f"kiezgraph runs from {where}, not the installed wheel"
    return venv / "bin"


class Served:
    """`kiezgraph serve` running in its own folder."""

    def __init__(self, bin_dir: Path, folder: Path, log: Path):
        self.bin, self.folder, self.log = bin_dir, folder, log
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.env = _user_env()
        with log.open("wb") as out:
            self.process = subprocess.Popen([str(bin_dir / "kiezgraph"), "serve", "--port",
                                             str(self.port)], cwd=folder, env=self.env,
                                            stdout=out, stderr=subprocess.STDOUT)

    def tail(self) -> str:
        return "\n".join(self.log.read_text(encoding="utf-8", errors="replace").splitlines()[-30:])

    def health(self, deadline: float) -> dict:
        """/health once the server answers (it builds first on a first run)."""
        def answer() -> dict:
            assert self.process.poll() is None, f"kiezgraph serve stopped:\n{self.tail()}"
            return httpx.get(self.url + "health", timeout=10).json()

        return eventually(answer, deadline - time.monotonic(),
                          lambda: f"an answer from the server:\n{self.tail()}", interval=0.2,
                          ignoring=(httpx.TransportError, ValueError))

    def build(self) -> str:
        """`kiezgraph build` in the served folder; the build id out/current now names."""
        done = subprocess.run([str(self.bin / "kiezgraph"), "build"], cwd=self.folder,
                              env=self.env, capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
        info = json.loads((self.folder / "build" / "current" / "build.json").read_text())
        return info["build_id"]

    def swap(self, build_id: str) -> dict:
        """SIGHUP, then wait (generously) until /health reports the new build."""
        self.process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 120
        health: dict = {}

        def swapped() -> bool:
            health.clear()
            health.update(self.health(deadline))
            return health["build_id"] == build_id

        until(swapped, 120, lambda: f"SIGHUP to swap in build {build_id}: {health}\n"
              + self.tail(), interval=0.2)
        return health

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture(scope="module")
def served(installed, tmp_path_factory):
    """The installed `kiezgraph serve`, started from an empty folder with default settings."""
    folder = tmp_path_factory.mktemp("site")
    assert not any(folder.iterdir())
    server = Served(installed, folder, folder.parent / "serve.log")
    try:
        server.health(time.monotonic() + 240)
        yield server
    finally:
        server.stop()


def _dump_iris(folder: Path) -> tuple[str, ...]:
    """Every IRI under the base in the dumps of the build being served (read from disk as
    well as over HTTP, so a broken download does not hide the IRIs in it)."""
    data = Dataset()
    for name in ("graph.nq", "metadata.nq"):
        data.parse(folder / "build" / "current" / name, format="nquads")
    iris = set()
    for quad in data.quads((None, None, None, None)):
        for term in quad:
            term = getattr(term, "identifier", term)
            if isinstance(term, URIRef) and str(term).startswith(BASE):
                iris.add(str(term).split("#")[0])
    return tuple(sorted(iris))


# Every dcat:downloadURL a crawl saw: releases are kept, so a harvester that saw version N
# can still fetch it after the next build (each later crawl asks for them again).
HARVESTED: set[str] = set()


def _release_dates(folder: Path) -> tuple[str, ...]:
    """The HTTP dates of the first and the last kept release (Memento-Datetime, issue 25):
    every thing's TimeGate is asked at each; the TimeMaps lead to every other memento."""
    index = json.loads((folder / "build" / "releases.json").read_text(encoding="utf-8"))
    dates = sorted({dt.datetime.fromisoformat(entry["published_at"]) for entry in index})
    return tuple(dict.fromkeys(http_date(d) for d in (dates[0], dates[-1])))


def _crawl(served: Served, when: str) -> None:
    started = time.monotonic()
    result = crawl(served.url, BASE, START + sorted(HARVESTED), asked=ASKED,
                   iris=_dump_iris(served.folder), timegates=_release_dates(served.folder))
    HARVESTED.update(url for url in result.downloads if url.startswith(served.url))
    seconds = time.monotonic() - started
    line = (f"acceptance crawl ({when}): {result.checked} URLs checked, "
            f"{len(result.failures)} failed, {result.rapper_checked} RDF answers also "
            f"checked by rapper, {seconds:.0f} s")
    print(line)
    CRAWLS.append(line)
    assert result.checked > 500, line  # the crawl reached the data, not just a few pages
    if result.failures:
        pytest.fail(f"{line}; one line per failing request:\n{result.report()}",
                    pytrace=False)


def _data_triples(folder: Path) -> int:
    """The triples of the data graph being served, as its build.json counts them."""
    return json.loads((folder / "build" / "current" / "build.json").read_text())["triples"]


def test_first_run_serves_a_graph_where_every_link_works(served):
    health = served.health(time.monotonic() + 60)
    assert health["status"] == "ok" and health["triples"] > 1000, health
    assert (served.folder / "build" / "current").is_symlink()  # the relative default `out`
    _crawl(served, "first run")


def test_after_a_rebuild_of_unchanged_data_every_link_still_works(served):
    before = served.health(time.monotonic() + 60)
    build_id = served.build()
    assert build_id != before["build_id"]
    after = served.swap(build_id)
    assert after["triples"] == before["triples"]
    _crawl(served, "after a rebuild of unchanged data")


def test_after_a_build_of_changed_data_every_link_still_works(served, installed):
    before = served.health(time.monotonic() + 60)
    bundled = next(installed.parent.glob("lib/python*/site-packages/publisher/_bundled"))
    for part in ("ontology", "data", "shapes"):
        shutil.copytree(bundled / part, served.folder / part)
    with (served.folder / "data" / "organisations.ttl").open("a", encoding="utf-8") as out:
        out.write('\n<id/organisation/bezirksamt-pankow> '
                  f'<http://www.w3.org/2004/02/skos/core#altLabel> "{PROBE}"@de .\n')
    data_before = _data_triples(served.folder)
    after = served.swap(served.build())
    assert _data_triples(served.folder) == data_before + 1
    # The catalogue grows too: it now names the earlier release in its dataset series (#25).
    assert after["triples"] > before["triples"] + 1, (before, after)
    assert len(json.loads((served.folder / "build" / "releases.json").read_text())) == 2
    page = httpx.get(served.url + "doc/organisation/bezirksamt-pankow.ttl", timeout=30)
    assert PROBE in page.text  # the running server serves the changed data
    _crawl(served, "after a build of changed data")


def test_rdf_answers_also_parse_with_rapper():
    if RAPPER is None:
        pytest.skip("rapper (Debian's raptor2-utils) is not installed: the crawl parsed RDF "
                    "answers with rdflib only")
    assert CRAWLS and all(" 0 RDF answers also" not in line for line in CRAWLS), CRAWLS
