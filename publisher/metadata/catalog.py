"""The DCAT-AP.de 3.0 catalogue: catalogue, dataset, distributions, SPARQL service."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph, Literal, URIRef

from publisher.config import Settings
from publisher.formats import RDF_FORMATS
from publisher.metadata.names import Names
from publisher.namespaces import (
    ADMS,
    DCAT,
    DCATDE,
    DCTERMS,
    FOAF,
    RDF,
    SKOS,
    SPDX,
    VCARD,
    XSD,
    bind,
)

__all__ = [
    "DCATDE",
    "IANA",
    "SPDX",
    "VCARD",
    "catalog_graph",
    "dump_entries",
    "temporal_extent",
]

IANA = "https://www.iana.org/assignments/media-types/"
EU = "http://publications.europa.eu/resource/authority/"
GEO = "http://dcat-ap.de/def/politicalGeocoding/"

TITLE = {
    "de": "Kooperationsnetz der Nachbarschaftsarbeit in Berlin-Pankow (kiezgraph)",
    "en": "Cooperation network of neighbourhood work in Berlin-Pankow (kiezgraph)",
}
DESCRIPTION = {
    "de": "Das Kooperationsnetz der Nachbarschafts-, Stadtteil- und Selbsthilfearbeit im Bezirk "
          "Pankow als Linked Open Data: die Kooperationsvereinbarung vom 05.05.2022 zwischen "
          "dem Bezirksamt Pankow, den Stadtteilzentren und ihren Trägern, der "
          "Selbsthilfekontaktstelle, der FreiwilligenAgentur, Verbänden und der "
          "Senatsverwaltung; jede Aussage mit ihrer öffentlichen Quelle.",
    "en": "The cooperation network of neighbourhood, community and self-help work in the "
          "Pankow district of Berlin as linked open data: the cooperation agreement of "
          "2022-05-05 between the district office, the neighbourhood centres and their "
          "operators, the self-help contact point, the volunteer agency, associations and the "
          "Senate department; every statement with its public source.",
}
KEYWORDS = {
    "de": ("Nachbarschaftsarbeit", "Stadtteilzentrum", "Selbsthilfe", "Kooperationsvereinbarung",
           "Pankow", "Linked Open Data"),
    "en": ("neighbourhood work", "neighbourhood centre", "self-help", "cooperation agreement",
           "Pankow", "linked open data"),
}
PUBLISHER_NAME = "Bezirksamt Pankow von Berlin"
PUBLISHER_TYPE = URIRef("http://purl.org/adms/publishertype/LocalAuthority")
# The data themes with their labels as the EU data-theme table gives them.
THEMES = {
    "SOCI": {"de": "Bevölkerung und Gesellschaft", "en": "Population and society"},
    "GOVE": {"de": "Regierung und öffentlicher Sektor", "en": "Government and public sector"},
    "REGI": {"de": "Regionen und Städte", "en": "Regions and cities"},
}
LANGUAGES = ("DEU", "ENG")
FREQUENCY = URIRef(EU + "frequency/IRREG")
ACCESS_RIGHTS = URIRef(EU + "access-right/PUBLIC")
# Confirmed dcat-ap.de political geocoding IRIs for Berlin (state key 11, regional key
# 110000000000), and Pankow's district (Bezirk 03) in BerlinOnline's LOR linked data
# (berlinonline/lod-berlin-lor, bin/geojson2rdf.py: lor['bez_03'], named "Pankow").
SPATIAL = (
    URIRef(GEO + "stateKey/11"),
    URIRef(GEO + "regionalKey/110000000000"),
    URIRef("https://berlinonline.github.io/lod-berlin-lor/bez_03"),
)
SPARQL_PROTOCOL = URIRef("https://www.w3.org/TR/sparql11-protocol/")

# DCAT-AP 3 checks the class of what a property points to (its range), also for IRIs from
# controlled vocabularies, so the catalogue states those classes for every value it uses.
RANGES = {
    DCTERMS.accessRights: DCTERMS.RightsStatement,
    DCTERMS.accrualPeriodicity: DCTERMS.Frequency,
    DCTERMS.conformsTo: DCTERMS.Standard,
    DCTERMS["format"]: DCTERMS.MediaTypeOrExtent,
    DCTERMS.language: DCTERMS.LinguisticSystem,
    DCTERMS.license: DCTERMS.LicenseDocument,
    DCTERMS.spatial: DCTERMS.Location,
    DCTERMS.type: SKOS.Concept,
    DCAT.landingPage: FOAF.Document,
    DCAT.mediaType: DCTERMS.MediaType,
    DCAT.theme: SKOS.Concept,
    FOAF.homepage: FOAF.Document,
}


def dump_entries(info: dict, dataset_name: str) -> list[dict]:
    """The uncompressed dump files of a build, one per RDF format, in the formats' order."""
    by_format = {f["format"]: f for f in info["files"]
                 if f["name"].startswith(dataset_name + "-") and not f["compressed"]}
    return [by_format[fmt.name] for fmt in RDF_FORMATS if fmt.name in by_format]


