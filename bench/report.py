"""Write the benchmark's report (bench/RESULTS.md) from the numbers of one run."""

from __future__ import annotations

from pathlib import Path

__all__ = ["summary", "targets", "write_report"]

OURS = "kiezgraph"
RDFLIB = "rdflib-endpoint"
RDFLIB_OX = "rdflib-endpoint (Oxigraph)"
VIRTUOSO = "virtuoso"
NGINX = "nginx"


def _scale_name(scale) -> str:
    scale = int(scale)
    if scale >= 1_000_000 and scale % 1_000_000 == 0:
        return f"{scale // 1_000_000}M"
    if scale >= 1_000 and scale % 1_000 == 0:
        return f"{scale // 1_000}k"
    return str(scale)


def _num(value, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, float) and value >= 100:
        return f"{value:,.0f}"
    return f"{value:,.{digits}f}"


def _rows(data, **match) -> list[dict]:
    return [r for r in data["rows"] if all(str(r.get(k)) == str(v) for k, v in match.items())]


def _one(data, **match) -> dict | None:
    found = _rows(data, **match)
    return found[0] if found else None


def _good_rps(row: dict) -> float:
    """Successful answers per second (errors such as 503s do not count as throughput)."""
    if not row.get("seconds"):
        return row.get("rps", 0.0) if not row.get("errors") else 0.0
    return max(0, row["requests"] - row.get("errors", 0)) / row["seconds"]


def _ok(row: dict | None) -> bool:
    """A measurement with some successful answers (it may have had some errors too)."""
    if not row or row.get("requests", 0) == 0:
        return False
    failed = row.get("failed") or ""
    return (not failed or "requests failed" in failed) and _good_rps(row) > 0


def _errors(row: dict) -> float:
    return row.get("errors", 0) / row["requests"] if row.get("requests") else 0.0


def _ratio(ours: dict | None, peer: dict | None) -> float | None:
    if not (_ok(ours) and _ok(peer)):
        return None
    return _good_rps(ours) / _good_rps(peer)


def _target_scale(data, wanted: int) -> int | None:
    scales = sorted(int(s) for s, v in data["scales"].items() if "servers" in v)
    if not scales:
        return None
    return wanted if wanted in scales else max(scales)


def _sparql_ratio_check(data, scale, peer, mode_ours, mode_peer, kinds, need, concs):
    """The worst ratio ours/peer over the queries of the given kinds, and a verdict."""
    worst, worst_q, missing = None, None, []
    for query in data["scales"][str(scale)].get("queries", {}):
        kind = "lookup" if query in ("lookup", "construct-neighbourhood") else "work"
        if kind not in kinds:
            continue
        for conc in concs:
            ours = _one(data, scale=scale, section="sparql", workload=query, server=OURS,
                        mode=mode_ours, concurrency=conc)
            other = _one(data, scale=scale, section="sparql", workload=query, server=peer,
                         mode=mode_peer, concurrency=conc)
            ratio = _ratio(ours, other)
            if ratio is not None and _errors(ours) > 0.01:
                missing.append(f"{query} c={conc} ({_errors(ours):.0%} errors)")
            if ratio is None:
                if other is not None or ours is not None:
                    missing.append(f"{query} c={conc}")
                continue
            if worst is None or ratio < worst:
                worst, worst_q = ratio, f"{query} c={conc}"
    if worst is None:
        return "not measured", "–"
    text = f"worst {worst:.2f}× ({worst_q})"
    if missing:
        text += f"; {len(missing)} failed, skipped or with errors ({missing[0]}, …)"
    return text, ("met" if worst >= need and not missing else "not met")


