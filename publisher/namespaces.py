"""Every namespace kiezgraph uses, and the one prefix table.

Why one module: the namespaces used to be spelled again in some sixteen modules, with four
prefix tables that had drifted apart (the query page's said https://schema.org/ where the
data, and the other three, say http://schema.org/). A namespace is now spelled here only, and
every prefix table (the query page's default prefixes, the prefixes bound for serialisation
and for qnames on pages, the workbooks' compact IRIs) is `PREFIXES` or a part of it.

Where rdflib has the vocabulary its namespace object is used (for most a closed term list,
so a misspelt term raises instead of naming nothing); schema.org is ours, since rdflib's SDO is
https://schema.org/ and the data, like schema.org's own RDF, says http://schema.org/. The
ontology's namespace lies under the configured base, so it is a function, `kg(base)`.

This is a base-layer module: it imports rdflib only. (The SPARQL query worker imports no
rdflib, so its two serialiser modules spell the XSD datatypes they need themselves.)
"""

from __future__ import annotations

from collections.abc import Iterable

from rdflib import Graph, Namespace
from rdflib.namespace import (
    DCAT,
    DCTERMS,
    FOAF,
    GEO,
    ORG,
    OWL,
    PROV,
    RDF,
    RDFS,
    SH,
    SKOS,
    TIME,
    VANN,
    VOID,
    XSD,
)

__all__ = [
    "ADMS",
    "CV",
    "DCAT",
    "DCATDE",
    "DCTERMS",
    "ENT",
    "FOAF",
    "FORMATS",
    "GEO",
    "LOCN",
    "MEMENTO",
    "ORG",
    "OWL",
    "PREFIXES",
    "PROV",
    "RDF",
    "RDFS",
    "SCHEMA",
    "SCHEMA_HTTPS",
    "SD",
    "SH",
    "SKOS",
    "SPDX",
    "TIME",
    "VANN",
    "VCARD",
    "VOID",
    "WGS",
    "XSD",
    "bind",
    "kg",
    "prefixes",
]

# schema.org as the data and schema.org's RDF name it (rdflib's SDO says https).
SCHEMA = Namespace("http://schema.org/")
# The https form, for JSON-LD that search engines read (schema.org's context maps terms there);
# never for the graph's data.
SCHEMA_HTTPS = "https://schema.org/"
CV = Namespace("http://data.europa.eu/m8g/")  # Core Vocabularies (CPOV: PublicOrganisation)
LOCN = Namespace("http://www.w3.org/ns/locn#")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
SPDX = Namespace("http://spdx.org/rdf/terms#")
DCATDE = Namespace("http://dcat-ap.de/def/dcatde/")
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
FORMATS = Namespace("http://www.w3.org/ns/formats/")
ENT = Namespace("http://www.w3.org/ns/entailment/")
ADMS = Namespace("http://www.w3.org/ns/adms#")  # adms:versionNotes of a release (issue 25)
MEMENTO = Namespace("http://mementoweb.org/ns#")  # RFC 7089's TimeMap as RDF (issue 25)
# W3C Basic Geo (lat/long); rdflib's WGS says https, the vocabulary is http.
WGS = Namespace("http://www.w3.org/2003/01/geo/wgs84_pos#")

# The one prefix table: prefix -> namespace IRI, one prefix per IRI. (kg: is not here: it
# depends on the base, see kg().)
PREFIXES: dict[str, str] = {
    "rdf": str(RDF),
    "rdfs": str(RDFS),
    "owl": str(OWL),
    "xsd": str(XSD),
    "skos": str(SKOS),
    "dcterms": str(DCTERMS),
    "org": str(ORG),
    "prov": str(PROV),
    "schema": str(SCHEMA),
    "foaf": str(FOAF),
    "time": str(TIME),
    "cv": str(CV),
    "sh": str(SH),
    "vann": str(VANN),
    "dcat": str(DCAT),
    "void": str(VOID),
    "locn": str(LOCN),
    "geo": str(GEO),  # GeoSPARQL, as the pages have always bound geo:
    "wgs": str(WGS),
    "vcard": str(VCARD),
    "spdx": str(SPDX),
    "dcatde": str(DCATDE),
    "sd": str(SD),
    "formats": str(FORMATS),
    "ent": str(ENT),
    "adms": str(ADMS),
    "memento": str(MEMENTO),
}


def kg(base: str) -> Namespace:
    """The project's ontology namespace (kg:), which lies under the configured base."""
    return Namespace(base + "ontology/")


def prefixes(*names: str) -> dict[str, str]:
    """The part of the prefix table with these prefixes, in this order (KeyError if unknown)."""
    return {name: PREFIXES[name] for name in names}


def bind(graph: Graph, names: Iterable[str], *, override: bool = True,
         replace: bool = False) -> Graph:
    """Bind these prefixes of the table on a graph (rdflib's defaults for override/replace)."""
    for name in names:
        graph.bind(name, PREFIXES[name], override=override, replace=replace)
    return graph
