"""Drive load at a server: wrk at a fixed concurrency, or sequential requests for slow queries."""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.procs import http_get

__all__ = ["NONCE", "Request", "Result", "run_sequential", "run_wrk", "wrk_available"]

LUA = Path(__file__).with_name("rotate.lua")
NONCE = "NONCEXYZ"


@dataclass(frozen=True)
class Request:
    """One GET request: a path (with query string) and the Accept header to send."""

    path: str
    accept: str = ""


@dataclass
class Result:
    """Throughput and latency of one workload on one server at one concurrency."""

    requests: int = 0
    seconds: float = 0.0
    rps: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    errors: int = 0
    tool: str = "wrk"
    failed: str = ""

    def as_dict(self) -> dict:
        """Plain values for results.json."""
        return dict(self.__dict__)


def wrk_available() -> bool:
    """Whether the wrk load generator is installed."""
    return shutil.which("wrk") is not None


def run_wrk(base: str, requests: list[Request], concurrency: int, duration: float,
            nonce: bool = False, timeout: float = 10.0) -> Result:
    """Run wrk with one thread at the given number of connections for `duration` seconds."""
    exe = shutil.which("wrk")
    if not exe:
        return Result(failed="wrk is not installed")
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as handle:
        for request in requests:
            handle.write(f"{request.path}\t{request.accept}\n")
        listing = handle.name
    try:
        # One wrk thread: on a small machine every thread wrk adds is taken from the server.
        proc = subprocess.run(
            [exe, "-t1", f"-c{concurrency}", f"-d{max(1, round(duration))}s",
             f"--timeout={timeout:g}s", "-s", str(LUA), base],
            capture_output=True, text=True, timeout=duration + timeout + 30, check=False,
            env={**os.environ, "BENCH_REQUESTS": listing, "BENCH_NONCE": "1" if nonce else "0",
                 "BENCH_RUN": f"{os.getpid()}x{time.monotonic_ns()}"})
    except subprocess.TimeoutExpired:
        return Result(failed="wrk did not finish")
    finally:
        os.unlink(listing)
    line = next((x for x in proc.stdout.splitlines() if x.startswith("BENCH ")), None)
    if line is None:
        return Result(failed=f"wrk: {(proc.stderr or proc.stdout).strip()[-200:]}")
    data = json.loads(line[6:])
    seconds = data["duration_us"] / 1e6
    errors = data["status_errors"] + data["socket_errors"] + data["timeouts"]
    result = Result(requests=data["requests"], seconds=seconds,
                    rps=data["requests"] / seconds if seconds else 0.0,
                    p50_ms=data["p50_us"] / 1000, p99_ms=data["p99_us"] / 1000, errors=errors)
    if data["requests"] == 0 or errors > data["requests"] // 2:
        result.failed = f"{errors} of {data['requests']} requests failed"
    return result


def run_sequential(base: str, requests: list[Request], duration: float,
                   max_requests: int = 50, timeout: float = 60.0, nonce: bool = False) -> Result:
    """One request after another for about `duration` seconds (at least one): for slow servers."""
    times, errors, counter = [], 0, 0
    started = time.monotonic()
    while counter < max_requests and (counter == 0 or time.monotonic() - started < duration):
        request = requests[counter % len(requests)]
        counter += 1
        path = request.path.replace(NONCE, f"s{counter}") if nonce else request.path
        headers = {"Accept": request.accept} if request.accept else {}
        t0 = time.monotonic()
        try:
            status, _h, _b = http_get(base + path, headers, timeout=timeout)
        except OSError:
            status = 0
        times.append(time.monotonic() - t0)
        if status >= 400 or status == 0:
            errors += 1
    elapsed = time.monotonic() - started
    ordered = sorted(times)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    result = Result(requests=len(times), seconds=elapsed, rps=len(times) / elapsed,
                    p50_ms=statistics.median(ordered) * 1000, p99_ms=p99 * 1000,
                    errors=errors, tool="sequential")
    if errors > len(times) // 2:
        result.failed = f"{errors} of {len(times)} requests failed"
    return result
