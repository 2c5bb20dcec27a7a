"""A SPARQL worker process: holds a pyoxigraph store and answers jobs over its channel.

Started by publisher.store.engine.pool (through publisher.children) as
`python -m publisher.store.engine.worker FD PARENT SOURCE...`, where the sources are
N-Quads files (loaded into memory), one on-disk store folder (opened read-only, shared with
the web process and the other workers through the page cache), or the folder followed by
the files (the folder answers until the files are loaded). It imports only pyoxigraph and
the serialisers, so a replacement starts quickly. Jobs and answers are JSON headers (an
answer's body as raw bytes): the parent never unpickles what a worker sends.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

from publisher.children import Channel, Gone, attach
from publisher.sparql.sandbox import confine_or_exit

if TYPE_CHECKING:  # imported where used, so a worker starts before it needs them
    import pyoxigraph as ox

    from publisher.sparql.results import Serialised

__all__ = ["READY", "STACK_BYTES", "UNION", "Job", "QueryOptions", "evaluate", "load", "serve"]

READY = {"kind": "ready"}  # the first frame a worker sends, once its store is loaded
STACK_BYTES = 512 << 20  # the evaluating thread's stack (see serve)
# Materialises the default graph as the union of the named graphs, as a set of triples.
UNION = "INSERT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }"


class QueryOptions(TypedDict, total=False):
    """The keyword arguments of pyoxigraph's Store.query that the stores pass."""

    base_iri: str | None
    use_default_graph_as_union: bool
    default_graph: list[ox.NamedNode | ox.BlankNode | ox.DefaultGraph]
    named_graphs: list[ox.NamedNode | ox.BlankNode]


@dataclass(frozen=True)
class Job:
    """One query for a worker: small, sent as a JSON header."""

    query: str
    media_type: str
    max_results: int
    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()
    base_iri: str | None = None
    prefixes: tuple[tuple[str, str], ...] = ()
    max_bytes: int = 0  # bytes the serialised answer may hold (0: no limit)

    def header(self) -> dict[str, Any]:
        """The job as the worker is sent it: its fields as they are. Not dataclasses.asdict,
        which deep-copies every field: with the prefixes that was a fifth of a small
        query's time in the web process (bench/FINDINGS.md, section 12)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_header(cls, header: dict[str, Any]) -> Job:
        """The job a header describes (JSON has lists where the job has tuples)."""
        return cls(query=header["query"], media_type=header["media_type"],
                   max_results=header["max_results"],
                   default_graphs=tuple(header["default_graphs"]),
                   named_graphs=tuple(header["named_graphs"]), base_iri=header["base_iri"],
                   prefixes=tuple(tuple(pair) for pair in header["prefixes"]),
                   max_bytes=header["max_bytes"])


def evaluate(store: ox.Store, job: Job) -> Serialised:
    """Run a job on a pyoxigraph store and serialise its answer."""
    import pyoxigraph as ox

    from publisher.sparql.results import serialise

    options: QueryOptions = {"base_iri": job.base_iri}
    if job.default_graphs or job.named_graphs:
        options["default_graph"] = [ox.NamedNode(g) for g in job.default_graphs]
        options["named_graphs"] = [ox.NamedNode(g) for g in job.named_graphs]
    result = store.query(job.query, **options)
    return serialise(result, job.media_type, job.max_results, dict(job.prefixes) or None,
                     max_bytes=job.max_bytes)


def load(sources: str | Path | Sequence[str | Path]) -> ox.Store:
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


def serve(channel: Channel, sources: Sequence[str]) -> None:
    """Load the store, say ready, then answer jobs until the channel closes.

    The network goes first, before anything is read: a worker exits with its parent already
    (publisher.children.attach). The memory limit comes once the worker has started (its
    job thread's stack reserved, the store open), before any job is read, so `query_memory`
    counts what the graph loaded into memory and the queries take, not the start-up: a
    limit set first left too little for the start under ~320 MiB (issue #24)."""
    confine_or_exit()  # no network from here on: SERVICE reaches nothing (see sandbox)
    import os

    from publisher.store.engine.memory import apply_memory_limit

    if hasattr(os, "nice"):  # a runaway query must not take the CPU from dereferencing
        os.nice(10)
    # pyoxigraph parses and evaluates recursively: a query nesting a few thousand groups,
    # parentheses or operators (`!!!…`, `1+1+…`) overflows the main thread's 8 MB stack and
    # kills the process. Jobs run in a thread whose stack is deep enough for any query of
    # the accepted length (measured: 20,000 characters of nesting need well under 512 MB;
    # the stack is reserved address space, only the pages used cost memory). It starts
    # first, so its reservation is made before the limit, and waits for the store.
    holder: list[ox.Store] = []
    ready = threading.Event()
    threading.stack_size(STACK_BYTES)
    # (a daemon: should opening the store fail, the worker exits rather than wait on it)
    runner = threading.Thread(target=_answer_jobs, args=(channel, holder, ready),
                              name="kiezgraph-job", daemon=True)
    runner.start()
    threading.stack_size(0)
    paths = list(sources)
    on_disk = len(paths) > 1 and Path(paths[0]).is_dir()
    if on_disk:
        # An on-disk store and the files of the same graph: answer from the store at once
        # (it opens in milliseconds) and switch to the in-memory copy, 2-8x faster, once it
        # is loaded (a second or more from 100k triples), so no query waits for the load.
        holder.append(load(paths[0]))
        apply_memory_limit()  # setting query_memory; see that module

        def load_in_memory() -> None:
            holder[0] = load(paths[1:])

        threading.Thread(target=load_in_memory, daemon=True).start()
    elif Path(paths[0]).is_dir():  # the on-disk store alone: opening it is the start
        holder.append(load(paths))
        apply_memory_limit()
    else:
        apply_memory_limit()  # the graph loaded into memory counts against it
        holder.append(load(paths))
    channel.send(READY)
    ready.set()
    runner.join()


def _answer_jobs(channel: Channel, holder: list[ox.Store], ready: threading.Event) -> None:
    """Answer jobs with the store in holder[0] (it may be replaced) until the channel closes."""
    ready.wait()
    while True:
        try:
            header, _ = channel.receive()
        except Gone:
            return
        try:
            answer = evaluate(holder[0], Job.from_header(header))
        except SyntaxError as exc:
            channel.send({"kind": "syntax", "message": str(exc)})
            continue
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # pyo3 panics are BaseExceptions: an engine error
            # becomes a message, never a dead worker
            channel.send({"kind": "error", "message": f"{type(exc).__name__}: {exc}"})
            continue
        channel.send({"kind": "ok", "media_type": answer.media_type, "count": answer.count,
                      "truncated": answer.truncated}, answer.body)


if __name__ == "__main__":
    serve(*attach(sys.argv[1:]))