def temporal_extent(graph_file: str | Path) -> tuple[str, str] | None:
    """The earliest and latest xsd:date in the data graphs (not the ontology), if any."""
    store = ox.Store()
    store.bulk_load(path=str(graph_file), format=ox.RdfFormat.N_QUADS)
    result = store.query(
        f"""SELECT (MIN(?d) AS ?start) (MAX(?d) AS ?end) WHERE {{
             GRAPH ?g {{ ?s ?p ?d }}
             FILTER(CONTAINS(STR(?g), "/graph/data/")
                    && DATATYPE(?d) = <{XSD.date}>) }}""")
    if not isinstance(result, ox.QuerySolutions):  # a SELECT answers with solutions
        raise TypeError(f"a SELECT query answered with {type(result).__name__}")
    for row in result:
        if row["start"] is not None:
            return row["start"].value, row["end"].value
    return None


def _date(value: str) -> Literal:
    return Literal(value, datatype=XSD.date)


def _texts(graph: Graph, node, predicate, texts: dict[str, str]) -> None:
    for lang, text in texts.items():
        graph.add((node, predicate, Literal(text, lang=lang)))


def _agent(graph: Graph, names: Names) -> URIRef:
    agent = names.publisher
    graph.add((agent, RDF.type, FOAF.Agent))
    graph.add((agent, RDF.type, FOAF.Organization))
    graph.add((agent, FOAF.name, Literal(PUBLISHER_NAME, lang="de")))
    graph.add((agent, DCTERMS.type, PUBLISHER_TYPE))
    graph.add((PUBLISHER_TYPE, SKOS.prefLabel, Literal("Local Authority", lang="en")))
    return agent


def _contact(graph: Graph, names: Names, settings: Settings) -> URIRef | None:
    if not (settings.contact_email or settings.contact_url):
        return None
    contact = names.contact
    graph.add((contact, RDF.type, VCARD.Kind))
    graph.add((contact, RDF.type, VCARD.Organization))
    graph.add((contact, VCARD.fn, Literal(PUBLISHER_NAME, lang="de")))
    if settings.contact_email:
        email = settings.contact_email.removeprefix("mailto:")
        graph.add((contact, VCARD.hasEmail, URIRef(f"mailto:{email}")))
    if settings.contact_url:
        graph.add((contact, VCARD.hasURL, URIRef(settings.contact_url)))
    return contact


def _distribution(graph: Graph, names: Names, entry: dict, info: dict, license_: URIRef):
    fmt = next(f for f in RDF_FORMATS if f.name == entry["format"])
    dist = names.distribution(fmt.name)
    graph.add((dist, RDF.type, DCAT.Distribution))
    graph.add((dist, DCTERMS.identifier, Literal(str(dist))))
    graph.add((dist, DCTERMS.title, Literal(f"kiezgraph Pankow – {fmt.label}", lang="de")))
    graph.add((dist, DCTERMS.title, Literal(f"kiezgraph Pankow – {fmt.label}", lang="en")))
    graph.add((dist, DCTERMS.description, Literal(
        f"Der ganze Graph als {fmt.label}-Datei (Version {info['version']}); "
        f"gzip-komprimiert und frühere Versionen unter {names.downloads}.", lang="de")))
    graph.add((dist, DCTERMS.description, Literal(
        f"The whole graph as one {fmt.label} file (version {info['version']}); "
        f"gzipped copies and earlier versions at {names.downloads}.", lang="en")))
    graph.add((dist, DCAT.accessURL, names.downloads))
    graph.add((dist, DCAT.downloadURL, names.download(entry["name"])))
    graph.add((dist, DCTERMS["format"], URIRef(fmt.eu_file_type)))
    graph.add((dist, DCAT.mediaType, URIRef(IANA + fmt.media_type)))
    graph.add((dist, DCTERMS.license, license_))
    graph.add((dist, DCAT.byteSize, Literal(entry["bytes"], datatype=XSD.nonNegativeInteger)))
    checksum = URIRef(f"{dist}#checksum")
    graph.add((dist, SPDX.checksum, checksum))
    graph.add((checksum, RDF.type, SPDX.Checksum))
    graph.add((checksum, SPDX.algorithm, SPDX.checksumAlgorithm_sha256))
    graph.add((checksum, SPDX.checksumValue, Literal(entry["sha256"], datatype=XSD.hexBinary)))
    graph.add((dist, DCTERMS.issued, _date(info["issued"])))
    graph.add((dist, DCTERMS.modified, _date(info["modified"])))
    return dist


