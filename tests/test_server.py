"""`kiezgraph serve` under each server: the same answers, the same limits, SIGHUP reloads."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx
import pytest
from rdflib import Graph
from rdflib.compare import isomorphic

from publisher.reload import current_build_id
from publisher.web.server import SERVERS
from tests.conftest import ROOT
from tests.test_reload import _free_port, _wait_health, out  # noqa: F401
from tests.test_security import _children, _running
from tests.waiting import until

pytestmark = pytest.mark.live  # every test here starts `kiezgraph serve`

DOCS = ["/doc/organisation/bezirksamt-pankow.ttl", "/doc/organisation/bezirksamt-pankow.html",
        "/doc/stadtteilzentrum/stz-weissensee.jsonld", "/doc/stadtteilzentrum/stz-weissensee.nt",
        "/ontology.ttl"]
SAME = ("content-type", "link", "content-location", "cache-control", "vary", "content-encoding",
        "x-content-type-options", "content-security-policy")


def _serve(server: str, out_dir, *args: str, **settings: str) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIEZGRAPH_")}
    env["KIEZGRAPH_SERVER"] = server
    env.update({f"KIEZGRAPH_{name.upper()}": value for name, value in settings.items()})
    log = tempfile.TemporaryFile()  # noqa: SIM115 - a file, not a pipe nobody reads
    proc = subprocess.Popen([sys.executable, "-m", "publisher", "serve", "--out", str(out_dir),
                             "--port", str(port), *args], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)
    proc.log = log
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_health(url, proc)
    except BaseException:
        _stop(proc)
        raise
    return proc, url


def _stop(proc: subprocess.Popen) -> None:
    """Stop the server; what is left of its process group after 30 s is killed."""
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def servers(build_dir):
    """Both servers over the same build (IRIs under the base, not the port)."""
    running = {name: _serve(name, build_dir, "--no-rewrite") for name in SERVERS}
    yield {name: url for name, (_proc, url) in running.items()}
    for proc, _url in running.values():
        _stop(proc)


def _own(text, url: str):
    """text with the server's own address taken out."""
    netloc = url.split("//", 1)[1]
    return text.replace(netloc.encode(), b"") if isinstance(text, bytes) else \
        text.replace(netloc, "")


def test_every_server_answers_with_the_same_bytes_and_headers(servers):
    for path in DOCS:
        for accept in (None, "text/turtle", "text/html"):
            headers = {"Accept": accept} if accept else {}
            answers = {name: httpx.get(url + path, headers=headers)
                       for name, url in servers.items()}
            first = answers["waitress"]
            assert first.status_code == 200, path
            for name, answer in answers.items():
                assert answer.status_code == first.status_code, (name, path)
                # pages and links point to each server's own address
                ours, theirs = (_own(answer.content, servers[name]),
                                _own(first.content, servers["waitress"]))
                # Two processes may order JSON-LD's nodes and N-Triples' lines differently,
                # and a page may pick another of two labels of a resource (the app's doing,
                # not the server's): those are compared as graphs, pages by their headers.
                kind = {"jsonld": "json-ld", "nt": "nt"}.get(path.rsplit(".", 1)[1])
                if kind:
                    assert isomorphic(Graph().parse(data=ours, format=kind),
                                      Graph().parse(data=theirs, format=kind)), name
                elif not path.endswith(".html"):
                    assert ours == theirs, (name, path)
                for header in SAME:
                    ours = _own(answer.headers.get(header) or "", servers[name])
                    theirs = _own(first.headers.get(header) or "", servers["waitress"])
                    assert ours == theirs, (name, path, header)
    for name, url in servers.items():
        thing = httpx.get(url + "/id/organisation/bezirksamt-pankow")
        assert thing.status_code == 303 and thing.headers["location"].endswith(
            "/doc/organisation/bezirksamt-pankow"), name
        assert httpx.get(url + "/doc/organisation/nowhere").status_code == 404, name


