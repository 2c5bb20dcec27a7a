"""Load test: the realistic mix against `kiezgraph serve`, with runaway queries injected.

    python -m bench.loadtest [--quick] [--duration 60] [--concurrency 32] [--report FILE]

Builds the bundled data into a temporary folder, starts `kiezgraph serve` on a free port as
a subprocess, and runs `concurrency` client threads for `duration` seconds: 70 % dereferencing
(every document format, by suffix and by Accept, and the 303 from a thing's IRI), 20 % the
SPARQL example queries, 10 % search and metadata (catalogue, VoID, downloads, /health,
/openapi.json). Every few seconds one runaway query is sent; it must end as a 503.

It reports errors other than the intended 503s and the latency (p50, p99) of the non-SPARQL
requests, and writes a Markdown report (bench/LOADTEST.md by default in full mode; --quick
runs ~10 s and writes only where --report says). Standalone on purpose: it needs no other
bench module.
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import platform
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import astuple, dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import httpx

__all__ = ["Result", "main", "run"]

ROOT = Path(__file__).resolve().parent.parent
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
FORMATS = (("ttl", "text/turtle"), ("jsonld", "application/ld+json"),
           ("rdf", "application/rdf+xml"), ("nt", "application/n-triples"),
           ("html", "text/html"))
METADATA = ("/catalog", "/catalog.ttl", "/.well-known/void", "/download/", "/health",
            "/openapi.json", "/sitemap.xml")
SEARCH_WORDS = ("pankow", "weissensee", "stadtteilzentrum", "kooperation", "freiwillig",
                "paritätische", "senat", "nachbarschaft")


@dataclass
class Sample:
    """One answered (or failed) request."""

    kind: str  # deref, sparql, search, metadata, runaway
    status: int  # 0: no answer (connection error, client timeout)
    seconds: float
    what: str
    detail: str = ""  # the start of an unexpected answer's body


@dataclass
class Result:
    """Everything one run measured."""

    duration: float
    concurrency: int
    samples: list[Sample] = field(default_factory=list)

    def of(self, *kinds: str) -> list[Sample]:
        """The samples of some kinds."""
        return [s for s in self.samples if s.kind in kinds]

    def errors(self) -> list[Sample]:
        """Every answer that is not what the mix expects: only runaways and SPARQL may 503."""
        bad = []
        for sample in self.samples:
            if sample.kind == "runaway":
                ok = sample.status == 503
            elif sample.kind == "sparql":
                ok = sample.status == 200 or sample.status == 503
            else:
                ok = sample.status in (200, 303)
            if not ok:
                bad.append(sample)
        return bad


def percentile(values: list[float], share: float) -> float:
    """The share-quantile (0..1) by nearest rank; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _doc_paths(client: httpx.Client) -> list[str]:
    """Every document in the sitemap, as a path without suffix (doc/<kind>/<slug>)."""
    text = client.get("/sitemap.xml").text
    paths = {re.sub(r"^https?://[^/]+", "", loc).removesuffix(".html")
             for loc in re.findall(r"<loc>([^<]+)</loc>", text)}
    return sorted(p for p in paths if p.startswith("/doc/"))


def _examples() -> list[str]:
    sys.path.insert(0, str(ROOT))
    from publisher.sparql.examples import load_examples

    return [e.text for e in load_examples()] or ["SELECT * WHERE { ?s ?p ?o } LIMIT 10"]


class _Client:
    """One keep-alive HTTP/1.1 connection, opened again if the server closed it.

    The stdlib's http.client rather than httpx here: on two cores shared with the server,
    httpx's own CPU time per request (several times http.client's) became most of the
    latency the run measured, while the server's /metrics showed ~1 ms. The probe and the
    runaway injector still use httpx."""

    def __init__(self, base_url: str, timeout: float) -> None:
        parts = urlsplit(base_url)
        self.host, self.port, self.timeout = parts.hostname, parts.port or 80, timeout
        self.conn: http.client.HTTPConnection | None = None

    def get(self, url: str, params: dict[str, str] | None,
            headers: dict[str, str]) -> tuple[int, bytes]:
        """Send one GET; the status and body (one retry on a fresh connection)."""
        target = url + ("?" + urlencode(params) if params else "")
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port,
                                                       timeout=self.timeout)
            try:
                self.conn.request("GET", target, headers=headers)
                response = self.conn.getresponse()
                body = response.read()
                if response.will_close:
                    self.close()
                return response.status, body
            except (OSError, http.client.HTTPException):
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        """Drop the connection."""
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def _one(client: _Client, rng: random.Random, docs: list[str], queries: list[str]) -> Sample:
    """Pick one request from the mix, send it, and time it."""
    roll = rng.random()
    headers: dict[str, str] = {}
    params: dict[str, str] | None = None
    if roll < 0.70:
        kind = "deref"
        doc = rng.choice(docs)
        suffix, media_type = rng.choice(FORMATS)
        style = rng.random()
        if style < 0.4:
            url = f"{doc}.{suffix}"
        elif style < 0.8:
            url, headers = doc, {"Accept": media_type}
        else:
            thing = doc[len("/doc/"):]  # doc/ontology/T documents ontology/T, else id/…
            url = "/" + thing if thing.startswith("ontology/") else "/id/" + thing
            headers = {"Accept": media_type}
    elif roll < 0.90:
        kind, url = "sparql", "/sparql"
        params = {"query": rng.choice(queries)}
        headers = {"Accept": "application/sparql-results+json, text/turtle;q=0.9"}
    elif roll < 0.95:
        kind, url = "search", "/search"
        params = {"q": rng.choice(SEARCH_WORDS), "format": "json"}
    else:
        kind, url = "metadata", rng.choice(METADATA)
    return _send(client, kind, url, params, headers)


