"""How long "which releases held this thing" takes (issue 25): the TimeGate, TimeMap, memento
links and the 410 all ask publisher.web.memento.existed() first.

Builds RELEASES releases of the bundled data (each adds one event, so each is a new release),
then asks existed() for THINGS things with nothing remembered yet: the first lookup of the
process, and the mean of the next ones. A measurement to run by hand, not a timed test:

    PYTHONPATH=. python -m bench.memento_lookup [--releases 20] [--things 20] [--keep DIR]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from publisher.build import build
from publisher.config import load_settings
from publisher.project import Project
from publisher.releases import list_releases

ROOT = Path(__file__).resolve().parent.parent
EVENT = """
<id/event/messprobe-{n}> a <http://schema.org/Event> ;
    <http://www.w3.org/2000/01/rdf-schema#label> "Messprobe {n}"@de ;
    <http://schema.org/name> "Messprobe {n}"@de ;
    <http://schema.org/startDate> "2026-06-{day:02d}"^^<http://www.w3.org/2001/XMLSchema#date> ;
    <http://purl.org/dc/terms/source> <https://example.org/messprobe/{n}> .
"""

def _build(folder: Path, releases: int):
    work, out = folder / "work", folder / "out"
    if not work.exists():
        for part in ("ontology", "data", "shapes"):
            shutil.copytree(ROOT / part, work / part)
    settings = load_settings(env={}, overrides={"out": str(out), "rewrite_base": False})
    have = len(list_releases(out)) if out.exists() else 0
    for n in range(have, releases):
        (work / "data" / "zz-messprobe.ttl").write_text(
            "".join(EVENT.format(n=i, day=i % 28 + 1) for i in range(n + 1)), encoding="utf-8")
        started = time.monotonic()
        build(Project(work), settings, out)
        print(f"release {n + 1}/{releases} built in {time.monotonic() - started:.1f} s",
              flush=True)
        time.sleep(1.1)  # published_at has whole seconds
    return settings, list_releases(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--releases", type=int, default=20)
    parser.add_argument("--things", type=int, default=20)
    parser.add_argument("--keep", type=Path, help="build here and keep it (reused next time)")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="memento-lookup-"))
    folder.mkdir(parents=True, exist_ok=True)
    settings, releases = _build(folder, args.releases)

    from publisher import describe
    from publisher.web import create_app
    from publisher.web.memento import existed

    app = create_app(settings, release=releases[-1])
    base = settings.base_uri
    with app.test_request_context("/"):
        store = app.extensions["kiezgraph"].published.store
        rows = store.select(f'SELECT DISTINCT ?s WHERE {{ ?s ?p ?o FILTER(STRSTARTS(STR(?s), '
                            f'"{base}id/")) }} ORDER BY ?s LIMIT {args.things}')
        things = [str(r["s"])[len(base):] for r in rows]
        assert things and describe is not None
        times = []
        for thing in things:
            started = time.perf_counter()
            held = existed(thing)
            times.append((time.perf_counter() - started) * 1000)
            assert held, thing
    print(f"{len(releases)} releases, {len(things)} things: first lookup {times[0]:.1f} ms, "
          f"then mean {statistics.mean(times[1:]):.1f} ms, "
          f"median {statistics.median(times[1:]):.1f} ms, max {max(times[1:]):.1f} ms "
          f"per thing")
    if args.keep is None:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