def test_every_server_keeps_the_request_limits(servers):
    for name, url in servers.items():
        doc = url + DOCS[0]
        many = {f"X-Probe-{i}": "1" for i in range(150)}
        assert httpx.get(doc, headers=many).status_code == 431, name
        assert httpx.get(doc, headers={"X-Big": "a" * 40_000}).status_code == 431, name
        huge = httpx.get(doc, headers={"X-Big": "a" * 300_000})
        assert 400 <= huge.status_code < 500, (name, huge.status_code)
        long_url = httpx.get(f"{url}/doc/{'a' * 60_000}")
        assert 400 <= long_url.status_code < 500, (name, long_url.status_code)
        body = b"x" * (20 << 20)
        sparql = {"Content-Type": "application/sparql-query"}
        assert httpx.post(url + "/sparql", content=body, headers=sparql).status_code == 413
        chunked = httpx.post(url + "/sparql", content=iter([body]), headers=sparql)
        assert chunked.status_code == 413, name


@pytest.mark.slow
@pytest.mark.live
@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="needs SIGHUP")
@pytest.mark.parametrize("server", SERVERS)
def test_sighup_reloads_under_every_server_without_a_restart(server, out, workdir):  # noqa: F811
    proc, url = _serve(server, out, "--no-reload-on-change")  # only the signal may swap
    try:
        before = httpx.get(f"{url}/health").json()["build_id"]
        subprocess.run([sys.executable, "-m", "publisher", "build", "--root", str(workdir),
                        "--out", str(out)], cwd=ROOT, check=True, capture_output=True)
        after = current_build_id(out)
        assert after != before
        proc.send_signal(signal.SIGHUP)
        # generous: loading a build on a busy machine
        until(lambda: httpx.get(f"{url}/health").json()["build_id"] == after, 120,
              "SIGHUP to swap the new build in", interval=0.1)
        assert proc.poll() is None
    finally:
        _stop(proc)


def test_an_unknown_server_is_a_clear_error(build_dir):
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIEZGRAPH_")}
    env["KIEZGRAPH_SERVER"] = "tornado"
    done = subprocess.run([sys.executable, "-m", "publisher", "serve", "--out", str(build_dir),
                           "--port", str(_free_port())], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "unknown server 'tornado'" in done.stderr and "Traceback" not in done.stderr



@pytest.mark.live
@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="needs Linux /proc")
def test_granians_worker_stops_when_its_main_process_is_killed(build_dir):
    proc, _url = _serve("granian", build_dir)
    try:
        workers = _children(proc.pid)  # granian's worker and its query workers
        assert workers
        proc.kill()
        proc.wait(timeout=5)
        # generous: the worker notices within a second, but a busy machine may take long
        # to stop it (granian's own kill timeout is 10 s)
        until(lambda: not any(_running(pid) for pid in workers), 60,
              "granian's worker to end with its main process", interval=0.2)
    finally:
        _stop(proc)


@pytest.mark.parametrize("server", SERVERS)
def test_a_damaged_build_is_a_clear_error_under_every_server(server, build_dir, tmp_path):
    damaged = tmp_path / "out"
    shutil.copytree(build_dir, damaged, symlinks=True)
    graph = (damaged / "current").resolve() / "graph.nq"
    with graph.open("a", encoding="utf-8") as handle:
        handle.write("this is not N-Quads\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIEZGRAPH_")}
    env["KIEZGRAPH_SERVER"] = server
    done = subprocess.run([sys.executable, "-m", "publisher", "serve", "--out", str(damaged),
                           "--port", str(_free_port())], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0, done.stderr
    assert "cannot load the build's graph" in done.stderr and "graph.nq" in done.stderr
    assert "Traceback" not in done.stderr, done.stderr


@pytest.mark.live
@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="needs Linux /proc")
def test_issue8_granians_worker_allocates_from_two_malloc_arenas(servers):
    """Every process of the granian server runs with MALLOC_ARENA_MAX=2 (fewer arenas, less
    memory kept that no thread uses) unless the operator set another value."""
    port = servers["granian"].rsplit(":", 1)[1]
    found = []
    for pid in os.listdir("/proc"):
        with contextlib.suppress(OSError):
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            if b"publisher.web.granian_main" in argv and \
                    f'"port": {port}'.encode() in b"".join(environ):
                found.append(b"MALLOC_ARENA_MAX=2" in environ)
    assert len(found) >= 2 and all(found)  # the main process and its worker


NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists()
                                  else None)


def _readme_nginx(port: int, upstream: str, prefix: Path) -> str:
    """The README's nginx example, run as is but for where it listens, its certificate, the
    upstream address and its cache folder."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("```nginx\n", 1)[1].split("```", 1)[0]
    head, rest = block.split("upstream kiezgraph {", 1)
    rest = "upstream kiezgraph { server " + upstream + "; keepalive 16; }" + \
        rest.split("}", 1)[1]
    block = (head + rest).replace("/var/cache/nginx/kiezgraph", str(prefix / "cache"))
    block = block.replace("listen 443 ssl;", f"listen 127.0.0.1:{port} ssl; "
                          f"ssl_certificate {prefix}/cert.pem; "
                          f"ssl_certificate_key {prefix}/key.pem;")
    temp = "".join(f"{kind}_temp_path {prefix}/tmp; "
                   for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    user = "user root;\n" if os.geteuid() == 0 else ""
    return (f"{user}worker_processes 1;\npid {prefix}/nginx.pid;\n"
            f"error_log {prefix}/error.log;\ndaemon off;\nevents {{ worker_connections 64; }}\n"
            f"http {{ access_log off; {temp}\n{block}\n}}\n")


@pytest.mark.live
@pytest.mark.skipif(NGINX is None or not shutil.which("openssl"),
                    reason="needs nginx and openssl (apt-get install nginx-light openssl)")
def test_issue14_behind_the_readmes_nginx_location_and_links_say_https(build_dir, tmp_path):
    """kiezgraph serve as the README's deployment runs it (allowed_hosts, one trusted
    proxy, no rewriting) behind the README's own nginx block, over TLS: every Location and
    link names https://kiezgraph.example.berlin, and another Host is refused."""
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=kiezgraph.example.berlin", "-keyout", str(tmp_path / "key.pem"),
                    "-out", str(tmp_path / "cert.pem")], check=True, capture_output=True)
    (tmp_path / "tmp").mkdir()
    proc, url = _serve("granian", build_dir, "--no-rewrite",
                       allowed_hosts="kiezgraph.example.berlin", trusted_proxies="1")
    port = _free_port()
    conf = tmp_path / "nginx.conf"
    conf.write_text(_readme_nginx(port, url.split("//", 1)[1], tmp_path), encoding="utf-8")
    nginx = subprocess.Popen([NGINX, "-p", str(tmp_path), "-c", str(conf)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        def listening() -> bool:
            assert nginx.poll() is None, nginx.stderr.read().decode()
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return True

        until(listening, 20, "nginx to start", interval=0.1, ignoring=(OSError,))
        site = "https://kiezgraph.example.berlin"
        with httpx.Client(base_url=f"https://127.0.0.1:{port}", verify=False, timeout=20,
                          headers={"Host": "kiezgraph.example.berlin"}) as client:
            thing = client.get("/id/organisation/bezirksamt-pankow",
                               headers={"Accept": "text/turtle"})
            assert thing.status_code == 303
            assert thing.headers["location"] == site + "/doc/organisation/bezirksamt-pankow"
            page = client.get("/doc/organisation/bezirksamt-pankow.html")
            assert page.status_code == 200
            # links between pages are page-relative; the IRIs a page names say https
            assert f"{site}/id/" in page.text or f"{site}/doc/" in page.text
            assert "http://kiezgraph" not in page.text
            assert "127.0.0.1" not in page.text
            catalog = client.get("/catalog.ttl")
            assert catalog.status_code == 200
            # (a path nginx has not cached yet: a cached answer names the right host anyway)
            refused = client.get("/doc/organisation/bezirksamt-pankow.nt",
                                 headers={"Host": "evil.example"})
            assert refused.status_code == 400
            again = client.get("/doc/organisation/bezirksamt-pankow.nt")
            assert again.status_code == 200 and "evil" not in again.text
    finally:
        nginx.terminate()
        nginx.wait(timeout=10)
        _stop(proc)
