"""Issue #24, items 2 and 5: slow clients deny nothing, under granian and under waitress.

Sixty-four clients that send a body slowly, or never read a large answer, held every thread
of granian's WSGI interface: other clients' queries, pages and /health timed out. Now a held
body costs a connection until `body_timeout`, and an unread answer a connection and a few
frames until `send_timeout`; a thread only ever runs the app.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from publisher.web.server import SERVERS
from tests.test_security import _children
from tests.test_server import _serve, _stop

pytestmark = [pytest.mark.live, pytest.mark.slow]

QUERY = "ASK { ?s ?p ?o }"
BIG_QUERY = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"
LARGE_BASE = "https://example.org/slow/"


def _connect(url: str, receive_buffer: int | None = None) -> socket.socket:
    host, port = url.split("//", 1)[1].split(":")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if receive_buffer:  # a client that reads nothing, with as little room as it can ask for
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.settimeout(30)
    sock.connect((host, int(port)))
    return sock


def _slow_body(url: str, chunked: bool) -> socket.socket:
    """A POST /sparql whose body starts and never ends (one byte of a declared 1000, or one
    chunk of a chunked body), on a connection left open."""
    sock = _connect(url)
    framing = b"Transfer-Encoding: chunked\r\n\r\n1\r\nq\r\n" if chunked else \
        b"Content-Length: 1000\r\n\r\nq"
    sock.sendall(b"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                 b"Content-Type: application/sparql-query\r\n" + framing)
    return sock


def _slow_reader(url: str, path: str) -> socket.socket:
    """A GET of a large answer whose client never reads a byte of it."""
    sock = _connect(url, receive_buffer=4096)
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                 "Accept: application/n-triples\r\n\r\n".encode())
    return sock


def _first_lines(socks: list[socket.socket], seconds: float) -> dict[socket.socket, bytes]:
    """What each connection got within `seconds`: its status line, or b"" when it was
    closed without an answer (connections still open and silent are not in it)."""
    found: dict[socket.socket, bytes] = {}
    with selectors.DefaultSelector() as selector:
        for sock in socks:
            selector.register(sock, selectors.EVENT_READ)
        deadline = time.monotonic() + seconds
        while len(found) < len(socks) and time.monotonic() < deadline:
            for key, _ in selector.select(timeout=max(0.0, deadline - time.monotonic())):
                selector.unregister(key.fileobj)
                try:
                    found[key.fileobj] = key.fileobj.recv(200).split(b"\r\n", 1)[0]
                except OSError:
                    found[key.fileobj] = b""
    return found


def _p99(seconds: list[float]) -> float:
    ordered = sorted(seconds)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def _timed(client: httpx.Client, method: str, path: str, **kwargs) -> tuple[int, float]:
    started = time.monotonic()
    status = client.request(method, path, **kwargs).status_code
    return status, time.monotonic() - started


def _probe(url: str, rounds: int) -> tuple[list[int], list[float]]:
    """Other clients' POST queries, GET queries, pages and /health, each timed."""
    statuses, times = [], []
    with httpx.Client(base_url=url, timeout=20) as client:
        for i in range(rounds):
            for method, path, kwargs in (
                    ("POST", "/sparql", {"content": f"{QUERY} # {i}".encode(),
                                         "headers": {"Content-Type": "application/sparql-query",
                                                     "Accept": "application/sparql-results+json"}}),
                    ("GET", "/sparql", {"params": {"query": f"{QUERY} # g{i}"},
                                        "headers": {"Accept": "application/sparql-results+json"}}),
                    ("GET", "/doc/organisation/bezirksamt-pankow.html", {}),
                    ("GET", "/health", {})):
                status, took = _timed(client, method, path, **kwargs)
                statuses.append(status)
                times.append(took)
    return statuses, times


@pytest.mark.parametrize("server", SERVERS)
def test_issue24_held_bodies_deny_nothing_and_end_after_body_timeout(server, build_dir):
    """64 clients hold a POST body open (half declared, half chunked); meanwhile other
    clients' POST and GET queries, a page and /health are answered with p99 < 1 s. After
    `body_timeout` the held connections end: 408 under granian, closed under waitress."""
    proc, url = _serve(server, build_dir, "--no-rewrite", body_timeout="4")
    held: list[socket.socket] = []
    try:
        held = [_slow_body(url, chunked=bool(i % 2)) for i in range(64)]
        started = time.monotonic()
        statuses, times = _probe(url, 8)
        assert set(statuses) == {200}, statuses
        assert _p99(times) < 1.0, sorted(times)[-5:]
        early = _first_lines(held, max(0.0, 3.0 - (time.monotonic() - started)))
        assert not early, f"held bodies were answered before body_timeout: {set(early.values())}"
        ended = _first_lines(held, 8.0)
        assert len(ended) == len(held), f"{len(held) - len(ended)} still held after 12 s"
        expected = {b"HTTP/1.1 408 Request Timeout"} if server == "granian" else {b""}
        assert set(ended.values()) == expected, set(ended.values())
    finally:
        for sock in held:
            sock.close()
        _stop(proc)


