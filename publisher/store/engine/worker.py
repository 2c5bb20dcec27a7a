"""A SPARQL worker process: holds a pyoxigraph store and answers jobs over a socket.

Started by publisher.store.engine.pool as `python -m publisher.store.engine.worker FD SOURCE...`,
where the sources are N-Quads files (loaded into memory), one on-disk store folder (opened
read-only, shared with the web process and the other workers through the page cache), or
the folder followed by the files (the folder answers until the files are loaded). It
imports only pyoxigraph and the serialisers, so a replacement starts quickly.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

from publisher.sparql.sandbox import confine_or_exit

__all__ = ["READY", "STACK_BYTES", "UNION", "Job", "evaluate", "load", "serve"]

READY = b"ready"
STACK_BYTES = 512 << 20  # the evaluating thread's stack (see serve)
# Materialises the default graph as the union of the named graphs, as a set of triples.
UNION = "INSERT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }"


@dataclass(frozen=True)
class Job:
    """One query for a worker: small and picklable."""

    query: str
    media_type: str
    max_results: int
    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()
    base_iri: str | None = None
    prefixes: tuple[tuple[str, str], ...] = ()
    max_bytes: int = 0  # bytes the serialised answer may hold (0: no limit)


def evaluate(store, job: Job):
    """Run a job on a pyoxigraph store and serialise its answer."""
    import pyoxigraph as ox

    from publisher.sparql.results import serialise

    options: dict = {"base_iri": job.base_iri}
    if job.default_graphs or job.named_graphs:
        options["default_graph"] = [ox.NamedNode(g) for g in job.default_graphs]
        options["named_graphs"] = [ox.NamedNode(g) for g in job.named_graphs]
    result = store.query(job.query, **options)
    return serialise(result, job.media_type, job.max_results, dict(job.prefixes) or None,
                     max_bytes=job.max_bytes)


def load(sources: str | Path | Sequence[str | Path]):
    """The store of a release: an on-disk store folder opened read-only, or N-Quads files
    loaded into memory with the default graph made the union of their graphs.

    The union is materialised rather than asked for with use_default_graph_as_union:
    pyoxigraph's union repeats a triple once per graph holding it, so counts and
    solutions would depend on how the sources are split into files. FROM and the
    protocol's default-graph-uri still pick single graphs. (An on-disk store is written
    with the union already in it, see publisher.store.embedded.write_store.)
    """
    import pyoxigraph as ox

    paths = [Path(sources)] if isinstance(sources, str | Path) else [Path(s) for s in sources]
    if len(paths) == 1 and paths[0].is_dir():
        return ox.Store.read_only(str(paths[0]))
    store = ox.Store()
    for path in paths:
        store.bulk_load(path=str(path), format=ox.RdfFormat.N_QUADS)
    store.update(UNION)
    return store


def serve(conn: Connection, sources: Sequence[str]) -> None:
    """Load the store, say ready, then answer jobs until the socket closes."""
    confine_or_exit()  # no network from here on: SERVICE reaches nothing (see sandbox)
    import os
    import threading
    import time

    from publisher.store.engine.memory import apply_memory_limit

    apply_memory_limit(reserved=STACK_BYTES)  # setting query_memory; see that module
    if hasattr(os, "nice"):  # a runaway query must not take the CPU from dereferencing
        os.nice(10)
    parent = os.getppid()

    def exit_with_parent() -> None:
        """A server that dies mid-query never closes the socket's other end for us: without
        this, a runaway query would keep an orphaned worker busy for ever."""
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=exit_with_parent, daemon=True).start()
    paths = list(sources)
    if len(paths) > 1 and Path(paths[0]).is_dir():
        # An on-disk store and the files of the same graph: answer from the store at once
        # (it opens in milliseconds) and switch to the in-memory copy, 2-8x faster, once it
        # is loaded (a second or more from 100k triples), so no query waits for the load.
        holder = [load(paths[0])]

        def load_in_memory() -> None:
            holder[0] = load(paths[1:])

        threading.Thread(target=load_in_memory, daemon=True).start()
    else:
        holder = [load(paths)]
    conn.send_bytes(READY)
    # pyoxigraph parses and evaluates recursively: a query nesting a few thousand groups,
    # parentheses or operators (`!!!…`, `1+1+…`) overflows the main thread's 8 MB stack and
    # kills the process. Jobs run in a thread whose stack is deep enough for any query of
    # the accepted length (measured: 20,000 characters of nesting need well under 512 MB;
    # the stack is reserved address space, only the pages used cost memory).
    threading.stack_size(STACK_BYTES)
    runner = threading.Thread(target=_answer_jobs, args=(conn, holder), name="kiezgraph-job")
    runner.start()
    runner.join()


def _answer_jobs(conn: Connection, holder: list) -> None:
    """Answer jobs with the store in holder[0] (it may be replaced) until the socket closes."""
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        try:
            answer = evaluate(holder[0], job)
        except SyntaxError as exc:
            conn.send(("syntax", str(exc)))
            continue
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # pyo3 panics are BaseExceptions: an engine error
            # becomes a message, never a dead worker
            conn.send(("error", f"{type(exc).__name__}: {exc}"))
            continue
        conn.send(("ok", answer.media_type, answer.count, answer.truncated))
        conn.send_bytes(answer.body)


if __name__ == "__main__":
    serve(Connection(int(sys.argv[1])), sys.argv[2:])
