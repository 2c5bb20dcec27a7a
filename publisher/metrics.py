"""Process-wide counters that any module may increment; the web layer exposes them at /metrics.

prometheus_client rather than our own: it gets the exposition format (escaping, histogram
buckets, `_total` suffixes) and thread safety right, and it has no web dependency, so the
core can count events without knowing it is served.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from prometheus_client import CollectorRegistry, Counter, disable_created_metrics

__all__ = ["REGISTRY", "counter", "network_attempts", "query_timeouts", "reloads"]

# `*_created` timestamps only add noise to a small server's scrape.
disable_created_metrics()
REGISTRY = CollectorRegistry(auto_describe=True)
_lock = threading.Lock()
_counters: dict[str, Counter] = {}


def counter(name: str, help: str, labels: Sequence[str] = ()) -> Counter:
    """The process-wide counter of this name, made on first use (`name` without `_total`)."""
    with _lock:
        found = _counters.get(name)
        if found is None:
            found = Counter(name, help, tuple(labels), registry=REGISTRY)
            _counters[name] = found
        return found


def query_timeouts() -> Counter:
    """SPARQL queries stopped at the time limit."""
    return counter("kiezgraph_sparql_query_timeouts",
                   "SPARQL queries stopped because they ran longer than query_timeout.")


def network_attempts() -> Counter:
    """Queries whose engine tried the network past the check (the sandbox refused it)."""
    return counter("kiezgraph_sparql_network_attempts",
                   "SPARQL queries whose engine tried to open a connection that the check "
                   "did not foresee; the sandbox refused it and the client got 403.")


def reloads() -> Counter:
    """Reload attempts by outcome (swapped, refused, unchanged)."""
    return counter("kiezgraph_reloads", "Attempts to serve a new build, by outcome.",
                   ("outcome",))