def _send(client: _Client, kind: str, url: str, params, headers) -> Sample:
    started = time.perf_counter()
    try:
        status, body = client.get(url, params, headers)
        detail = body[:160].decode("utf-8", "replace") if status >= 400 and status != 503 \
            else ""
    except (OSError, http.client.HTTPException) as exc:
        status, detail = 0, type(exc).__name__
    return Sample(kind, status, time.perf_counter() - started, url, detail.replace("\n", " "))


def _clients(base_url: str, threads: int, seed: int, docs: list[str], queries: list[str],
             deadline_in: float, out) -> None:
    """One client process: `threads` clients until the deadline; their samples go to `out`."""
    deadline = time.monotonic() + deadline_in
    samples: list[Sample] = []
    lock = threading.Lock()

    def worker(index: int) -> None:
        rng = random.Random(seed + index)
        client = _Client(base_url, timeout=30)
        mine = []
        while time.monotonic() < deadline:
            mine.append(_one(client, rng, docs, queries))
        client.close()
        with lock:
            samples.extend(mine)

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    out.send([astuple(s) for s in samples])
    out.close()


def run(base_url: str, duration: float, concurrency: int, runaway_every: float,
        seed: int = 7) -> Result:
    """Run the mix against a server that is already up.

    The clients are spread over a few processes (at most 8 threads each) so that they do
    not queue for one interpreter's lock: that wait would be counted as the server's."""
    with httpx.Client(base_url=base_url, timeout=30) as probe:
        docs = _doc_paths(probe)
    if not docs:
        raise SystemExit("the server's sitemap lists no documents")
    queries = _examples()
    result = Result(duration=duration, concurrency=concurrency)
    lock = threading.Lock()
    deadline = time.monotonic() + duration

    context = multiprocessing.get_context("spawn")
    processes, pipes = [], []
    shares = [concurrency // -(-concurrency // 8)] * -(-concurrency // 8)
    for extra in range(concurrency - sum(shares)):
        shares[extra] += 1
    for number, threads in enumerate(shares):
        receive, send = context.Pipe(duplex=False)
        process = context.Process(target=_clients, args=(
            base_url, threads, seed + 1000 * number, docs, queries, duration, send),
            daemon=True)
        process.start()
        send.close()
        processes.append(process)
        pipes.append(receive)

    injected: list[threading.Thread] = []

    def runaways() -> None:
        with httpx.Client(base_url=base_url, timeout=60) as client:
            while time.monotonic() + runaway_every < deadline:
                time.sleep(runaway_every)
                thread = threading.Thread(target=_runaway, args=(client,), daemon=True)
                thread.start()
                injected.append(thread)
            for thread in injected:  # each ends within the server's query_timeout
                thread.join(timeout=90)

    def _runaway(client: httpx.Client) -> None:
        started = time.perf_counter()
        try:
            response = client.get("/sparql", params={"query": RUNAWAY},
                                  headers={"Accept": "application/sparql-results+json"})
            status, detail = response.status_code, ""
        except httpx.HTTPError as exc:
            status, detail = 0, type(exc).__name__
        with lock:
            result.samples.append(Sample("runaway", status, time.perf_counter() - started,
                                         "/sparql", detail))

    injector = threading.Thread(target=runaways)
    injector.start()
    for receive, process in zip(pipes, processes, strict=True):
        try:
            rows = receive.recv()
        except EOFError:
            raise SystemExit("a load client process died") from None
        result.samples.extend(Sample(*row) for row in rows)
        process.join(timeout=60)
    injector.join()
    return result


def _start_server(out: Path, port: int) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIEZGRAPH_")}
    env["KIEZGRAPH_LOG_LEVEL"] = "WARNING"  # the access log would cost the server time
    subprocess.run([sys.executable, "-m", "publisher", "build", "--out", str(out)], cwd=ROOT,
                   env=env, check=True, capture_output=True)
    # The log goes to a file: an unread pipe fills up and then blocks the server mid-run.
    log = (out.parent / "serve.log").open("wb")
    server = subprocess.Popen([sys.executable, "-m", "publisher", "serve", "--out", str(out),
                               "--port", str(port)], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("kiezgraph serve exited: " + (out.parent / "serve.log").read_text())
        try:
            if httpx.get(f"http://127.0.0.1:{port}/ready", timeout=2).status_code == 200:
                # Start the SPARQL workers before the clock runs.
                httpx.get(f"http://127.0.0.1:{port}/sparql", params={"query": "ASK {}"},
                          headers={"Accept": "application/sparql-results+json"}, timeout=60)
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    server.terminate()
    raise SystemExit("kiezgraph serve did not become ready within 60 s")


def report(result: Result, quick: bool) -> str:
    """The run as Markdown."""
    plain = [s.seconds * 1000 for s in result.of("deref", "search", "metadata")
             if s.status in (200, 303)]
    sparql = [s for s in result.of("sparql")]
    sparql_ok = [s.seconds * 1000 for s in sparql if s.status == 200]
    runaways = result.of("runaway")
    errors = result.errors()
    p99 = percentile(plain, 0.99)
    lines = [
        "# Load test" + (" (quick)" if quick else ""),
        "",
        f"`python -m bench.loadtest{' --quick' if quick else ''} --duration "
        f"{result.duration:g} --concurrency {result.concurrency}` on {platform.node() or 'host'}"
        f" ({os.cpu_count()} CPUs, Python {platform.python_version()}); client and server "
        "share the machine.",
        "",
        "| measure | value |",
        "|---|---|",
        f"| requests | {len(result.samples)} ({len(result.samples) / result.duration:.0f}/s) |",
        f"| dereferencing / search+metadata / SPARQL / runaway | "
        f"{len(result.of('deref'))} / {len(result.of('search', 'metadata'))} / "
        f"{len(sparql)} / {len(runaways)} |",
        f"| errors (not the intended 503s) | {len(errors)} |",
        f"| non-SPARQL latency p50 | {percentile(plain, 0.5):.1f} ms |",
        f"| non-SPARQL latency p90 | {percentile(plain, 0.9):.1f} ms |",
        f"| non-SPARQL latency p99 | {p99:.1f} ms |",
        f"| non-SPARQL latency max | {max(plain, default=0):.1f} ms |",
        f"| SPARQL answered 200 / 503 | {len(sparql_ok)} / "
        f"{sum(s.status == 503 for s in sparql)} |",
        f"| SPARQL latency p50 / p99 (200s) | {percentile(sparql_ok, 0.5):.1f} / "
        f"{percentile(sparql_ok, 0.99):.1f} ms |",
        f"| runaway queries ended as 503 | {sum(s.status == 503 for s in runaways)} of "
        f"{len(runaways)} |",
        f"| p99 target (< 100 ms, non-SPARQL) | {'met' if p99 < 100 else 'not met'} |",
        "",
    ]
    if errors:
        lines += ["Errors (first 10):", ""]
        lines += [f"- {s.kind} {s.what} → {s.status or 'no answer'} {s.detail}"
                  for s in errors[:10]]
        lines.append("")
    if plain:
        lines.append(f"Mean non-SPARQL latency {statistics.fmean(plain):.1f} ms.")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Parse the flags, run the load test, print and write the report."""
    parser = argparse.ArgumentParser(prog="python -m bench.loadtest", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="~10 s at concurrency 8 (CI)")
    parser.add_argument("--duration", type=float, default=None, help="seconds (default 60)")
    parser.add_argument("--concurrency", type=int, default=None, help="clients (default 32)")
    parser.add_argument("--runaway-every", type=float, default=None,
                        help="seconds between runaway queries (default 5; quick 3)")
    parser.add_argument("--report", type=Path, default=None,
                        help="Markdown file to write (full mode default: bench/LOADTEST.md)")
    parser.add_argument("--url", default=None,
                        help="test a server already running here instead of starting one")
    args = parser.parse_args(argv)
    duration = args.duration or (10.0 if args.quick else 60.0)
    concurrency = args.concurrency or (8 if args.quick else 32)
    every = args.runaway_every or (3.0 if args.quick else 5.0)
    target = args.report or (None if args.quick else ROOT / "bench" / "LOADTEST.md")

    server = None
    with tempfile.TemporaryDirectory(prefix="kiezgraph-loadtest-") as tmp:
        if args.url:
            url = args.url.rstrip("/")
        else:
            port = _free_port()
            server = _start_server(Path(tmp) / "out", port)
            url = f"http://127.0.0.1:{port}"
        try:
            result = run(url, duration, concurrency, every)
        finally:
            if server is not None:
                server.terminate()
                server.wait(timeout=20)
    text = report(result, args.quick)
    print(text, end="")
    if target is not None:
        target.write_text(text, encoding="utf-8")
        print(f"wrote {target}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
