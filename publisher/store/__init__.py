"""Where the published graph is queried from: the embedded store or a remote SPARQL endpoint."""

from publisher.store.base import Store, StoreError, StoreUnavailable
from publisher.store.embedded import EmbeddedStore

__all__ = ["EmbeddedStore", "Store", "StoreError", "StoreUnavailable", "open_store"]


def open_store(settings, release=None) -> Store:
    """The store the settings name: a remote endpoint when `store` is set, else embedded."""
    if settings.store:
        from publisher.store.remote import RemoteStore

        return RemoteStore.from_settings(settings)
    return EmbeddedStore.from_release(
        release, query_workers=settings.query_workers,
        in_memory_max_triples=settings.store_in_memory_max_triples)