FIRST_NOTES = {"de": "Erste Version.", "en": "First release."}
# DCAT 3 terms rdflib's (closed) DCAT namespace predates.
VERSION, DATASET_SERIES, IN_SERIES, PREVIOUS_VERSION = (
    URIRef(str(DCAT) + name) for name in ("version", "DatasetSeries", "inSeries",
                                          "previousVersion"))


def _notes(graph: Graph, node: URIRef, summary: str) -> None:
    """adms:versionNotes: what changed, in the words of /changes (German), or "first"."""
    if summary:
        graph.add((node, ADMS.versionNotes, Literal(summary, lang="de")))
    else:
        _texts(graph, node, ADMS.versionNotes, FIRST_NOTES)


def _series(graph: Graph, names: Names, info: dict, publisher: URIRef) -> None:
    """The releases as a DCAT 3 dataset series: the dataset (the current release) and each
    kept earlier release (<dataset>-<version>, its dumps' name) are in the series, each
    pointing at the one before (dcat:previousVersion)."""
    dataset = names.dataset
    series = URIRef(f"{dataset}-series")
    graph.add((series, RDF.type, DATASET_SERIES))
    graph.add((series, DCTERMS.identifier, Literal(str(series))))
    _texts(graph, series, DCTERMS.title, {lang: f"{text} – Versionen" if lang == "de"
                                          else f"{text} – releases"
                                          for lang, text in TITLE.items()})
    _texts(graph, series, DCTERMS.description, {
        "de": "Alle Versionen des Datensatzes; jede bleibt abrufbar (Memento, /download/).",
        "en": "Every release of the dataset; each stays available (Memento, /download/)."})
    graph.add((series, DCTERMS.publisher, publisher))
    graph.add((dataset, IN_SERIES, series))
    changes = info.get("changes") or {}
    _notes(graph, dataset, changes.get("summary") or "")
    before: URIRef | None = None
    for entry in info.get("history") or []:
        past = URIRef(f"{dataset}-{entry['version']}")
        graph.add((past, RDF.type, DCAT.Dataset))
        graph.add((past, DCTERMS.identifier, Literal(str(past))))
        _texts(graph, past, DCTERMS.title, {lang: f"{text} – Version {entry['version']}"
                                            for lang, text in TITLE.items()})
        _texts(graph, past, DCTERMS.description, DESCRIPTION)
        graph.add((past, DCTERMS.publisher, publisher))
        graph.add((past, VERSION, Literal(entry["version"])))
        graph.add((past, IN_SERIES, series))
        if entry.get("issued"):
            graph.add((past, DCTERMS.issued, _date(entry["issued"])))
        if entry.get("modified"):
            graph.add((past, DCTERMS.modified, _date(entry["modified"])))
        _notes(graph, past, entry.get("notes") or "")
        if before is not None:
            graph.add((past, PREVIOUS_VERSION, before))
        before = past
    if before is not None:
        graph.add((dataset, PREVIOUS_VERSION, before))


