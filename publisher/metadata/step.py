"""The build step that writes the catalogue, the VoID and the queryable metadata graph."""

from __future__ import annotations

import hashlib
from pathlib import Path

from rdflib import Dataset

from publisher.config import Settings
from publisher.layout import CATALOG_FILE, GRAPH_FILE, METADATA_FILE, VOID_FILE
from publisher.metadata.catalog import catalog_graph, temporal_extent
from publisher.metadata.names import Names
from publisher.metadata.void import compute_statistics, void_graph

__all__ = ["CATALOG_FILE", "METADATA_FILE", "VOID_FILE", "metadata_dataset", "write_metadata"]


def metadata_dataset(base: str, info: dict, settings: Settings) -> Dataset:
    """Catalogue and VoID together in the named graph <base>graph/metadata."""
    dataset = Dataset()
    graph = dataset.graph(Names(base).graph)
    for part in (catalog_graph(base, info, settings), void_graph(base, info)):
        for triple in part:
            graph.add(triple)
    return dataset


def _entry(path: Path) -> dict:
    data = path.read_bytes()
    return {"name": path.name, "format": "turtle", "media_type": "text/turtle",
            "compressed": False, "role": "metadata", "bytes": len(data),
            "sha256": hashlib.sha256(data).hexdigest()}


def write_metadata(release_dir: Path, info: dict, settings: Settings, sources=None) -> None:
    """Compute the VoID statistics, then write catalog.ttl, void.ttl and metadata.nq."""
    base = info["base_uri"]
    graph_file = Path(release_dir) / GRAPH_FILE
    info["void"] = compute_statistics(graph_file, base)
    extent = temporal_extent(graph_file)
    info["catalog"] = {"temporal": list(extent) if extent else None}
    catalog = catalog_graph(base, info, settings)
    void = void_graph(base, info)
    (Path(release_dir) / CATALOG_FILE).write_text(catalog.serialize(format="turtle"),
                                                  encoding="utf-8")
    (Path(release_dir) / VOID_FILE).write_text(void.serialize(format="turtle"),
                                               encoding="utf-8")
    quads = metadata_dataset(base, info, settings).serialize(format="nquads")
    lines = sorted({line for line in quads.splitlines() if line.strip()})
    (Path(release_dir) / METADATA_FILE).write_text("\n".join(lines) + "\n", encoding="utf-8")
    info["files"].extend(_entry(Path(release_dir) / name) for name in (CATALOG_FILE, VOID_FILE))
