"""The IRIs of the dataset's metadata (catalogue, dataset, distributions, service), from a base."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from rdflib import URIRef

from publisher.layout import DATASET_NAME

__all__ = ["METADATA_GRAPH", "Names", "rebase"]

METADATA_GRAPH = "graph/metadata"


def rebase(iri: str, old: str, new: str) -> str:
    """The IRI moved from one base to another (unchanged when it is not under the old one)."""
    return new + iri[len(old):] if old != new and iri.startswith(old) else iri


@dataclass(frozen=True)
class Names:
    """Stable IRIs of the metadata resources under one base; they never depend on the version."""

    base: str
    dataset_name: str = DATASET_NAME

    def term(self, path: str) -> URIRef:
        """The IRI of a path under the base."""
        return URIRef(self.base + path)

    @property
    def catalog(self) -> URIRef:
        """The dcat:Catalog (also the address of the catalogue document)."""
        return self.term("catalog")

    @property
    def dataset(self) -> URIRef:
        """The dataset: the dcat:Dataset and void:Dataset."""
        return self.term(f"id/dataset/{self.dataset_name}")

    @property
    def service(self) -> URIRef:
        """The dcat:DataService of the SPARQL endpoint."""
        return self.term("id/service/sparql")

    @property
    def sparql(self) -> URIRef:
        """The SPARQL endpoint (and its service description)."""
        return self.term("sparql")

    @property
    def publisher(self) -> URIRef:
        """The publisher, the district office, as the graph itself names it."""
        return self.term("id/organisation/bezirksamt-pankow")

    @property
    def contact(self) -> URIRef:
        """The contact point (vcard:Kind)."""
        return self.term(f"id/contact/{self.dataset_name}")

    @property
    def downloads(self) -> URIRef:
        """The download listing."""
        return self.term("download/")

    @property
    def void(self) -> URIRef:
        """The VoID document."""
        return self.term(".well-known/void")

    @property
    def graph(self) -> URIRef:
        """The named graph the metadata sits in inside the store."""
        return self.term(METADATA_GRAPH)

    def download(self, filename: str) -> URIRef:
        """A file under /download/."""
        return self.term(f"download/{filename}")

    def distribution(self, fmt: str) -> URIRef:
        """The distribution of one dump format (stable across versions)."""
        return self.term(f"id/distribution/{self.dataset_name}-{fmt}")

    def part(self, kind: str, key: str) -> URIRef:
        """A fragment IRI below the dataset for a partition or linkset; stable for the same key."""
        slug = key if key.replace("-", "").isalnum() else hashlib.sha256(
            key.encode("utf-8")).hexdigest()[:12]
        return URIRef(f"{self.dataset}#{kind}-{slug}")
