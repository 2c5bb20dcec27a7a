"""Compare WSGI servers on the kiezgraph app: `python -m bench.wsgi [--duration S]`.

The same app (`publisher.web:create_app`) over a build of the bundled data, under
`kiezgraph serve` with each of its servers (granian, the default, and waitress), and under
gunicorn (gthread) and granian's own command line where installed; each serves resource
documents (rendered once, then from the render cache) and a repeated SPARQL query,
measured with wrk at 1 and 8 connections. Evidence for choosing the server; not part of the
default benchmark run.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import sys
import tempfile
from pathlib import Path

from bench.load import Request, run_wrk
from bench.procs import ProcGroup, free_port, http_get, wait_http
from bench.run import BASE, ROOT
from bench.workload import DOC_FORMATS

__all__ = ["main"]


def _servers(port: int, out: Path) -> dict[str, list[str]]:
    bin_dir = Path(sys.executable).parent
    found = {
        "granian (kiezgraph serve, the default, 16 threads)": [
            "env", "KIEZGRAPH_SERVER=granian", sys.executable, "-m", "publisher", "serve",
            "--out", str(out), "--port", str(port)],
        "waitress (kiezgraph serve, server=waitress, 16 threads)": [
            "env", "KIEZGRAPH_SERVER=waitress", sys.executable, "-m", "publisher", "serve",
            "--out", str(out), "--port", str(port)]}
    if (bin_dir / "gunicorn").exists():
        found["gunicorn gthread, 1 worker × 8 threads"] = [
            str(bin_dir / "gunicorn"), "-w", "1", "-k", "gthread", "--threads", "8",
            "-b", f"127.0.0.1:{port}", "publisher.web:create_app()"]
        found["gunicorn gthread, 2 workers × 4 threads"] = [
            str(bin_dir / "gunicorn"), "-w", "2", "-k", "gthread", "--threads", "4",
            "-b", f"127.0.0.1:{port}", "publisher.web:create_app()"]
    if (bin_dir / "granian").exists():
        found["granian wsgi, 1 worker × 8 threads"] = [
            str(bin_dir / "granian"), "--interface", "wsgi", "--factory", "--host",
            "127.0.0.1", "--port", str(port), "--workers", "1", "--blocking-threads", "8",
            "publisher.web:create_app"]
        found["granian wsgi, 2 workers × 4 threads"] = [
            str(bin_dir / "granian"), "--interface", "wsgi", "--factory", "--host",
            "127.0.0.1", "--port", str(port), "--workers", "2", "--blocking-threads", "4",
            "publisher.web:create_app"]
    return found


def main(argv: list[str] | None = None) -> int:
    """Build the bundled data once, then run each server in turn; print a Markdown table."""
    parser = argparse.ArgumentParser(prog="python -m bench.wsgi")
    parser.add_argument("--duration", type=float, default=3.0)
    parser.add_argument("--repeat", type=int, default=1,
                        help="runs per measurement; the table shows the median")
    parser.add_argument("--connections", default="1,8", help="comma-separated")
    parser.add_argument("--documents-only", action="store_true",
                        help="leave out the repeated SPARQL query")
    parser.add_argument("--only", default=None,
                        help="run only the servers whose name contains this text")
    args = parser.parse_args(argv)
    connections = [int(c) for c in args.connections.split(",")]
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    from publisher.build import build
    from publisher.config import load_settings
    from publisher.project import Project

    work = Path(tempfile.mkdtemp(prefix="kiezgraph-wsgi-"))
    rows = ["| server | workload | connections | requests/s (median; each run) | p50 ms "
            "| p99 ms | errors |",
            "|---|---|---|---|---|---|---|"]
    try:
        out = work / "out"
        build(Project(ROOT), load_settings(env={}, overrides={"out": str(out)}), out)
        things = sorted({line.split()[0][1:-1] for line in
                         (out / "current" / "graph.nq").read_text().splitlines()
                         if line.startswith(f"<{BASE}id/")})
        docs = [Request(f"/doc/{t[len(BASE) + 3:]}.{s}", a) for t in things[:40]
                for s, a in DOC_FORMATS]
        query = "/sparql?query=SELECT%20%3Fs%20WHERE%20%7B%20%3Fs%20a%20%3Ft%20%7D%20LIMIT%2010"
        workloads = {"documents": docs,
                     "SPARQL repeated": [Request(query, "application/sparql-results+json")]}
        if args.documents_only:
            del workloads["SPARQL repeated"]
        env = {"KIEZGRAPH_OUT": str(out), "KIEZGRAPH_LOG_LEVEL": "WARNING"}
        with ProcGroup() as group:
            for name in _servers(0, out):
                if args.only and args.only not in name:
                    continue
                port = free_port()
                argv_ = _servers(port, out)[name]
                proc = group.start(name, argv_, work / "server.log", env=env, cwd=ROOT)
                base = f"http://127.0.0.1:{port}"
                try:
                    wait_http(base + "/health", proc, 60)
                except Exception as exc:  # a server that does not come up is reported
                    rows.append(f"| {name} | – | – | failed: {str(exc)[:80]} | | | |")
                    group.stop(proc)
                    continue
                for request in docs:  # render once, as the documents are for nginx
                    http_get(base + request.path, {"Accept": request.accept})
                for workload, requests in workloads.items():
                    for conc in connections:
                        runs = [run_wrk(base, requests, conc, args.duration)
                                for _ in range(args.repeat)]
                        r = sorted(runs, key=lambda x: x.rps)[len(runs) // 2]
                        each = " / ".join(f"{x.rps:,.0f}" for x in runs)
                        rows.append(f"| {name} | {workload} | {conc} | {r.rps:,.0f} "
                                    f"({each}) | {r.p50_ms:.1f} | {r.p99_ms:.1f} | "
                                    f"{sum(x.errors for x in runs) or r.failed or 0} |")
                group.stop(proc)
    except KeyboardInterrupt:
        return 130
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
