"""What a query ends in: its answer, already serialised, or the error that stopped it.

Below both the SPARQL layer and the stores: the stores (publisher.store) raise these and
return QueryAnswer, the query machinery (guard, answer cache) and the web layer read them.
publisher.store.base re-exports them with the Store interface, the names the web layer uses.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "EngineReachedOut",
    "QueryAborted",
    "QueryAnswer",
    "QueryFailed",
    "QuerySyntaxError",
    "QueryTimeout",
    "StoreError",
    "StoreUnavailable",
]


class StoreError(RuntimeError):
    """The store refused or failed a query."""


class StoreUnavailable(StoreError):
    """The store cannot be reached right now; try again later."""


class QueryTimeout(StoreError):
    """A query ran longer than its time limit and was stopped."""


class QueryAborted(StoreError):
    """The engine gave up a query (over its memory limit, or it crashed); the store still
    answers other queries."""


class QuerySyntaxError(StoreError):
    """The engine could not parse a query; the message names the position."""


class QueryFailed(StoreError):
    """The engine refused to evaluate a query (an unknown function, a type it cannot
    handle, …): the query's fault, answered 400 with the engine's words."""


class EngineReachedOut(QueryFailed):
    """The engine tried to open a connection for a query (SERVICE the check did not see)
    and the sandbox refused it: answered as any SERVICE refusal, logged and counted."""


@dataclass(frozen=True)
class QueryAnswer:
    """A query's answer, already serialised: what `Store.run_query` returns."""

    body: bytes
    media_type: str
    count: int  # rows (SELECT), triples (CONSTRUCT/DESCRIBE) or 1 (ASK)
    truncated: bool  # True when max_results cut the answer short
