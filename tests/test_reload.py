"""Nothing lost: a new build is checked, loaded, then swapped in; a bad one is refused."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest

from publisher.build import build
from publisher.config import load_settings
from publisher.project import Project
from publisher.releases import current_release
from publisher.reload import ReleaseRefused, check_release, current_build_id
from tests.conftest import ROOT
from tests.waiting import eventually, until

PROBE = "BA Pankow Probe"
ASK_PROBE = f'ASK {{ ?s ?p "{PROBE}"@de }}'


def _add_probe(root: Path) -> None:
    """A small, conforming change to the data: one more German alternative label."""
    with (root / "data" / "organisations.ttl").open("a", encoding="utf-8") as handle:
        handle.write('\n<id/organisation/bezirksamt-pankow> '
                     f'<http://www.w3.org/2004/02/skos/core#altLabel> "{PROBE}"@de .\n')


@pytest.fixture()
def out(tmp_path, build_dir) -> Path:
    """A writable copy of the session's build folder."""
    target = tmp_path / "out"
    shutil.copytree(build_dir, target, symlinks=True)
    return target


@pytest.fixture()
def served_app(out):
    """An app over its own build folder, with a reloader that closes old stores quickly."""
    from publisher.web import create_app
    from publisher.web.reloading import reloader_for

    settings = load_settings(env={}, overrides={"out": str(out)})
    app = create_app(settings)
    app.config["TESTING"] = True
    reloader = reloader_for(app, grace=0.5)
    yield app, reloader, settings
    reloader.stop()
    app.extensions["kiezgraph"].published.store.close()


