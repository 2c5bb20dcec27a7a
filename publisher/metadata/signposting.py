"""Signposting (signposting.org): the typed links a landing page sends in its Link header."""

from __future__ import annotations

from collections.abc import Iterable

from publisher.metadata.names import Names
from publisher.namespaces import SCHEMA_HTTPS

__all__ = ["ABOUT_PAGE", "DATASET_TYPE", "link_header", "signposting_links"]

ABOUT_PAGE = SCHEMA_HTTPS + "AboutPage"
DATASET_TYPE = SCHEMA_HTTPS + "Dataset"


def link_header(links: Iterable[tuple[str, str, str | None]]) -> str:
    """A Link header value from (target, rel, media type or None) triples (RFC 8288)."""
    parts = []
    for target, rel, media_type in links:
        part = f'<{target}>; rel="{rel}"'
        if media_type:
            part += f'; type="{media_type}"'
        parts.append(part)
    return ", ".join(parts)


def signposting_links(base: str, license_iri: str, *, cite_as: str | None = None,
                      types: Iterable[str] = (ABOUT_PAGE,),
                      described_by: Iterable[tuple[str, str]] = ()) -> str:
    """describedby, cite-as, license and type links for a page under `base`.

    cite_as is the persistent IRI of what the page is about (default: the dataset);
    described_by adds (url, media type) pairs before the catalogue's own.
    """
    names = Names(base)
    links: list[tuple[str, str, str | None]] = [
        (url, "describedby", media_type) for url, media_type in described_by]
    links += [(f"{names.catalog}.ttl", "describedby", "text/turtle"),
              (f"{names.catalog}.jsonld", "describedby", "application/ld+json"),
              (cite_as or str(names.dataset), "cite-as", None),
              (license_iri, "license", None)]
    links += [(t, "type", None) for t in types]
    return link_header(links)
