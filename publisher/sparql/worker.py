"""A SPARQL worker process: holds a pyoxigraph store and answers jobs over a socket.

Started by publisher.sparql.executor as `python -m publisher.sparql.worker FD GRAPH_FILE`;
it imports only pyoxigraph and the serialisers, so a replacement starts quickly.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from multiprocessing.connection import Connection

__all__ = ["READY", "Job", "evaluate", "load", "serve"]

READY = b"ready"


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


def evaluate(store, job: Job):
    """Run a job on a pyoxigraph store and serialise its answer."""
    import pyoxigraph as ox

    from publisher.sparql.results import serialise

    options: dict = {"base_iri": job.base_iri}
    if job.default_graphs or job.named_graphs:
        options["default_graph"] = [ox.NamedNode(g) for g in job.default_graphs]
        options["named_graphs"] = [ox.NamedNode(g) for g in job.named_graphs]
    result = store.query(job.query, **options)
    return serialise(result, job.media_type, job.max_results, dict(job.prefixes) or None)


def load(graph_file: str):
    """A store whose default graph is the union of the file's graphs, as a set of triples.

    The union is materialised rather than asked for with use_default_graph_as_union:
    pyoxigraph's union repeats a triple once per graph holding it, so counts and
    solutions would depend on how the sources are split into files. FROM and the
    protocol's default-graph-uri still pick single graphs.
    """
    import pyoxigraph as ox

    store = ox.Store()
    store.bulk_load(path=graph_file, format=ox.RdfFormat.N_QUADS)
    default = ox.DefaultGraph()
    store.bulk_extend(ox.Quad(q.subject, q.predicate, q.object, default)
                      for q in list(store) if q.graph_name != default)
    return store


def serve(conn: Connection, graph_file: str) -> None:
    """Load the store, say ready, then answer jobs until the socket closes."""
    import os
    import threading
    import time

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
    store = load(graph_file)
    conn.send_bytes(READY)
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        try:
            answer = evaluate(store, job)
        except SyntaxError as exc:
            conn.send(("syntax", str(exc)))
            continue
        except Exception as exc:  # an engine error becomes a message, never a dead worker
            conn.send(("error", f"{type(exc).__name__}: {exc}"))
            continue
        conn.send(("ok", answer.media_type, answer.count, answer.truncated))
        conn.send_bytes(answer.body)


if __name__ == "__main__":
    serve(Connection(int(sys.argv[1])), sys.argv[2])
