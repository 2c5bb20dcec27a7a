"""The servers under test, each started on a free loopback port over the same build."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

from bench.procs import Proc, ProcGroup, free_port, wait_http

__all__ = [
    "Server",
    "start_kiezgraph",
    "start_nginx",
    "start_rdflib_endpoint",
    "start_virtuoso",
]

SPARQL_JSON = "application/sparql-results+json"


@dataclass
class Server:
    """A running server: where it listens, how long it took to answer, its process."""

    name: str
    base: str
    proc: Proc
    startup_s: float
    sparql_path: str = "/sparql"
    sparql_params: dict[str, str] = field(default_factory=dict)

    def sparql_target(self, query: str) -> str:
        """The path (with the query URL-encoded) of a SPARQL GET request."""
        params = {"query": query, **self.sparql_params}
        return f"{self.sparql_path}?{urllib.parse.urlencode(params)}"

    def peak_rss_mb(self) -> float:
        """Peak resident memory of the server's processes so far, in MB."""
        return self.proc.peak_rss_mb()


def start_kiezgraph(group: ProcGroup, out: Path, logs: Path, timeout: float = 120.0,
                    env: dict[str, str] | None = None) -> Server:
    """`kiezgraph serve` over an existing build folder; ready when /health answers 200."""
    port = free_port()
    argv = [sys.executable, "-m", "publisher", "serve", "--out", str(out),
            "--host", "127.0.0.1", "--port", str(port)]
    proc = group.start("kiezgraph", argv, logs / "kiezgraph.log",
                       env={"KIEZGRAPH_LOG_LEVEL": "WARNING", **(env or {})})
    base = f"http://127.0.0.1:{port}"
    try:
        seconds = wait_http(base + "/health", proc, timeout)
    except BaseException:
        group.stop(proc)
        raise
    return Server("kiezgraph", base, proc, seconds)


def start_rdflib_endpoint(group: ProcGroup, graph_file: Path, logs: Path, store: str,
                          timeout: float = 600.0) -> Server:
    """rdflib-endpoint (FastAPI + uvicorn) over the build's N-Quads, with the given store."""
    exe = Path(sys.executable).with_name("rdflib-endpoint")
    if not exe.exists():
        raise RuntimeError("rdflib-endpoint is not installed (pip install -e '.[bench]')")
    port = free_port()
    name = "rdflib-endpoint" + ("" if store == "default" else f" ({store})")
    proc = group.start(name, [str(exe), "serve", "--host", "127.0.0.1", "--port", str(port),
                              "--store", store, str(graph_file)],
                       logs / f"rdflib-endpoint-{store.lower()}.log")
    base = f"http://127.0.0.1:{port}"
    # The command line mounts the endpoint at the root path.
    probe = "/?" + urllib.parse.urlencode({"query": "ASK { ?s ?p ?o }"})
    try:
        seconds = wait_http(base + probe, proc, timeout, {"Accept": SPARQL_JSON})
    except BaseException:
        group.stop(proc)
        raise
    return Server(name, base, proc, seconds, sparql_path="/")


_VIRTUOSO_INI = """\
[Database]
DatabaseFile = {db}/virtuoso.db
ErrorLogFile = {db}/virtuoso.log
LockFile = {db}/virtuoso.lck
TransactionFile = {db}/virtuoso.trx
xa_persistent_file = {db}/virtuoso.pxa
ErrorLogLevel = 7
FileExtend = 200
MaxCheckpointRemap = 2000
Striping = 0
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {db}/virtuoso-temp.db
TransactionFile = {db}/virtuoso-temp.trx
MaxCheckpointRemap = 2000
Striping = 0

[Parameters]
ServerPort = 127.0.0.1:{sql_port}
LiteMode = 0
DisableUnixSocket = 1
MaxClientConnections = 16
CheckpointInterval = 0
O_DIRECT = 0
CaseMode = 2
DirsAllowed = ., {db}, {data}
ThreadCleanupInterval = 0
ThreadThreshold = 10
ResourcesCleanupInterval = 0
MaxQueryMem = 1G
ThreadsPerQuery = 2
AsyncQueueMaxThreads = 10
NumberOfBuffers = {buffers}
MaxDirtyBuffers = {dirty}

[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = /var/lib/virtuoso-opensource-7/vsp
MaxClientConnections = 16
ServerThreads = 16
MaxKeepAlives = 16
KeepAliveTimeout = 10
EnabledDavVSP = 0
HTTPProxyEnabled = 0
EnabledGzipContent = 0

[SPARQL]
ResultSetMaxRows = 100000
MaxQueryExecutionTime = 60
MaxQueryCostEstimationTime = 0
DefaultQuery = select distinct ?Concept where {{[] a ?Concept}} LIMIT 100
"""


VIRTUOSO_GRAPH = "urn:kiezgraph:bench"


def _write_triples(nquads: Path, target: Path) -> None:
    """The distinct triples of an N-Quads file as N-Triples (graph names dropped)."""
    import pyoxigraph as ox

    triples = {q.triple for q in ox.parse(path=str(nquads), format=ox.RdfFormat.N_QUADS)}
    ox.serialize(triples, str(target), format=ox.RdfFormat.N_TRIPLES)


