"""The static export behind nginx against nginx serving the same files plainly.

`python -m bench.static DIR [--duration S] [--repeat N]`, where DIR was written by
`kiezgraph build --static DIR`. Three nginx servers over the same files, same worker count
and same http settings: *plain* (the files by their own path, nginx's floor), *plain +
headers* (the same, adding the export's headers for each format as fixed strings: what the
headers cost by themselves) and *export* (the generated maps and locations). wrk asks each
for the same sampled documents by suffix; the export is also asked by Accept and for the
303s from the things' IRIs. Rounds alternate between the servers; the medians are printed
as a Markdown table with each export row's ratio to plain and to plain + headers, and the
median of each round's own ratio (steadier when other jobs share the machine). `--pcre-jit`
turns `pcre_jit on` in all three servers, as the export's example configuration advises;
`--file-cache` gives the two plain servers the export's `open_file_cache` too.
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

from bench.load import Request, run_wrk
from bench.procs import ProcGroup, free_port, http_get
from bench.workload import DOC_FORMATS

__all__ = ["main"]

_VARIANTS = {"ttl": "turtle", "jsonld": "jsonld", "rdf": "rdfxml", "nt": "ntriples",
             "html": "html-de"}
# Headers nginx makes itself in every configuration.
_OWN = {"server", "date", "content-type", "content-length", "last-modified", "connection",
        "etag", "accept-ranges", "vary"}
_HTTP = """\
worker_processes {workers};
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
daemon off;
{user}events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
{temp}{http}
    server {{
        listen 127.0.0.1:{port};
{server}
    }}
}}
"""


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _types(locations: str) -> str:
    start = locations.index("types {")
    return locations[start:locations.index("}", start) + 1]


def _start(group: ProcGroup, work: Path, name: str, http: str, server: str,
           workers: int, main: str = "") -> str:
    """Start one nginx; return its base URL."""
    import os
    import socket

    folder = work / name.replace(" ", "-").replace("+", "")
    (folder / "tmp").mkdir(parents=True)
    port = free_port()
    temp = "".join(f"    {kind}_temp_path {folder}/tmp;\n"
                   for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    user = "user root;\n" if os.geteuid() == 0 else ""
    conf = folder / "nginx.conf"
    conf.write_text(main + _HTTP.format(workers=workers, dir=folder, user=user, temp=temp,
                                 http=http, port=port, server=server), encoding="utf-8")
    exe = shutil.which("nginx") or "/usr/sbin/nginx"
    proc = group.start(name, [exe, "-p", str(folder), "-c", str(conf)], folder / "log")
    deadline = time.monotonic() + 10
    while True:
        if proc.popen.poll() is not None:
            raise RuntimeError(f"nginx ({name}) exited: {proc.tail()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return f"http://127.0.0.1:{port}"
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def main(argv: list[str] | None = None) -> int:
    """Start the three servers, run the rounds, print the table."""
    parser = argparse.ArgumentParser(prog="python -m bench.static")
    parser.add_argument("export", type=Path, help="folder written by kiezgraph build --static")
    parser.add_argument("--duration", type=float, default=3.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--docs", type=int, default=40, help="documents sampled")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="nginx worker processes")
    parser.add_argument("--file-cache", action="store_true",
                        help="give plain and plain + headers the export's open_file_cache")
    parser.add_argument("--pcre-jit", action="store_true",
                        help="pcre_jit on in every server (as the example configuration advises)")
    args = parser.parse_args(argv)
    summary = json.loads((args.export / "export.json").read_text(encoding="utf-8"))
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    site = (args.export / "site").resolve()
    nginx = (args.export / "nginx").resolve()
    prefix = urlsplit(summary["url"]).path.rstrip("/")
    docs = summary["documents_by_class"]["doc"]
    step = max(1, len(docs) // args.docs)
    sample = docs[::step][:args.docs]
    suffix = [Request(f"{prefix}/doc/{d}.{s}", a) for d in sample for s, a in DOC_FORMATS]
    # The export keeps each document by suffix at its own URL path under site/sfx/<variant>.
    plain = [Request(f"/sfx/{_VARIANTS[s]}{prefix}/doc/{d}.{s}", a) for d in sample
             for s, a in DOC_FORMATS]
    workloads = {
        "plain": {"documents (suffix)": plain},
        "plain + headers": {"documents (suffix)": plain},
        "export": {"documents (suffix)": suffix,
                   "documents (Accept)": [Request(f"{prefix}/doc/{d}", a) for d in sample
                                          for _s, a in DOC_FORMATS],
                   "/id → 303": [Request(f"{prefix}/id/{d}") for d in sample]},
    }
    locations = (nginx / "locations.conf").read_text(encoding="utf-8")
    work = Path(tempfile.mkdtemp(prefix="kiezgraph-static-"))
    times: dict[tuple[str, str], list] = {}
    try:
        with ProcGroup() as group:
            main = "pcre_jit on;\n" if args.pcre_jit else ""
            bases = {"export": _start(group, work, "export", f"    include {nginx}/maps.conf;",
                                      f"        include {nginx}/locations.conf;",
                                      args.workers, main)}
            # The export's own headers for each format, as fixed strings.
            fixed = []
            for s, variant in _VARIANTS.items():
                _status, headers, _body = http_get(
                    f"{bases['export']}{prefix}/doc/{sample[0]}.{s}")
                lines = "".join(f"            add_header {k} {_quote(v)};\n"
                                for k, v in headers.items() if k.lower() not in _OWN)
                fixed.append(f"        location /sfx/{variant}/ {{\n{lines}        }}\n")
            common = f"        root {site};\n        {_types(locations)}\n        etag on;\n"
            if args.file_cache:  # the export keeps its files open; so may plain nginx
                cache = dict.fromkeys(line.strip() for line in locations.splitlines()
                                      if line.strip().startswith("open_file_cache"))
                common += "".join(f"        {line}\n" for line in cache)
            bases["plain"] = _start(group, work, "plain", "", common, args.workers, main)
            bases["plain + headers"] = _start(group, work, "plain + headers", "",
                                              common + "".join(fixed), args.workers, main)
            for name in ("plain", "plain + headers"):  # the same bytes, else no comparison
                for mine, theirs in zip(plain[:10], suffix[:10], strict=True):
                    a = http_get(bases[name] + mine.path)[2]
                    b = http_get(bases["export"] + theirs.path)[2]
                    if a != b:
                        raise RuntimeError(f"{name} {mine.path}: not the export's bytes")
            for _round in range(args.repeat):
                for name, base in bases.items():
                    for workload, requests in workloads[name].items():
                        result = run_wrk(base, requests, args.connections, args.duration)
                        times.setdefault((name, workload), []).append(result)
    except KeyboardInterrupt:
        return 130
    finally:
        shutil.rmtree(work, ignore_errors=True)

    def median(name: str, workload: str) -> float:
        return statistics.median(r.rps for r in times[(name, workload)])

    def paired(name: str, workload: str, other: str) -> float:
        """The median over rounds of the rate's ratio to the other server's in the same
        round: on a busy machine the load drifts less within a round than across all."""
        mine, theirs = times[(name, workload)], times[(other, "documents (suffix)")]
        return statistics.median(a.rps / b.rps for a, b in zip(mine, theirs, strict=True))

    rows = [f"| nginx ({args.workers} workers, {args.connections} connections"
            f"{', pcre_jit' if args.pcre_jit else ''}"
            f"{', plain with open_file_cache' if args.file_cache else ''}) | workload | "
            f"req/s (median of {args.repeat}) | runs | p99 ms | ÷ plain | ÷ plain + headers | "
            f"÷ plain, same round (median) | ÷ plain + headers, same round (median) |",
            "|---|---|---|---|---|---|---|---|---|"]
    floor, headed = median("plain", "documents (suffix)"), median("plain + headers",
                                                                  "documents (suffix)")
    for (name, workload), results in times.items():
        rps = median(name, workload)
        runs = " / ".join(f"{r.rps:,.0f}" for r in results)
        p99 = statistics.median(r.p99_ms for r in results)
        errors = sum(r.errors for r in results)
        rows.append(f"| {name} | {workload} | {rps:,.0f} | {runs} | {p99:.2f} | "
                    f"{rps / floor:.2f}× | {rps / headed:.2f}× | "
                    f"{paired(name, workload, 'plain'):.2f}× | "
                    f"{paired(name, workload, 'plain + headers'):.2f}× |"
                    + (f" {errors} errors" if errors else ""))
    print(f"{len(sample)} documents × {len(DOC_FORMATS)} formats from {args.export}")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
