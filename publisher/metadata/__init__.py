"""Metadata about the published dataset: DCAT-AP.de catalogue, VoID, Berlin Datenregister record.

Importing the package registers the build step that writes catalog.ttl, void.ttl and
metadata.nq into every release (see publisher.metadata.step).
"""

from publisher.metadata.step import write_metadata

__all__ = ["write_metadata"]
