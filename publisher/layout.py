"""The names of a release's layout on disk: the output folder, its builds and their files.

publisher.build writes this layout and publisher.metadata adds to it; both (and the readers:
the stores, the loader, the web layer) take the names from here, so neither imports the other.
"""

from __future__ import annotations

__all__ = [
    "BUILDS",
    "BUILD_INFO",
    "BUILD_LOCK",
    "CATALOG_FILE",
    "CURRENT",
    "DATASET_NAME",
    "GRAPH_FILE",
    "INDEX",
    "METADATA_FILE",
    "SHAPES_FILE",
    "STORE_DIR",
    "SUMS_FILE",
    "VALIDATION_FILE",
    "VOID_FILE",
]

DATASET_NAME = "kiezgraph-pankow"  # dumps are <DATASET_NAME>-<version>.<suffix>

# In the output folder (setting `out`):
INDEX = "releases.json"  # the releases kept, oldest first
CURRENT = "current"  # symbolic link to the build being published
BUILDS = "builds"  # one folder per build, named by its build id
BUILD_LOCK = ".build.lock"  # held by the build writing a release (publisher.build)

# In a build's folder:
GRAPH_FILE = "graph.nq"  # the canonical N-Quads the stores load
BUILD_INFO = "build.json"  # what the build holds: version, counts, files and their hashes
SUMS_FILE = "SHA256SUMS"  # the checksums of the downloadable files
VALIDATION_FILE = "validation.txt"  # the SHACL report; its last line starts "OK" if it conforms
CATALOG_FILE = "catalog.ttl"  # the DCAT-AP.de catalogue (publisher.metadata)
VOID_FILE = "void.ttl"  # the VoID description (publisher.metadata)
METADATA_FILE = "metadata.nq"  # catalogue + VoID in <base>graph/metadata (publisher.metadata)
SHAPES_FILE = "shapes.ttl"  # the shapes as published: plain SHACL, absolute IRIs
STORE_DIR = "store"  # the graph as an on-disk pyoxigraph store (publisher.store.embedded)