def targets(data: dict) -> list[tuple[str, str, str]]:
    """(target, measured, verdict) for each target of the issue."""
    out = []
    s100 = _target_scale(data, 100_000)
    s1m = _target_scale(data, 1_000_000)
    at = f" (at {_scale_name(s100)})" if s100 and s100 != 100_000 else ""
    if s100 is None:
        return [("any", "no scale was measured", "not met")]
    for peer, kinds, need, label in (
            (RDFLIB, ("work",), 20, "SPARQL ≥ 20× rdflib-endpoint on queries that do work"),
            (RDFLIB, ("lookup",), 2, "SPARQL ≥ 2× rdflib-endpoint on single-resource lookups")):
        measured, verdict = _sparql_ratio_check(data, s100, peer, "unique", "unique", kinds,
                                                need, (1,))
        out.append((label + at, measured, verdict))
    concs = tuple(data["options"]["concurrency"])
    measured, verdict = _sparql_ratio_check(data, s100, VIRTUOSO, "unique", "unique",
                                            ("work", "lookup"), 1, concs)
    out.append(("SPARQL ≥ 1× Virtuoso, uncached, every query" + at, measured, verdict))
    measured, verdict = _sparql_ratio_check(data, s100, VIRTUOSO, "repeated", "repeated",
                                            ("work", "lookup"), 3, concs)
    out.append(("SPARQL ≥ 3× Virtuoso for repeated GET queries" + at, measured, verdict))

    worst, p99 = None, None
    for scale in sorted(int(s) for s in data["scales"]):
        for conc in concs:
            ours = _one(data, scale=scale, section="deref", workload="documents (suffix)",
                        server=OURS, concurrency=conc)
            ratio = _ratio(ours, _one(data, scale=scale, section="deref",
                                      workload="documents (suffix)", server=NGINX,
                                      concurrency=conc))
            if ratio is not None and (worst is None or ratio < worst):
                worst = ratio
            for row in _rows(data, scale=scale, section="deref", server=OURS,
                             concurrency=conc):
                if _ok(row):
                    p99 = max(p99 or 0, row["p99_ms"])
    out.append(("Dereferencing ≥ 0.1× nginx serving the same bytes",
                f"worst {worst:.3f}×" if worst is not None else "not measured",
                "–" if worst is None else ("met" if worst >= 0.1 else "not met")))
    out.append(("Dereferencing p99 < 20 ms",
                f"worst p99 {p99:.1f} ms" if p99 is not None else "not measured",
                "–" if p99 is None else ("met" if p99 < 20 else "not met")))

    bundled = data.get("bundled", {})
    startup = bundled.get("startup_s")
    out.append(("Start-up to /health < 2 s (bundled data)",
                f"{startup:.2f} s" if startup is not None else bundled.get("startup_failed",
                                                                           "not measured"),
                "–" if startup is None else ("met" if startup < 2 else "not met")))
    big = data["scales"].get(str(s1m), {}) if s1m else {}
    ours_big = big.get("servers", {}).get(OURS, {})
    label = f" (at {_scale_name(s1m)})" if s1m and s1m != 1_000_000 else ""
    startup = ours_big.get("startup_s")
    out.append(("Start-up to /health < 15 s at 1M triples" + label,
                f"{startup:.2f} s" if startup is not None else "not measured",
                "–" if startup is None else ("met" if startup < 15 else "not met")))
    rss = ours_big.get("peak_rss_mb")
    out.append(("Peak memory (serving) < 400 MB at 1M triples" + label,
                f"{rss:.0f} MB" if rss is not None else "not measured",
                "–" if rss is None else ("met" if rss < 400 else "not met")))
    total = (bundled.get("validate_s") or 0) + (bundled.get("build_s") or 0)
    out.append(("`kiezgraph validate` + `build` of the bundled data < 10 s",
                f"{bundled.get('validate_s', 0):.2f} s + {bundled.get('build_s', 0):.2f} s"
                if bundled else "not measured",
                "–" if not bundled else ("met" if total < 10 else "not met")))
    curve = [(int(s), v) for s, v in data["scales"].items() if v.get("validate_s")]
    curve.sort()
    if len(curve) >= 2:
        (small, a), (large, b) = curve[-2], curve[-1]
        growth = (b["validate_s"] / a["validate_s"]) / (b["triples"] / a["triples"])
        out.append(("Validation linear from 10k to 1M",
                    f"{_scale_name(small)}→{_scale_name(large)}: time grew {growth:.2f}× "
                    "as fast as the triples (1.00 = linear)",
                    "met" if growth <= 1.5 else "not met"))
    else:
        out.append(("Validation linear from 10k to 1M", "needs two scales", "–"))
    return out


def _median(values: list[float]) -> float | None:
    values = sorted(values)
    if not values:
        return None
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2


