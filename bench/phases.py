"""Run `kiezgraph build` in this process with its loading and validation phases timed.

Usage: python -m bench.phases ROOT OUT RESULT.json. The product's build() is called as the
command line calls it; only the two phase functions it looks up are wrapped with a clock, so
one build pass yields the load time, the SHACL validation time and the total.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from pathlib import Path

__all__ = ["main"]


def main(argv: list[str]) -> int:
    """Build ROOT into OUT and write the phase times and peak memory to RESULT."""
    import publisher.build as build_module
    from publisher.cli import main as cli

    root, out, result = argv
    times: dict[str, float] = {"load_s": 0.0, "validate_s": 0.0}
    cap = int(os.environ.get("BENCH_BUILD_MEMORY_MB", "0") or 0)
    if cap > 0:  # the heap may grow to this; past it the build fails with MemoryError
        resource.setrlimit(resource.RLIMIT_DATA, (cap << 20, cap << 20))

    def timed(name, function):
        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                times[name] += time.perf_counter() - started
        return wrapper

    build_module.load_sources = timed("load_s", build_module.load_sources)
    build_module.validate_sources = timed("validate_s", build_module.validate_sources)
    started = time.perf_counter()
    code = 0
    failed = ""
    try:
        cli(["build", "--root", root, "--out", out], standalone_mode=False)
    except SystemExit as exc:
        code = int(exc.code or 0)
    except MemoryError:
        code, failed = 1, f"MemoryError at the cap of {cap} MB"
    times["build_s"] = time.perf_counter() - started
    hwm = next((int(line.split()[1]) for line in Path("/proc/self/status").read_text()
                .splitlines() if line.startswith("VmHWM:")), 0)
    times["build_peak_rss_mb"] = hwm / 1024
    times["exit_code"] = code
    if failed:
        times["failed"] = failed  # type: ignore[assignment]
    Path(result).write_text(json.dumps(times), encoding="utf-8")
    return code


if __name__ == "__main__":
    status = main(sys.argv[1:])
    # The numbers are written: leave without tearing down the build's millions of objects,
    # which at 1M triples takes the interpreter ~25 s of the benchmark's wall time.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