def catalog_graph(base: str, info: dict, settings: Settings) -> Graph:
    """The DCAT-AP.de catalogue of a build, every IRI under `base` (request's or configured)."""
    names = Names(base)
    license_ = URIRef(settings.license)
    graph = Graph()
    bind(graph, ("dcat", "dcterms", "foaf", "dcatde", "spdx", "vcard", "adms"))
    publisher = _agent(graph, names)
    contact = _contact(graph, names, settings)

    catalog, dataset, service = names.catalog, names.dataset, names.service
    graph.add((catalog, RDF.type, DCAT.Catalog))
    _texts(graph, catalog, DCTERMS.title, {"de": "kiezgraph Pankow – Katalog",
                                           "en": "kiezgraph Pankow – catalogue"})
    _texts(graph, catalog, DCTERMS.description, {
        "de": "Katalog des Datensatzes kiezgraph Pankow und seines SPARQL-Endpunkts.",
        "en": "Catalogue of the kiezgraph Pankow dataset and its SPARQL endpoint."})
    graph.add((catalog, DCTERMS.publisher, publisher))
    graph.add((catalog, FOAF.homepage, URIRef(base)))
    graph.add((catalog, DCTERMS.license, license_))
    graph.add((catalog, DCTERMS.issued, _date(info["issued"])))
    graph.add((catalog, DCTERMS.modified, _date(info["modified"])))
    graph.add((catalog, DCAT.dataset, dataset))
    graph.add((catalog, DCAT.service, service))
    for code in LANGUAGES:
        graph.add((catalog, DCTERMS.language, URIRef(f"{EU}language/{code}")))

    graph.add((dataset, RDF.type, DCAT.Dataset))
    graph.add((dataset, DCTERMS.identifier, Literal(str(dataset))))
    _texts(graph, dataset, DCTERMS.title, TITLE)
    _texts(graph, dataset, DCTERMS.description, DESCRIPTION)
    graph.add((dataset, DCTERMS.publisher, publisher))
    if contact is not None:
        graph.add((dataset, DCAT.contactPoint, contact))
        graph.add((service, DCAT.contactPoint, contact))
    graph.add((dataset, DCAT.landingPage, URIRef(base)))
    graph.add((dataset, DCTERMS.issued, _date(info["issued"])))
    graph.add((dataset, DCTERMS.modified, _date(info["modified"])))
    graph.add((dataset, VERSION, Literal(info["version"])))
    graph.add((dataset, DCTERMS.accrualPeriodicity, FREQUENCY))
    graph.add((dataset, DCTERMS.accessRights, ACCESS_RIGHTS))
    for code, labels in THEMES.items():
        theme = URIRef(f"{EU}data-theme/{code}")
        graph.add((dataset, DCAT.theme, theme))
        _texts(graph, theme, SKOS.prefLabel, labels)
    for lang, words in KEYWORDS.items():
        for word in words:
            graph.add((dataset, DCAT.keyword, Literal(word, lang=lang)))
    for code in LANGUAGES:
        graph.add((dataset, DCTERMS.language, URIRef(f"{EU}language/{code}")))
    for place in SPATIAL:
        graph.add((dataset, DCTERMS.spatial, place))
    extent = info.get("catalog", {}).get("temporal")
    if extent:
        period = URIRef(f"{dataset}#temporal")
        graph.add((dataset, DCTERMS.temporal, period))
        graph.add((period, RDF.type, DCTERMS.PeriodOfTime))
        graph.add((period, DCAT.startDate, _date(extent[0])))
        graph.add((period, DCAT.endDate, _date(extent[1])))
    if settings.contributor_id:
        graph.add((dataset, DCATDE.contributorID, URIRef(settings.contributor_id)))
    for entry in dump_entries(info, names.dataset_name):
        graph.add((dataset, DCAT.distribution,
                   _distribution(graph, names, entry, info, license_)))

    _series(graph, names, info, publisher)

    graph.add((service, RDF.type, DCAT.DataService))
    graph.add((service, DCTERMS.identifier, Literal(str(service))))
    _texts(graph, service, DCTERMS.title, {"de": "kiezgraph Pankow – SPARQL-Endpunkt",
                                           "en": "kiezgraph Pankow – SPARQL endpoint"})
    _texts(graph, service, DCTERMS.description, {
        "de": "SPARQL-1.1-Endpunkt über den ganzen Graphen (Protokoll und Service Description).",
        "en": "SPARQL 1.1 endpoint over the whole graph (protocol and service description)."})
    graph.add((service, DCAT.endpointURL, names.sparql))
    graph.add((service, DCAT.endpointDescription, names.sparql))
    graph.add((service, DCAT.servesDataset, dataset))
    graph.add((service, DCTERMS.conformsTo, SPARQL_PROTOCOL))
    graph.add((service, DCTERMS.publisher, publisher))
    graph.add((service, DCTERMS.license, license_))
    graph.add((service, DCTERMS.accessRights, ACCESS_RIGHTS))
    for predicate, cls in RANGES.items():
        for value in set(graph.objects(None, predicate)):
            graph.add((value, RDF.type, cls))
    return graph
