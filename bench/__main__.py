"""`python -m bench`: run the benchmark and write its report (see bench/RESULTS.md)."""

from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path

from bench.generate import parse_scale
from bench.report import write_report
from bench.run import ROOT, Options, run

__all__ = ["main"]

PEERS = ("nginx", "virtuoso", "rdflib-oxigraph", "rdflib-default")


def _interrupted(signum, _frame):
    # SIGTERM/SIGHUP end the run like Ctrl-C does, so every started server is stopped.
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    """Parse the options, run, write results.json and the report; exit 0 when it ran."""
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmark kiezgraph against rdflib-endpoint, Virtuoso and nginx.")
    parser.add_argument("--quick", action="store_true",
                        help="10k triples, one connection, short runs, no Virtuoso or rdflib "
                             "Oxigraph store (under a minute; what CI runs)")
    parser.add_argument("--scales", default=None,
                        help="comma-separated graph sizes (default 10k,100k,1m; quick: 10k)")
    parser.add_argument("--duration", type=float, default=None,
                        help="seconds of load per measurement (default 1)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out",
                        help="folder for builds, logs and results.json (default bench/out)")
    parser.add_argument("--report", type=Path, default=None,
                        help="report file (default bench/RESULTS.md; quick: OUT/RESULTS.md)")
    parser.add_argument("--peers", default=None,
                        help=f"comma-separated peers to run, of {','.join(PEERS)}")
    parser.add_argument("--budget", type=float, default=None,
                        help="seconds the whole run may take (default 840; quick 55)")
    parser.add_argument("--fresh", action="store_true",
                        help="regenerate and rebuild every scale instead of reusing "
                             "bench/out/cache")
    parser.add_argument("--with-10m", action="store_true",
                        help="add the 10M-triple scale (opt-in: its build alone takes tens of "
                             "minutes; run under a memory cap of $BENCH_BUILD_MEMORY_MB, "
                             "default 20480, so that it stops cleanly rather than take the "
                             "machine)")
    parser.add_argument("--deref-only", action="store_true",
                        help="measure dereferencing only (kiezgraph and nginx), no SPARQL")
    parser.add_argument("--from-results", type=Path, default=None, metavar="JSON",
                        help="only rewrite the report from a results.json of an earlier run")
    args = parser.parse_args(argv)
    if args.from_results:
        report = args.report or ROOT / "bench" / "RESULTS.md"
        write_report(json.loads(args.from_results.read_text(encoding="utf-8")), report)
        print(f"report: {report}", file=sys.stderr)
        return 0

    try:
        scales = [parse_scale(s) for s in (args.scales or ("10k" if args.quick else
                                                            "10k,100k,1m")).split(",")]
    except ValueError as exc:
        parser.error(str(exc))
    if args.with_10m and 10_000_000 not in scales:
        scales.append(10_000_000)
    peers = tuple(p.strip() for p in args.peers.split(",")) if args.peers else (
        ("nginx", "rdflib-default") if args.quick else PEERS)
    unknown = set(peers) - set(PEERS)
    if unknown:
        parser.error(f"unknown peer(s): {', '.join(sorted(unknown))}")
    if args.duration is not None and args.duration <= 0:
        parser.error("--duration must be positive")
    options = Options(
        scales=scales, quick=args.quick, duration=args.duration or 1.0, out=args.out,
        budget=args.budget or (55.0 if args.quick else 840.0 + (3000.0 if args.with_10m
                                                                 else 0.0)),
        concurrency=(1,) if args.quick else (1, 8), peers=peers,
        reuse_builds=not (args.fresh or args.quick), sparql=not args.deref_only)
    report = args.report or (args.out / "RESULTS.md" if args.quick
                             else ROOT / "bench" / "RESULTS.md")

    signal.signal(signal.SIGTERM, _interrupted)
    signal.signal(signal.SIGHUP, _interrupted)
    try:
        result = run(options)
    except KeyboardInterrupt:
        print("interrupted: every started server was stopped", file=sys.stderr)
        return 130
    args.out.mkdir(parents=True, exist_ok=True)
    text = json.dumps(result.as_dict(), indent=1, default=str) + "\n"
    (args.out / "results.json").write_text(text, encoding="utf-8")
    write_report(json.loads(text), report)
    print(f"report: {report}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