def _short_failure(text: str) -> str:
    """A failure in one table cell: its first line, and the English error line if any."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    first = lines[0].split(": ")[0] if lines else "failed"
    error = next((line for line in reversed(lines) if line.startswith("error:")), "")
    return f"{first}: {error}" if error else (lines[0] if lines else "failed")


def summary(data: dict) -> list[str]:
    """A short Markdown table of the headline numbers, for the README."""
    scale = _target_scale(data, 100_000)
    if scale is None:
        return []
    lines = [f"| at {_scale_name(scale)} triples, 1 connection | kiezgraph | Virtuoso | "
             "rdflib-endpoint | rdflib-endpoint (Oxigraph) | nginx |", "|---|---|---|---|---|---|"]

    def median_rps(server, mode, section="sparql", workload=None):
        rows = [r for r in _rows(data, scale=scale, section=section, server=server, mode=mode,
                                 concurrency=1) if _ok(r)
                and (workload is None or r["workload"] == workload)]
        value = _median([_good_rps(r) for r in rows])
        p99 = _median([r["p99_ms"] for r in rows])
        return "–" if value is None else f"{_num(value)} req/s (p99 {_num(p99)} ms)"

    lines.append("| SPARQL, median over the workload, uncached | "
                 + " | ".join(median_rps(s, "unique") for s in (OURS, VIRTUOSO, RDFLIB,
                                                                 RDFLIB_OX)) + " | – |")
    lines.append("| SPARQL, median over the workload, repeated | "
                 + " | ".join(median_rps(s, "repeated") for s in (OURS, VIRTUOSO))
                 + " | – | – | – |")
    lines.append("| resource documents (same bytes) | "
                 + median_rps(OURS, "-", "deref", "documents (suffix)") + " | – | – | – | "
                 + median_rps(NGINX, "-", "deref", "documents (suffix)") + " |")
    return lines


def _cell(row: dict | None) -> str:
    if row is None:
        return "–"
    if not _ok(row):
        failed = row.get("failed") or "failed"
        return "skipped" if failed.startswith("skipped") else "failed"
    tool = "¹" if row.get("tool") == "sequential" else ""
    errors = f" ⚠ {_errors(row):.0%} errors" if row.get("errors") else ""
    return (f"{_num(_good_rps(row))}{tool} ({_num(row['p50_ms'])}/{_num(row['p99_ms'])})"
            f"{errors}")


def _sparql_tables(data, scale, lines: list[str]) -> None:
    columns = [(OURS, "unique"), (OURS, "repeated"), (VIRTUOSO, "unique"),
               (VIRTUOSO, "repeated"), (RDFLIB_OX, "unique"), (RDFLIB, "unique")]
    present = [c for c in columns if _rows(data, scale=scale, section="sparql", server=c[0],
                                           mode=c[1])]
    queries = list(data["scales"][str(scale)].get("queries", {}))
    for conc in data["options"]["concurrency"]:
        cols = [c for c in present if _rows(data, scale=scale, section="sparql", server=c[0],
                                            mode=c[1], concurrency=conc)]
        if not cols:
            continue
        lines += [f"#### SPARQL, {conc} connection{'s' if conc > 1 else ''}: "
                  "requests/s (p50/p99 ms)", ""]
        lines.append("| query | " + " | ".join(f"{s} {m}" for s, m in cols) + " | answer rows |")
        lines.append("|---" * (len(cols) + 2) + "|")
        for query in queries:
            cells = [_cell(_one(data, scale=scale, section="sparql", workload=query, server=s,
                                mode=m, concurrency=conc)) for s, m in cols]
            answers = sorted({str(r.get("answer_rows")) for r in _rows(
                data, scale=scale, section="sparql", workload=query, concurrency=conc)
                if r.get("answer_rows") is not None})
            lines.append(f"| {query} | " + " | ".join(cells) + f" | {'/'.join(answers)} |")
        lines.append("")
        ratio_cols = [(VIRTUOSO, "unique"), (VIRTUOSO, "repeated"), (RDFLIB_OX, "unique"),
                      (RDFLIB, "unique")]
        ratio_cols = [c for c in ratio_cols if c in cols]
        if (OURS, "unique") not in cols or not ratio_cols:
            continue
        lines += [f"Throughput of kiezgraph as a multiple of each peer ({conc} "
                  f"connection{'s' if conc > 1 else ''}, same mode):", ""]
        lines.append("| query | " + " | ".join(f"÷ {s} {m}" for s, m in ratio_cols) + " |")
        lines.append("|---" * (len(ratio_cols) + 1) + "|")
        for query in queries:
            cells = []
            for peer, mode in ratio_cols:
                ratio = _ratio(
                    _one(data, scale=scale, section="sparql", workload=query, server=OURS,
                         mode=mode, concurrency=conc),
                    _one(data, scale=scale, section="sparql", workload=query, server=peer,
                         mode=mode, concurrency=conc))
                cells.append("–" if ratio is None else f"{ratio:.2f}×")
            lines.append(f"| {query} | " + " | ".join(cells) + " |")
        lines.append("")


def _deref_table(data, scale, lines: list[str]) -> None:
    rows = _rows(data, scale=scale, section="deref")
    if not rows:
        return
    lines += ["#### Dereferencing", "",
              "| documents | server | connections | requests/s | p50 ms | p99 ms | "
              "÷ nginx | note |", "|---|---|---|---|---|---|---|---|"]
    for row in rows:
        nginx = _one(data, scale=scale, section="deref", workload=row["workload"],
                     server=NGINX, concurrency=row["concurrency"])
        ratio = _ratio(row, nginx) if row["server"] != NGINX else None
        ok = _ok(row)
        lines.append(
            f"| {row['workload']} | {row['server']} | {row['concurrency']} | "
            f"{_num(_good_rps(row)) if ok else '–'} | {_num(row['p50_ms']) if ok else '–'} | "
            f"{_num(row['p99_ms']) if ok else '–'} | "
            f"{'–' if ratio is None else f'{ratio:.2f}×'} | "
            f"{row.get('failed') or str(row.get('paths', '')) + ' paths'} |")
    lines.append("")


def write_report(data: dict, path: Path) -> None:
    """Render results (as from Run.as_dict()) to Markdown at path."""
    machine = data["machine"]
    opts = data["options"]
    lines = [
        "# Benchmark results", "",
        "Written by `python -m bench` (see `bench/README.md` for what it does and how to "
        "rerun it). Numbers are from one run on one machine; rerun on yours. What they "
        "mean for the code, with proposals: `bench/FINDINGS.md`.", "",
        f"- date: {machine.get('date')}; run took {data.get('seconds')} s",
        f"- machine: {machine.get('nproc')} cores (`nproc`), {machine.get('arch')} "
        f"(`uname -m`), {machine.get('cpu')}, {machine.get('memory_mb')} MB RAM; load average "
        f"{machine.get('loadavg_start', 0):.1f} at the start, "
        f"{machine.get('loadavg_end', 0):.1f} at the end",
        f"- software: Python {machine.get('python')}, pyoxigraph {machine.get('pyoxigraph')}, "
        f"rdflib {machine.get('rdflib')}, rdflib-endpoint {machine.get('rdflib-endpoint')}, "
        f"Virtuoso {machine.get('virtuoso')}, {machine.get('nginx')}, {machine.get('wrk')}",
        f"- run: scales {', '.join(_scale_name(s) for s in opts['scales'])}; "
        f"{opts['duration']:g} s of load per measurement; connections "
        f"{', '.join(map(str, opts['concurrency']))}; peers {', '.join(opts['peers'])}"
        + ("; **quick run**" if opts.get("quick") else ""),
        "",
        "## Targets", "",
        "| target | measured | verdict |", "|---|---|---|",
    ]
    for target, measured, verdict in targets(data):
        lines.append(f"| {target} | {measured} | **{verdict}** |")
    table = summary(data)
    if table:
        lines += ["", "## Summary", "", *table]
    lines += ["", "## Build, validation, start-up and memory", "",
              "| graph | triples | generate s | load s | SHACL validation s | build s "
              "(incl. validation) | build peak MB | server | start-up s | serving peak MB |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    bundled = data.get("bundled", {})
    if bundled:
        lines.append(f"| bundled data | – | – | – | {_num(bundled.get('validate_s'), 2)} "
                     f"(`kiezgraph validate`) | {_num(bundled.get('build_s'), 2)} "
                     f"(`kiezgraph build`) | – | kiezgraph | "
                     f"{_num(bundled.get('startup_s'), 2)} | "
                     f"{_num(bundled.get('peak_rss_mb'), 0)} |")
    for scale, info in sorted(data["scales"].items(), key=lambda kv: int(kv[0])):
        if info.get("failed") and not info.get("servers"):
            # a build that stopped (the opt-in 10M scale at its memory cap): what it got to
            lines.append(f"| {_scale_name(scale)} | {info.get('triples', '–')} | "
                         f"{_num(info.get('generate_s'))} | {_num(info.get('load_s'))} | "
                         f"{_num(info.get('validate_s')) if info.get('validate_s') else '–'} | "
                         f"{_num(info.get('build_s'))} | "
                         f"{_num(info.get('build_peak_rss_mb'), 0)} | "
                         f"{_short_failure(info['failed'])} | – | – |")
            continue
        cached = " (reused build)" if info.get("cached") else ""
        first = True
        for name, server in info.get("servers", {}).items():
            head = (f"| {_scale_name(scale)}{cached} | {info.get('triples', '–')} | "
                    f"{_num(info.get('generate_s'))} | {_num(info.get('load_s'))} | "
                    f"{_num(info.get('validate_s'))} | {_num(info.get('build_s'))} | "
                    f"{_num(info.get('build_peak_rss_mb'), 0)} |") if first else \
                "| | | | | | | |"
            first = False
            startup = (_num(server.get("startup_s"), 2) if "startup_s" in server
                       else server.get("failed", "–"))
            lines.append(f"{head} {name} | {startup} | "
                         f"{_num(server.get('peak_rss_mb'), 0)} |")
    lines += ["", "Start-up counts from launching the process until it answers: `/health` "
              "for kiezgraph, an ASK query for the peers (for Virtuoso including the bulk "
              "load of the data), a TCP connect for nginx. Peak memory is VmHWM of the server "
              "process and its children, read just before it is stopped.", ""]
    bursts = [(scale, name, server["burst"])
              for scale, info in sorted(data["scales"].items(), key=lambda kv: int(kv[0]))
              for name, server in info.get("servers", {}).items() if "burst" in server]
    if bursts:
        lines += ["## Bursts", "",
                  "Distinct queries of the workload sent at once, each on a connection of its "
                  "own, in rounds (default settings).", "",
                  "| graph | server | queries at once × rounds | answered | 503 | other "
                  "| round median s | round max s |", "|---|---|---|---|---|---|---|---|"]
        for scale, name, burst in bursts:
            lines.append(f"| {_scale_name(scale)} | {name} | {burst['size']} × "
                         f"{burst['rounds']} | {burst['answered']} | {burst['refused_503']} | "
                         f"{burst['other']} | {_num(burst['round_s_median'], 2)} | "
                         f"{_num(burst['round_s_max'], 2)} |")
        lines.append("")
    for scale in sorted((s for s, v in data["scales"].items() if v.get("servers")), key=int):
        lines += [f"## {_scale_name(scale)} triples", ""]
        _sparql_tables(data, int(scale), lines)
        _deref_table(data, int(scale), lines)
    lines += [
        "¹ measured with sequential requests (the first answer took over a second), "
        "not wrk.", "",
        "Modes: *unique* adds a comment with a fresh number to every query, so no cache "
        "can answer it (every request is evaluated); *repeated* sends the same text each "
        "time, as a web page embedding a query does. *answer rows* lists the distinct row "
        "counts the servers answered with (one number: they agree; kiezgraph's store also "
        "holds the catalogue and VoID description the build adds, so queries over every "
        "type or every graph answer a few more rows there). Requests/s counts successful "
        "answers only; ⚠ marks measurements with error answers (e.g. 503 when more queries "
        "arrive than the endpoint admits at once).", "",
        "## Queries", ""]
    seen = set()
    for scale in sorted(data["scales"], key=int):
        for name, text in data["scales"][scale].get("queries", {}).items():
            if name in seen or name.startswith("example:"):
                continue
            seen.add(name)
            lines += [f"`{name}` (sample IRIs differ per scale):", "", "```sparql", text,
                      "```", ""]
    lines += ["The `example:` queries are `tests/queries/*.rq`, unchanged.", ""]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines), encoding="utf-8")
