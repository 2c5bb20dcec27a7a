"""One benchmark run: build each scale, start each server, drive the workload, collect numbers."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench import generate as gen
from bench.load import Request, Result, run_sequential, run_wrk
from bench.procs import ProcGroup, http_get, peak_rss_by_process
from bench.servers import (
    Server,
    start_kiezgraph,
    start_nginx,
    start_rdflib_endpoint,
    start_virtuoso,
)
from bench.workload import DOC_FORMATS, Query, doc_paths, queries

__all__ = ["Options", "run"]

ROOT = Path(__file__).resolve().parent.parent
BASE = "https://w3id.org/kiezgraph/pankow/"
SLOW_S = 1.0  # a probe slower than this is measured with sequential requests, not wrk


@dataclass
class Options:
    """What to run: scales, servers, how long each measurement lasts, where files go."""

    scales: list[int]
    quick: bool = False
    duration: float = 1.0
    out: Path = ROOT / "bench" / "out"
    budget: float = 840.0
    concurrency: tuple[int, ...] = (1, 8)
    peers: tuple[str, ...] = ("nginx", "virtuoso", "rdflib-oxigraph", "rdflib-default")
    rdflib_max_triples: int = 200_000
    reuse_builds: bool = True
    sparql: bool = True  # False: dereferencing only (--deref-only)


@dataclass
class Run:
    """Everything measured so far; what the report is written from."""

    options: Options
    started: float = field(default_factory=time.monotonic)
    machine: dict = field(default_factory=dict)
    bundled: dict = field(default_factory=dict)
    scales: dict = field(default_factory=dict)
    rows: list = field(default_factory=list)
    log: list = field(default_factory=list)

    def left(self) -> float:
        """Seconds left of the run's time budget."""
        return self.options.budget - (time.monotonic() - self.started)

    def say(self, text: str) -> None:
        """Progress on stderr, kept for the report's log."""
        stamp = f"[{time.monotonic() - self.started:6.1f}s] {text}"
        self.log.append(stamp)
        print(stamp, file=sys.stderr, flush=True)

    def as_dict(self) -> dict:
        """Plain values for results.json."""
        return {"machine": self.machine, "bundled": self.bundled,
                "scales": {str(k): v for k, v in self.scales.items()},
                "rows": self.rows, "options": {
                    "scales": self.options.scales, "quick": self.options.quick,
                    "duration": self.options.duration,
                    "concurrency": list(self.options.concurrency),
                    "peers": list(self.options.peers)},
                "seconds": round(time.monotonic() - self.started, 1)}


def _version(argv: list[str]) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
        text = (out.stdout + out.stderr).strip().splitlines()
        return text[0] if text else "?"
    except (OSError, subprocess.TimeoutExpired):
        return "not installed"