@pytest.fixture(scope="module")
def large_build(tmp_path_factory):
    """A build of the benchmark's 100k-triple graph: answers of many megabytes."""
    import bench.generate as gen
    from publisher.build import build
    from publisher.config import load_settings
    from publisher.project import Project
    from tests.conftest import ROOT

    folder = tmp_path_factory.mktemp("large")
    project = gen.generate(ROOT, folder / "project", 100_000, LARGE_BASE).root
    out = folder / "out"
    settings = load_settings(env={}, overrides={"out": str(out), "base_uri": LARGE_BASE})
    build(Project(project), settings, out)
    return out


def _rss_mb(pid: int) -> float:
    """Resident memory of the server's web processes, in MB: the process and its children
    but for the SPARQL workers, whose number grows with concurrent queries, within
    `query_workers`, whether their clients read or not."""
    total = 0
    for each in (pid, *_children(pid)):
        with contextlib.suppress(OSError):
            if b"publisher.store.engine.worker" in Path(f"/proc/{each}/cmdline").read_bytes():
                continue
            status = Path(f"/proc/{each}/status").read_text(encoding="ascii")
            total += next((int(line.split()[1]) for line in status.splitlines()
                           if line.startswith("VmRSS:")), 0)
    return total / 1024


@pytest.mark.parametrize("server", SERVERS)
def test_issue24_unread_answers_deny_nothing_and_are_dropped_after_send_timeout(
        server, large_build):
    """48 clients ask for the N-Triples dump and 16 for a CONSTRUCT of the whole graph (each
    megabytes) and read nothing; meanwhile queries, pages and /health answer with p99 < 1 s,
    and the web processes grow by less than 100 MB (the query workers aside). After
    `send_timeout` the server drops them: a client that then reads gets less than the whole
    answer."""
    proc, url = _serve(server, large_build, "--no-rewrite", send_timeout="5",
                       base_uri=LARGE_BASE)
    held: list[socket.socket] = []
    try:
        with httpx.Client(base_url=url, timeout=60) as client:
            dump = "/download/" + next(link for link in client.get("/download/").text.split('"')
                                       if link.endswith("-latest.nt"))
            full = len(client.get(dump).content)
            assert full > 10_000_000
            big = client.get("/sparql", params={"query": BIG_QUERY},
                             headers={"Accept": "application/n-triples"})
            assert big.status_code == 200 and len(big.content) > 1_000_000  # max_results
            # The same answers read in full first, eight at a time: what the server's memory
            # grows by then (its threads' allocator arenas, the caches) is not the slow
            # readers' doing (measured: +110 MB under waitress after 32 reads, none after).
            with ThreadPoolExecutor(8) as pool:
                list(pool.map(lambda path: client.get(path, headers={
                    "Accept": "application/n-triples"}).status_code,
                    [dump] * 32 + ["/sparql?query=" + quote(BIG_QUERY)] * 16))
        before = _rss_mb(proc.pid)
        held = [_slow_reader(url, dump) for _ in range(48)]
        held += [_slow_reader(url, "/sparql?query=" + quote(BIG_QUERY)) for _ in range(16)]
        # On purpose: slow clients are the test; let every answer start and fill what buffers
        # it can (the server tells no one when its buffers are full).
        time.sleep(1.0)
        statuses, times = _probe(url, 8)
        assert set(statuses) == {200}, statuses
        assert _p99(times) < 1.0, sorted(times)[-5:]
        grown = _rss_mb(proc.pid) - before
        assert grown < 100, f"the web processes grew by {grown:.0f} MB"
        time.sleep(5 + 3)  # on purpose: past send_timeout and the server's next check
        got = 0
        sock = held[0]
        sock.settimeout(10)
        with contextlib.suppress(OSError):
            while part := sock.recv(1 << 20):
                got += len(part)
        assert 0 < got < full, (got, full)
    finally:
        for sock in held:
            sock.close()
        _stop(proc)


def test_issue24_granians_own_431_has_no_body(build_dir):
    """More than 100 header lines are refused by granian's HTTP layer before the app: 431
    with an empty body (nothing to frame, sniff or run; SECURITY.md says why it carries no
    security headers). Fewer, larger headers (over 16 KiB) reach the app, whose own 431
    carries them."""
    proc, url = _serve("granian", build_dir, "--no-rewrite")
    try:
        for lines, size, own in ((120, 1, False), (20, 1000, True)):
            sock = _connect(url)
            extra = "".join(f"X-Filler-{i}: {'v' * size}\r\n" for i in range(lines - 1))
            sock.sendall(f"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}"
                         "Connection: close\r\n\r\n".encode())
            answer = b""
            with contextlib.suppress(OSError):
                while part := sock.recv(65536):
                    answer += part
            sock.close()
            head, _, body = answer.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 431"), head[:80]
            assert (b"x-content-type-options: nosniff" in head.lower()) is own, head
            if not own:
                assert body == b"", body[:80]
    finally:
        _stop(proc)
