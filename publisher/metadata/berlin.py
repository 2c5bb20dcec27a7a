"""The dataset's registration for Berlin's Datenregister (Berlin Open Data Schema 2.4)."""

from __future__ import annotations

from publisher.config import Settings
from publisher.formats import RDF_FORMATS
from publisher.metadata.catalog import DESCRIPTION, KEYWORDS, PUBLISHER_NAME, TITLE, dump_entries
from publisher.metadata.names import Names

__all__ = ["BERLIN_LICENSES", "BerlinRecordError", "berlin_record"]

# dcat-ap.de licence IRI -> id in Berlin's licence list (berlin-od-portal.json).
_DCAT = "http://dcat-ap.de/def/licenses/"
BERLIN_LICENSES = {
    _DCAT + "cc-zero": "cc-zero",
    _DCAT + "cc-by": "cc-by",
    _DCAT + "cc-by/4.0": "cc-by/4.0",
    _DCAT + "cc-by-sa": "cc-by-sa",
    _DCAT + "cc-by-sa/4.0": "cc-by-sa",
    _DCAT + "dl-zero-de/2.0": "dl-de-zero-2.0",
    _DCAT + "dl-by-de/2.0": "dl-de-by-2.0",
    _DCAT + "odbl": "odc-odbl",
}


class BerlinRecordError(ValueError):
    """The settings do not give what the Datenregister requires."""


def berlin_record(base: str, info: dict, settings: Settings) -> dict:
    """The Datenregister JSON of a build: title, name, licence id, groups, resources, …"""
    names = Names(base)
    license_id = BERLIN_LICENSES.get(settings.license)
    if license_id is None:
        raise BerlinRecordError(f"licence {settings.license} has no id in Berlin's licence "
                                f"list; use one of: {', '.join(BERLIN_LICENSES)}")
    email = settings.contact_email.removeprefix("mailto:")
    contact = f"mailto:{email}" if email else settings.contact_url
    if not contact:
        raise BerlinRecordError("the Datenregister needs maintainer_email: set contact_email "
                                "or contact_url")
    labels = {fmt.name: fmt.label for fmt in RDF_FORMATS}
    resources = [{"url": str(names.download(entry["name"])), "format": labels[entry["format"]],
                  "description": f"{labels[entry['format']]} (Version {info['version']}, "
                                 f"{entry['bytes']} Bytes, SHA-256 {entry['sha256']})"}
                 for entry in dump_entries(info, names.dataset_name)]
    resources.append({"url": str(names.sparql), "format": "SPARQL",
                      "description": "SPARQL-1.1-Endpunkt über den ganzen Graphen"})
    resources.append({"url": str(names.catalog), "format": "RDF",
                      "description": "DCAT-AP.de-Katalog (Turtle, RDF/XML, JSON-LD)"})
    record = {
        "title": TITLE["de"],
        "name": names.dataset_name,
        "berlin_type": "datensatz",
        "berlin_source": "api-kiezgraph",
        "author": PUBLISHER_NAME,
        "author_email": contact,
        "maintainer": PUBLISHER_NAME,
        "maintainer_email": contact,
        "url": base,
        "notes": DESCRIPTION["de"],
        "license_id": license_id,
        "date_released": info["issued"],
        "date_updated": info["modified"],
        "geographical_coverage": "Pankow",
        "groups": [{"name": "sozial"}, {"name": "oeffentlich"}],
        "tags": [{"name": word} for word in KEYWORDS["de"]],
        "resources": resources,
    }
    extent = info.get("catalog", {}).get("temporal")
    if extent:
        record["temporal_coverage_from"], record["temporal_coverage_to"] = extent
    return record