def _machine() -> dict:
    """Date, cores, architecture, CPU and the versions of everything measured."""
    import pyoxigraph
    import rdflib

    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem = next((int(line.split()[1]) // 1024 for line in
                Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal")), 0)
    try:
        from importlib.metadata import version
        endpoint = version("rdflib-endpoint")
    except Exception:  # not installed: the peer is reported as failed
        endpoint = "not installed"
    return {
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "nproc": os.cpu_count(), "arch": platform.machine(), "cpu": cpu, "memory_mb": mem,
        "loadavg_start": os.getloadavg()[0], "python": platform.python_version(),
        "pyoxigraph": pyoxigraph.__version__, "rdflib": rdflib.__version__,
        "rdflib-endpoint": endpoint,
        "virtuoso": _version(["virtuoso-t", "-?"]).replace("Virtuoso Open Source Edition ", ""),
        "nginx": _version([shutil.which("nginx") or "/usr/sbin/nginx", "-v"]),
        "wrk": _version(["wrk", "--version"]).split(" [")[0],
    }


def _timed(argv: list[str], timeout: float) -> tuple[float, int]:
    started = time.monotonic()
    proc = subprocess.run(argv, capture_output=True, timeout=timeout, check=False)
    return time.monotonic() - started, proc.returncode


def _cache_key(scale: int) -> str:
    """Changes whenever the sources, the generator or the publisher's code change."""
    digest = hashlib.sha256(f"{scale}".encode())
    files = [Path(__file__).with_name("generate.py"), Path(__file__).with_name("phases.py")]
    for part in ("ontology", "data", "shapes", "publisher"):
        files += sorted((ROOT / part).rglob("*.ttl")) + sorted((ROOT / part).rglob("*.py"))
    for path in files:
        digest.update(path.as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _build_scale(run: Run, scale: int, work: Path) -> dict:
    """Generate the project of one scale and build it, timing each phase (or reuse a build)."""
    key = _cache_key(scale)
    folder = (run.options.out / "cache" / f"{scale}-{key}") if run.options.reuse_builds \
        else work / f"scale-{scale}"
    info_file = folder / "phases.json"
    if run.options.reuse_builds and info_file.is_file():
        info = json.loads(info_file.read_text(encoding="utf-8"))
        info["cached"] = True
        run.say(f"{scale}: reusing the build measured at {info.get('measured_at')}")
        return {**info, "project": str(folder / "project"), "build": str(folder / "build")}
    if run.options.reuse_builds and (run.options.out / "cache").is_dir():
        for old in (run.options.out / "cache").glob(f"{scale}-*"):
            shutil.rmtree(old, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    generated = gen.generate(ROOT, folder / "project", scale, BASE)
    info = {"generate_s": time.monotonic() - started, "triples": generated.triples,
            "copies": generated.copies, "cached": False,
            "measured_at": dt.datetime.now().astimezone().isoformat(timespec="seconds")}
    run.say(f"{scale}: generated {generated.triples} triples in {info['generate_s']:.1f} s; "
            "building")
    phases = folder / "phases.tmp.json"
    env = dict(os.environ)
    if scale >= 10_000_000:  # the opt-in scale may not take the machine (--with-10m)
        env.setdefault("BENCH_BUILD_MEMORY_MB", "20480")
    proc = subprocess.run(
        [sys.executable, "-m", "bench.phases", str(folder / "project"), str(folder / "build"),
         str(phases)], capture_output=True, text=True, cwd=ROOT, check=False,
        timeout=max(60.0, run.left()), env=env)
    if phases.is_file():
        measured = json.loads(phases.read_text(encoding="utf-8"))
        if measured.get("failed") or measured.get("exit_code"):
            # how large, how long and how far, before it stopped
            run.scales[scale].update({**info, **measured})
            why = measured.get("failed") or (proc.stderr or proc.stdout).strip()[-300:]
            raise RuntimeError(f"build stopped after {measured['build_s']:.0f} s at "
                               f"{measured['build_peak_rss_mb']:.0f} MB: {why}")
    if proc.returncode != 0 or not phases.is_file():
        raise RuntimeError(f"build failed: {(proc.stderr or proc.stdout).strip()[-300:]}")
    info.update(json.loads(phases.read_text(encoding="utf-8")))
    phases.unlink()
    run.say(f"{scale}: built in {info['build_s']:.1f} s (validation {info['validate_s']:.1f} s)")
    info_file.write_text(json.dumps(info, indent=1), encoding="utf-8")
    return {**info, "project": str(folder / "project"), "build": str(folder / "build")}


def _count_rows(body: bytes, accept: str) -> int | None:
    """Rows of a SPARQL JSON answer, or triples of a Turtle one."""
    try:
        if "json" in accept:
            return len(json.loads(body)["results"]["bindings"])
        from rdflib import Graph

        return len(Graph().parse(data=body, format="turtle"))
    except Exception:  # an answer we cannot read is reported without a count
        return None


def _measure(run: Run, server: Server, requests: list[Request], accept: str,
             nonce: bool, concurrency: int) -> tuple[Result, float, int | None]:
    """Probe once (uncached), then load: wrk when the probe was quick, sequential otherwise."""
    probe_path = requests[0].path.replace("NONCEXYZ", f"probe{time.monotonic_ns()}")
    for _attempt in range(20):
        started = time.monotonic()
        try:
            status, _h, body = http_get(server.base + probe_path, {"Accept": accept},
                                        timeout=60)
        except OSError as exc:
            return Result(failed=f"probe: {exc}"), 0.0, None
        probe_s = time.monotonic() - started
        if status != 503:
            break
        # Queries of the previous measurement may still be running: let them drain.
        time.sleep(0.5)
    if status != 200:
        text = body[:160].decode("utf-8", "replace").replace("\n", " ")
        return Result(failed=f"HTTP {status}: {text}"), probe_s, None
    rows = _count_rows(body, accept)
    if run.left() < run.options.duration + 5:
        return Result(failed="skipped: time budget used up"), probe_s, rows
    if probe_s > SLOW_S:
        if concurrency > 1:
            return Result(failed=f"skipped: {probe_s:.1f} s per request"), probe_s, rows
        return (run_sequential(server.base, requests, run.options.duration,
                               max_requests=max(1, int(run.options.duration * 3 / probe_s)),
                               nonce=nonce), probe_s, rows)
    result = run_wrk(server.base, requests, concurrency, run.options.duration, nonce=nonce)
    if result.requests == 0 and concurrency == 1:
        # No answer within the measurement (slower than the probe): time one by one.
        result = run_sequential(server.base, requests, run.options.duration, max_requests=3,
                                nonce=nonce)
    return result, probe_s, rows


def _sparql(run: Run, scale: int, server: Server, workload: list[Query],
            modes: tuple[str, ...], concurrencies: tuple[int, ...]) -> None:
    for query in workload:
        for mode in modes:
            text = query.with_nonce() if mode == "unique" else query.text
            requests = [Request(server.sparql_target(text), query.accept)]
            for concurrency in concurrencies:
                result, probe_s, rows = _measure(run, server, requests, query.accept,
                                                 mode == "unique", concurrency)
                run.rows.append({"scale": scale, "section": "sparql", "workload": query.name,
                                 "kind": query.kind, "server": server.name, "mode": mode,
                                 "concurrency": concurrency, "probe_s": probe_s,
                                 "answer_rows": rows, **result.as_dict()})
                if result.failed and not result.failed.startswith("skipped"):
                    run.say(f"{scale} {server.name} {query.name} {mode}: {result.failed}")
                    break


BURST = 24  # distinct queries sent at once
BURST_ROUNDS = 5


def _burst(run: Run, scale: int, server: Server, workload: list[Query]) -> None:
    """Bursts: BURST distinct queries (the workload's, each made unique) at once, each on a
    connection of its own, BURST_ROUNDS times: how many were refused, and how long a
    round took to be answered in full."""
    from concurrent.futures import ThreadPoolExecutor

    def ask(query: Query) -> int:
        try:
            status, _h, _body = http_get(server.base + server.sparql_target(query.with_nonce()),
                                         {"Accept": query.accept}, 60)
        except OSError:
            return 0
        return status

    chosen = [workload[i % len(workload)] for i in range(BURST)]
    statuses: list[int] = []
    rounds: list[float] = []
    with ThreadPoolExecutor(BURST) as pool:
        for _ in range(BURST_ROUNDS):
            started = time.monotonic()
            statuses += list(pool.map(ask, chosen))
            rounds.append(time.monotonic() - started)
    run.scales[scale]["servers"].setdefault(server.name, {})["burst"] = {
        "size": BURST, "rounds": BURST_ROUNDS, "answered": statuses.count(200),
        "refused_503": statuses.count(503),
        "other": len(statuses) - statuses.count(200) - statuses.count(503),
        "round_s_median": sorted(rounds)[len(rounds) // 2], "round_s_max": max(rounds)}
    run.say(f"{scale}: burst of {BURST} x {BURST_ROUNDS}: {statuses.count(503)} refused")


def _fetch_documents(run: Run, server: Server, paths: list[tuple[str, str]],
                     static: Path) -> list[str]:
    """Save each sampled document in each format as a file, for nginx; return the paths."""
    saved = []
    for path, _kind in paths:
        for suffix, accept in DOC_FORMATS:
            target = f"{path}.{suffix}"
            try:
                status, _h, body = http_get(server.base + target, {"Accept": accept}, 30)
            except OSError:
                continue
            if status == 200:
                file = static / target.lstrip("/")
                file.parent.mkdir(parents=True, exist_ok=True)
                file.write_bytes(body)
                saved.append(target)
    return saved


def _deref(run: Run, scale: int, server: Server, saved: list[str],
           samples: list[tuple[str, str]], concurrencies: tuple[int, ...]) -> None:
    """Documents by suffix (same bytes as nginx), and for us also /doc by Accept and /id 303."""
    accept_of = dict(DOC_FORMATS)
    workloads = {"documents (suffix)": [Request(p, accept_of[p.rsplit(".", 1)[1]])
                                        for p in saved]}
    if server.name == "kiezgraph":
        workloads["documents (Accept)"] = [Request(p, a) for p, _k in samples
                                           for _s, a in DOC_FORMATS]
        workloads["/id → 303"] = [Request("/id/" + p[len("/doc/"):], a) for p, _k in samples
                                  for _s, a in DOC_FORMATS]
    for name, requests in workloads.items():
        if not requests:
            run.rows.append({"scale": scale, "section": "deref", "workload": name,
                             "server": server.name, "mode": "-", "concurrency": 1,
                             **Result(failed="no documents could be fetched").as_dict()})
            continue
        status, _h, _b = http_get(server.base + requests[0].path,
                                  {"Accept": requests[0].accept}, 30)
        expected = 303 if name.startswith("/id") else 200
        for concurrency in concurrencies:
            if status != expected:
                result = Result(failed=f"HTTP {status} for {requests[0].path}")
            elif run.left() < run.options.duration + 5:
                result = Result(failed="skipped: time budget used up")
            else:
                result = run_wrk(server.base, requests, concurrency, run.options.duration)
            run.rows.append({"scale": scale, "section": "deref", "workload": name,
                             "kind": "deref", "server": server.name, "mode": "-",
                             "concurrency": concurrency, "paths": len(requests),
                             **result.as_dict()})


def _start(run: Run, scale: int, name: str, starter) -> Server | None:
    """Start a server; a failure is recorded, not raised."""
    record = run.scales[scale].setdefault("servers", {}).setdefault(name, {})
    try:
        server = starter()
    except Exception as exc:  # any peer may fail to start; the run goes on without it
        record["failed"] = f"{type(exc).__name__}: {exc}"[:300]
        run.say(f"{scale}: {name} failed to start: {record['failed']}")
        return None
    record["startup_s"] = server.startup_s
    run.say(f"{scale}: {name} up in {server.startup_s:.2f} s")
    return server


def _stop(run: Run, scale: int, group: ProcGroup, server: Server) -> None:
    record = run.scales[scale]["servers"][server.name]
    record["peak_rss_mb"] = server.peak_rss_mb()
    record["peak_rss_by_process"] = peak_rss_by_process(server.proc.pid)
    run.say(f"{scale}: {server.name} peak memory {record['peak_rss_mb']:.0f} MB: " + ", ".join(
        f"{mb:.0f} MB {command}" for command, mb in record["peak_rss_by_process"]))
    group.stop(server.proc)


def _bundled(run: Run, group: ProcGroup, work: Path) -> None:
    """The bundled data: `kiezgraph validate` and `build` wall time, start-up to /health."""
    exe = [sys.executable, "-m", "publisher"]
    out = work / "bundled-build"
    validate_s, code = _timed([*exe, "validate", "--root", str(ROOT)], 120)
    build_s, build_code = _timed([*exe, "build", "--root", str(ROOT), "--out", str(out)], 120)
    run.bundled = {"validate_s": validate_s, "validate_exit": code, "build_s": build_s,
                   "build_exit": build_code}
    if build_code == 0:
        try:
            server = start_kiezgraph(group, out, work, timeout=60)
            run.bundled["startup_s"] = server.startup_s
            run.bundled["peak_rss_mb"] = server.peak_rss_mb()
            group.stop(server.proc)
        except Exception as exc:  # reported, not raised
            run.bundled["startup_failed"] = str(exc)[:300]
    run.say(f"bundled data: validate {validate_s:.2f} s, build {build_s:.2f} s, "
            f"start-up {run.bundled.get('startup_s', float('nan')):.2f} s")


def _scale(run: Run, group: ProcGroup, scale: int, work: Path) -> None:
    opts = run.options
    run.scales[scale] = {"servers": {}}
    info = _build_scale(run, scale, work)
    run.scales[scale].update({k: v for k, v in info.items() if k not in ("project",)})
    build = Path(info["build"])
    graph = (build / "current").resolve() / "graph.nq"
    manifest = json.loads((Path(info["project"]) / "bench.json").read_text(encoding="utf-8"))
    samples = manifest["samples"]
    workload = queries(BASE, samples, ROOT / "tests" / "queries")
    documents = doc_paths(BASE, samples, 20 if opts.quick else 60)
    logs = work / f"logs-{scale}"
    logs.mkdir(parents=True, exist_ok=True)
    run.scales[scale]["queries"] = {q.name: q.text for q in workload}
    both = ("unique",) if opts.quick else ("unique", "repeated")
    if opts.quick:  # a smoke run: the benchmark's own queries only
        workload = [q for q in workload if not q.name.startswith("example:")]

    server = _start(run, scale, "kiezgraph", lambda: start_kiezgraph(group, build, logs))
    static = work / f"static-{scale}"
    saved: list[str] = []
    if server:
        if opts.sparql:
            _sparql(run, scale, server, workload, both, opts.concurrency)
            _burst(run, scale, server, workload)
        run.say(f"{scale}: kiezgraph SPARQL done")
        saved = _fetch_documents(run, server, documents, static)
        run.say(f"{scale}: fetched {len(saved)} documents for nginx")
        _deref(run, scale, server, saved, documents, opts.concurrency)
        _stop(run, scale, group, server)
    if "nginx" in opts.peers:
        nginx = _start(run, scale, "nginx", lambda: start_nginx(group, static, work, logs))
        if nginx:
            _deref(run, scale, nginx, saved, documents, opts.concurrency)
            _stop(run, scale, group, nginx)
    if "virtuoso" in opts.peers and opts.sparql:
        virtuoso = _start(run, scale, "virtuoso",
                          lambda: start_virtuoso(group, graph, work / f"v{scale}", logs))
        if virtuoso:
            _sparql(run, scale, virtuoso, workload, both, opts.concurrency)
            _stop(run, scale, group, virtuoso)
    for peer, store in (("rdflib-oxigraph", "Oxigraph"), ("rdflib-default", "default")):
        if peer not in opts.peers or not opts.sparql:
            continue
        name = "rdflib-endpoint" + ("" if store == "default" else f" ({store})")
        if info["triples"] > opts.rdflib_max_triples:
            run.scales[scale]["servers"][name] = {
                "failed": f"skipped: loading {info['triples']} triples into rdflib takes "
                          f"minutes (measured up to {opts.rdflib_max_triples})"}
            continue
        rdf = _start(run, scale, name,
                     lambda store=store: start_rdflib_endpoint(group, graph, logs, store))
        if rdf:
            # rdflib has no answer cache and holds the GIL: one mode, one connection.
            _sparql(run, scale, rdf, workload, ("unique",), (1,))
            _stop(run, scale, group, rdf)


def run(options: Options) -> Run:
    """Run the whole benchmark; every process started is stopped before this returns."""
    current = Run(options)
    current.machine = _machine()
    options.out.mkdir(parents=True, exist_ok=True)
    work = options.out / f"work-{os.getpid()}"
    work.mkdir(parents=True, exist_ok=True)
    try:
        with ProcGroup() as group:
            _bundled(current, group, work)
            for scale in options.scales:
                if current.left() < 30:
                    current.scales[scale] = {"failed": "skipped: time budget used up"}
                    continue
                try:
                    _scale(current, group, scale, work)
                except Exception as exc:  # one scale failing must not lose the others
                    current.scales.setdefault(scale, {})["failed"] = f"{exc}"[:400]
                    current.say(f"{scale}: failed: {exc}")
                finally:
                    group.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    current.machine["loadavg_end"] = os.getloadavg()[0]
    return current
