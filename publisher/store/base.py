"""The store interface every backend implements, and its errors."""

from __future__ import annotations

from typing import Any, Protocol

from rdflib import Graph

__all__ = ["Store", "StoreError", "StoreUnavailable"]


class StoreError(RuntimeError):
    """The store refused or failed a query."""


class StoreUnavailable(StoreError):
    """The store cannot be reached right now; try again later."""


class Store(Protocol):
    """What the web layer and the metadata need from a store."""

    name: str

    def select(self, query: str) -> list[dict[str, Any]]:
        """Rows of a SELECT query, each variable bound to an rdflib term."""
        ...

    def ask(self, query: str) -> bool:
        """The answer of an ASK query."""
        ...

    def construct(self, query: str) -> Graph:
        """The graph of a CONSTRUCT or DESCRIBE query."""
        ...

    def triple_count(self) -> int:
        """How many distinct triples the published graph holds."""
        ...

    def ping(self) -> bool:
        """Whether the store answers right now."""
        ...