def _isql(isql: str, sql_port: int, statements: str, timeout: float) -> str:
    """Run SQL statements through isql-vt as dba; raise with its output when it fails."""
    result = subprocess.run(
        [isql, f"127.0.0.1:{sql_port}", "dba", "dba", "VERBOSE=OFF", "BANNER=OFF",
         "PROMPT=OFF", "ECHO=OFF", "ERRORS=STDOUT"],
        input=statements, capture_output=True, text=True, timeout=timeout, check=False)
    output = result.stdout + result.stderr
    if result.returncode != 0 or "*** Error" in output:
        raise RuntimeError(f"isql failed: {output.strip()[-400:]}")
    return output


def start_virtuoso(group: ProcGroup, graph_file: Path, workdir: Path, logs: Path,
                   timeout: float = 600.0) -> Server:
    """Virtuoso in a throwaway database, bulk-loaded from the build's N-Quads.

    Start-up counts from launch until the SPARQL endpoint answers over the loaded data
    (launch, ld_dir + rdf_loader_run, checkpoint).
    """
    exe, isql = shutil.which("virtuoso-t"), shutil.which("isql-vt") or shutil.which("isql")
    if not exe or not isql:
        raise RuntimeError("virtuoso-opensource is not installed (virtuoso-t, isql-vt)")
    db = workdir / "virtuoso"
    data = workdir / "virtuoso-data"
    db.mkdir(parents=True, exist_ok=True)
    data.mkdir(parents=True, exist_ok=True)
    # One graph, named by us and given as default-graph-uri with every query: without it
    # Virtuoso's default graph also holds its own system graphs.
    _write_triples(graph_file, data / "graph.nt")
    sql_port, http_port = free_port(), free_port()
    size_mb = graph_file.stat().st_size / 1e6
    buffers = int(min(170000, max(20000, size_mb * 2000)))
    (db / "virtuoso.ini").write_text(_VIRTUOSO_INI.format(
        db=db, data=data, sql_port=sql_port, http_port=http_port, buffers=buffers,
        dirty=buffers * 3 // 4), encoding="utf-8")
    started = time.monotonic()
    proc = group.start("virtuoso", [exe, "+foreground", "+configfile", str(db / "virtuoso.ini")],
                       logs / "virtuoso.log", cwd=db)
    try:
        while True:
            if proc.popen.poll() is not None:
                raise RuntimeError(f"virtuoso exited: {proc.tail()}")
            try:
                _isql(isql, sql_port, "select 1;\n", 10)
                break
            except (RuntimeError, subprocess.TimeoutExpired):
                if time.monotonic() - started > timeout:
                    raise TimeoutError("virtuoso did not accept SQL connections") from None
                time.sleep(0.2)
        _isql(isql, sql_port, textwrap.dedent(f"""\
            ld_dir('{data}', 'graph.nt', '{VIRTUOSO_GRAPH}');
            rdf_loader_run();
            checkpoint;
            """), timeout)
        base = f"http://127.0.0.1:{http_port}"
        params = {"default-graph-uri": VIRTUOSO_GRAPH}
        probe = "/sparql?" + urllib.parse.urlencode({"query": "ASK { ?s ?p ?o }", **params})
        wait_http(base + probe, proc, timeout, {"Accept": SPARQL_JSON})
    except BaseException:
        group.stop(proc)
        raise
    return Server("virtuoso", base, proc, time.monotonic() - started, sparql_params=params)


_NGINX_CONF = """\
worker_processes {workers};
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
daemon off;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    client_body_temp_path {dir}/tmp;
    proxy_temp_path {dir}/tmp;
    fastcgi_temp_path {dir}/tmp;
    uwsgi_temp_path {dir}/tmp;
    scgi_temp_path {dir}/tmp;
    types {{
        text/turtle ttl;
        application/ld+json jsonld;
        application/rdf+xml rdf;
        application/n-triples nt;
        text/html html;
    }}
    default_type application/octet-stream;
    server {{
        listen 127.0.0.1:{port};
        root {root};
    }}
}}
"""


def start_nginx(group: ProcGroup, root: Path, workdir: Path, logs: Path,
                workers: int = 2, timeout: float = 30.0) -> Server:
    """nginx serving a folder of pre-rendered documents: the floor for dereferencing."""
    exe = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists()
                                    else None)
    if not exe:
        raise RuntimeError("nginx is not installed")
    folder = workdir / "nginx"
    (folder / "tmp").mkdir(parents=True, exist_ok=True)
    port = free_port()
    conf = folder / "nginx.conf"
    conf.write_text(_NGINX_CONF.format(workers=workers, dir=folder, port=port, root=root),
                    encoding="utf-8")
    proc = group.start("nginx", [exe, "-p", str(folder), "-c", str(conf)], logs / "nginx.log")
    base = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    try:
        while True:
            if proc.popen.poll() is not None:
                raise RuntimeError(f"nginx exited: {proc.tail()}")
            try:
                import socket

                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() - started > timeout:
                    raise TimeoutError("nginx did not listen") from None
                time.sleep(0.05)
    except BaseException:
        group.stop(proc)
        raise
    return Server("nginx", base, proc, time.monotonic() - started, sparql_path="")