def _sparql_ask(client, query: str) -> bool:
    response = client.get("/sparql", query_string={"query": query},
                          headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200, response.data
    return response.get_json()["boolean"]


def test_a_sound_release_passes_the_check(release):
    check_release(release)


@pytest.mark.parametrize("damage", ["flip", "truncate", "no-report", "wrong-count"])
def test_a_damaged_release_is_refused(tmp_path, release, damage):
    from publisher.releases import Release

    copy = tmp_path / "release"
    shutil.copytree(release.path, copy)
    info = dict(release.info)
    graph = copy / "graph.nq"
    if damage == "flip":
        data = bytearray(graph.read_bytes())
        data[len(data) // 2] ^= 0x20
        graph.write_bytes(bytes(data))
    elif damage == "truncate":
        graph.write_bytes(graph.read_bytes()[: graph.stat().st_size // 2])
    elif damage == "no-report":
        (copy / "validation.txt").unlink()
    else:
        info["quads"] += 1
    with pytest.raises(ReleaseRefused):
        check_release(Release(copy, info))


@pytest.mark.slow
def test_reload_swaps_a_new_build_in_and_requests_in_flight_keep_the_old(
        served_app, out, workdir):
    app, reloader, settings = served_app
    client = app.test_client()
    state = app.extensions["kiezgraph"]
    before = state.published
    assert not _sparql_ask(client, ASK_PROBE)
    assert reloader.reload() == "unchanged"

    _add_probe(workdir)
    build(Project(workdir), settings, out)
    assert current_build_id(out) != before.build_id
    assert reloader.reload() == "swapped"

    # A request that took the old snapshot before the swap still reads the old graph.
    assert not before.store.ask(ASK_PROBE)
    # New requests see the new graph, in the pages and in SPARQL's worker processes.
    health = client.get("/health").get_json()
    assert health["build_id"] == current_build_id(out) != before.build_id
    assert _sparql_ask(client, ASK_PROBE)
    assert client.get("/ready").status_code == 200
    # Once the grace period is over the old store's query workers are stopped (awaited, not
    # slept: a busy machine runs the timer late).
    until(lambda: before.store.pool is None, 30, "the old store's query workers to stop")


@pytest.mark.slow
def test_a_corrupt_new_build_is_refused_and_the_old_keeps_serving(served_app, out, workdir):
    app, reloader, settings = served_app
    client = app.test_client()
    before = app.extensions["kiezgraph"].published.build_id
    _add_probe(workdir)
    new = build(Project(workdir), settings, out).release
    with (new.path / "graph.nq").open("ab") as handle:  # damaged after the build finished
        handle.write(b"<urn:x> <urn:y> <urn:z> .\n")

    assert reloader.reload() == "refused"
    health = client.get("/health")
    ready = client.get("/ready")
    assert health.status_code == 200 and ready.status_code == 200
    assert health.get_json()["build_id"] == before
    for body in (health.get_json(), ready.get_json()):
        assert any(new.build_id in p and "refused" in p for p in body["problems"]), body
    assert not _sparql_ask(client, ASK_PROBE)
    assert reloader.reload() == "unchanged"  # refused once, not re-checked on every poll


@pytest.mark.slow
def test_the_watcher_notices_a_new_build(served_app, out, workdir):
    app, reloader, settings = served_app
    before = app.extensions["kiezgraph"].published.build_id
    reloader.start(watch=True, interval=0.1)
    build(Project(workdir), settings, out)
    # generous: loading a build on a busy machine
    until(lambda: app.extensions["kiezgraph"].published.build_id != before, 120,
          "the watcher to swap the new build in", interval=0.1)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _cli(*args: str, **kwargs) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIEZGRAPH_")}
    # The log goes to a file: a pipe nobody reads fills up and then blocks the server.
    log = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the process
    proc = subprocess.Popen([sys.executable, "-m", "publisher", *args], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=log, **kwargs)
    proc.log = log
    return proc


def _log(proc: subprocess.Popen) -> str:
    """What the process wrote to its log so far."""
    proc.log.seek(0)
    return proc.log.read().decode("utf-8", "replace")


@pytest.mark.slow
@pytest.mark.live
@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="needs SIGHUP")
def test_sighup_makes_kiezgraph_serve_swap_in_the_new_build(out, workdir):
    port = _free_port()
    # watching is the default (issue 23): off here, so only the signal can swap
    server = _cli("serve", "--out", str(out), "--port", str(port), "--no-reload-on-change")
    url = f"http://127.0.0.1:{port}"
    try:
        before = _wait_health(url, server)["build_id"]
        subprocess.run([sys.executable, "-m", "publisher", "build", "--root", str(workdir),
                        "--out", str(out)], cwd=ROOT, check=True, capture_output=True)
        after = current_build_id(out)
        assert after != before
        # A fixed wait on purpose: what is tested is that nothing happens (no event to await);
        # a watcher, had it been on, polls far more often than this.
        time.sleep(0.5)
        assert httpx.get(f"{url}/health").json()["build_id"] == before  # no watching
        server.send_signal(signal.SIGHUP)
        # generous: loading a build on a busy machine
        until(lambda: httpx.get(f"{url}/health").json()["build_id"] == after, 120,
              "SIGHUP to swap the new build in", interval=0.1)
    finally:
        server.terminate()
        # Stopping takes well under a second on a quiet machine; with the machine's cores
        # saturated by other work it was seen to take over 10 s (granian's own kill timeout).
        server.wait(timeout=30)


def _wait_health(url: str, server: subprocess.Popen) -> dict:
    def health() -> dict:
        assert server.poll() is None, _log(server)  # a server that died is not awaited
        return httpx.get(f"{url}/health", timeout=2).json()

    return eventually(health, 30, "the server to come up", interval=0.1,
                      ignoring=(httpx.TransportError,))


@pytest.mark.slow
def test_a_build_killed_half_way_never_leaves_a_half_written_release(out, workdir):
    """SIGKILL `kiezgraph build` at several points; out/current stays a complete build."""
    _add_probe(workdir)
    good = current_build_id(out)
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "publisher", "build", "--root", str(workdir),
                    "--out", str(out)], cwd=ROOT, check=True, capture_output=True)
    full = time.monotonic() - started
    good = current_build_id(out)
    (workdir / "data" / "organisations.ttl").write_text(
        (workdir / "data" / "organisations.ttl").read_text(encoding="utf-8").replace(
            PROBE, PROBE + " 2"), encoding="utf-8")
    for fraction in (0.55, 0.7, 0.8, 0.9, 0.97):
        process = _cli("build", "--root", str(workdir), "--out", str(out))
        # A fixed wait on purpose: the kill must land at a point in time of the build, which
        # announces no event there to await.
        time.sleep(full * fraction)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        now = current_build_id(out)
        assert now is not None
        release = current_release(out)
        check_release(release)  # complete: report, graph, counts, hash all agree
        info = json.loads((out / "current" / "build.json").read_text(encoding="utf-8"))
        assert all((release.path / f["name"]).is_file() for f in info["files"])
        assert now in (good, current_build_id(out))


@pytest.mark.live
@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="needs SIGHUP")
def test_issue15_a_served_build_damaged_in_place_is_refused_and_the_graph_kept(build_dir,
                                                                             tmp_path):
    from tests.test_cli import _copy_build, _serve_in
    from tests.test_server import _stop

    _copy_build(build_dir, tmp_path)
    graph = tmp_path / "build" / "current" / "graph.nq"
    proc, url = _serve_in(tmp_path, env={"KIEZGRAPH_QUERY_TIMEOUT": "2"})
    try:
        triples = _wait_health(url, proc)["triples"]
        lines = graph.read_bytes().splitlines(keepends=True)
        with graph.open("r+b") as handle:  # truncated in place: same file, same build id
            handle.truncate(len(b"".join(lines[: len(lines) // 2])))
        proc.send_signal(signal.SIGHUP)
        again = [time.monotonic() + 15]

        def noticed() -> dict | None:
            health = httpx.get(f"{url}/health").json()
            if not health["problems"] and time.monotonic() > again[0]:
                # Once in about six runs of the whole suite on two busy workers, the first
                # SIGHUP after start was not acted on (cause not yet found; the server kept
                # serving); an operator sends it again, and so does the test. Noticing the
                # damage is what is tested.
                proc.send_signal(signal.SIGHUP)
                again[0] = time.monotonic() + 15
            return health if health["problems"] else None

        # generous, as for every SIGHUP on a busy machine
        health = eventually(noticed, 120, lambda: "the reload to notice the damage:\n"
                            + _log(proc), interval=0.2)
        assert "graph.nq" in health["problems"][0] and health["triples"] == triples
        until(lambda: "refused" in _log(proc), 10,
              lambda: "the refusal in the log:\n" + _log(proc), interval=0.1)
        # A query over the time limit restarts its worker, which must not load the damage.
        runaway = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
        httpx.get(f"{url}/sparql", params={"query": runaway}, timeout=60)
        count = _count_when_answered(url)
        assert int(count.json()["results"]["bindings"][0]["n"]["value"]) == triples
    finally:
        _stop(proc)


def _count_when_answered(url: str) -> httpx.Response:
    """COUNT(*) once a SPARQL worker answers again (a busy machine may take a while to
    start the replacement of a killed one); a worker that cannot load never answers."""
    def answered() -> httpx.Response | None:
        count = httpx.get(f"{url}/sparql", params={
            "query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"},
            headers={"Accept": "application/sparql-results+json"}, timeout=60)
        return count if count.status_code != 503 else None

    count = eventually(answered, 90, "a SPARQL worker to answer again (503 meanwhile)",
                       interval=1)
    assert count.status_code == 200, count.text
    return count
