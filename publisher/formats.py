"""The RDF and SPARQL result formats we offer: media types, suffixes, engine formats."""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox

__all__ = [
    "DERIVED_DATATYPES",
    "RDF_FORMATS",
    "RESULT_FORMATS",
    "TRIG",
    "RdfFormatInfo",
    "ResultFormatInfo",
    "rdf_format_by_media_type",
    "rdf_format_by_name",
]


@dataclass(frozen=True)
class RdfFormatInfo:
    """One RDF serialisation: its names, media types, file suffix and engine format."""

    name: str
    label: str
    media_type: str
    aliases: tuple[str, ...]
    suffix: str
    oxigraph: ox.RdfFormat
    eu_file_type: str
    graph: bool = True

    @property
    def media_types(self) -> tuple[str, ...]:
        """The preferred media type first, then the ones we also accept."""
        return (self.media_type, *self.aliases)


@dataclass(frozen=True)
class ResultFormatInfo:
    """One SPARQL SELECT/ASK result format."""

    name: str
    label: str
    media_type: str
    aliases: tuple[str, ...]
    suffix: str
    oxigraph: ox.QueryResultsFormat
    eu_file_type: str

    @property
    def media_types(self) -> tuple[str, ...]:
        """The preferred media type first, then the ones we also accept."""
        return (self.media_type, *self.aliases)


_EU = "http://publications.europa.eu/resource/authority/file-type/"
_XSD = "http://www.w3.org/2001/XMLSchema#"

# Properties whose values we type with a datatype derived from xsd:integer, by property IRI.
# pyoxigraph (and Virtuoso) keep such a value as xsd:integer: the catalogue read back from
# the store would say dcat:byteSize "5"^^xsd:integer, which DCAT-AP(.de) refuses (it must be
# xsd:nonNegativeInteger). Graph answers and documents put the datatype back from this table.
DERIVED_DATATYPES: dict[str, str] = {
    "http://www.w3.org/ns/dcat#byteSize": _XSD + "nonNegativeInteger",
}

# Order matters: the first is the default for clients that accept anything but HTML.
RDF_FORMATS: tuple[RdfFormatInfo, ...] = (
    RdfFormatInfo("turtle", "Turtle", "text/turtle", ("application/x-turtle",), "ttl",
                  ox.RdfFormat.TURTLE, _EU + "RDF_TURTLE"),
    RdfFormatInfo("jsonld", "JSON-LD", "application/ld+json", (), "jsonld",
                  ox.RdfFormat.JSON_LD, _EU + "JSON_LD"),
    RdfFormatInfo("rdfxml", "RDF/XML", "application/rdf+xml", ("application/xml", "text/xml"),
                  "rdf", ox.RdfFormat.RDF_XML, _EU + "RDF_XML"),
    RdfFormatInfo("ntriples", "N-Triples", "application/n-triples", ("text/plain",), "nt",
                  ox.RdfFormat.N_TRIPLES, _EU + "RDF_N_TRIPLES"),
    RdfFormatInfo("nquads", "N-Quads", "application/n-quads", (), "nq",
                  ox.RdfFormat.N_QUADS, _EU + "RDF_N_QUADS", graph=False),
)

# TriG is no dump format (the dumps' quads are N-Quads); a CONSTRUCT answer may be sent in it.
TRIG = RdfFormatInfo("trig", "TriG", "application/trig", (), "trig", ox.RdfFormat.TRIG,
                     _EU + "TRIG", graph=False)

RESULT_FORMATS: tuple[ResultFormatInfo, ...] = (
    ResultFormatInfo("json", "SPARQL JSON", "application/sparql-results+json",
                     ("application/json",), "srj", ox.QueryResultsFormat.JSON,
                     _EU + "JSON"),
    ResultFormatInfo("xml", "SPARQL XML", "application/sparql-results+xml",
                     ("application/xml", "text/xml"), "srx", ox.QueryResultsFormat.XML,
                     _EU + "XML"),
    ResultFormatInfo("csv", "CSV", "text/csv", (), "csv", ox.QueryResultsFormat.CSV,
                     _EU + "CSV"),
    ResultFormatInfo("tsv", "TSV", "text/tab-separated-values", (), "tsv",
                     ox.QueryResultsFormat.TSV, _EU + "TSV"),
)


def rdf_format_by_name(name: str) -> RdfFormatInfo | None:
    """The RDF format with this short name or suffix (turtle/ttl, jsonld, rdfxml/rdf, …)."""
    name = name.lower()
    for fmt in RDF_FORMATS:
        if name in (fmt.name, fmt.suffix):
            return fmt
    return None


def rdf_format_by_media_type(media_type: str) -> RdfFormatInfo | None:
    """The RDF format served under this media type, if any."""
    media_type = media_type.lower()
    for fmt in RDF_FORMATS:
        if media_type in fmt.media_types:
            return fmt
    return None
