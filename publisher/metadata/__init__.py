"""Metadata about the published dataset: DCAT-AP.de catalogue, VoID, Berlin Datenregister record.

publisher.build calls publisher.metadata.step.write_metadata for every release, which writes
catalog.ttl, void.ttl and metadata.nq.
"""

from publisher.metadata.step import write_metadata

__all__ = ["write_metadata"]
