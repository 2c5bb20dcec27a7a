"""schema.org Dataset JSON-LD for the home page, so web search engines find the dataset."""

from __future__ import annotations

from publisher.config import Settings
from publisher.formats import RDF_FORMATS
from publisher.metadata.catalog import DESCRIPTION, KEYWORDS, PUBLISHER_NAME, TITLE, dump_entries
from publisher.metadata.names import Names
from publisher.namespaces import SCHEMA_HTTPS

__all__ = ["dataset_jsonld"]


def dataset_jsonld(base: str, info: dict, settings: Settings, lang: str = "de") -> dict:
    """A schema.org Dataset (with its downloads) as a JSON-LD object, texts in `lang`."""
    names = Names(base)
    lang = lang if lang in TITLE else "de"
    labels = {fmt.name: fmt for fmt in RDF_FORMATS}
    data = {
        "@context": SCHEMA_HTTPS,
        "@type": "Dataset",
        "@id": str(names.dataset),
        "identifier": str(names.dataset),
        "name": TITLE[lang],
        "description": DESCRIPTION[lang],
        "url": base,
        "inLanguage": ["de", "en"],
        "keywords": list(KEYWORDS[lang]),
        "license": settings.license,
        "isAccessibleForFree": True,
        "version": info["version"],
        "datePublished": info["issued"],
        "dateModified": info["modified"],
        "publisher": {"@type": "GovernmentOrganization", "@id": str(names.publisher),
                      "name": PUBLISHER_NAME},
        "spatialCoverage": {"@type": "Place", "name": "Berlin-Pankow"},
        "subjectOf": {"@type": "DataCatalog", "@id": str(names.catalog)},
        "distribution": [
            {"@type": "DataDownload", "contentUrl": str(names.download(e["name"])),
             "encodingFormat": labels[e["format"]].media_type,
             "contentSize": f"{e['bytes']} B", "name": labels[e["format"]].label}
            for e in dump_entries(info, names.dataset_name)],
    }
    extent = info.get("catalog", {}).get("temporal")
    if extent:
        data["temporalCoverage"] = f"{extent[0]}/{extent[1]}"
    return data
