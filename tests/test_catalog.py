"""The DCAT-AP.de catalogue graph: stable IRIs, exact vocabulary IRIs, numbers from the build."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, RDF, XSD

from publisher.build import build
from publisher.config import load_settings
from publisher.metadata.catalog import IANA, SPDX, catalog_graph, dump_entries
from publisher.metadata.names import Names
from publisher.project import Project

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
SHARED = ROOT.parent / "shared"
BASE = "https://w3id.org/kiezgraph/pankow/"
EU_FILE_TYPE = "http://publications.europa.eu/resource/authority/file-type/"


@pytest.fixture(scope="module")
def catalog(release, settings) -> Graph:
    """The catalogue of the session's build under the configured base."""
    return catalog_graph(BASE, release.info, settings)


def test_no_blank_nodes(catalog):
    assert len(catalog) > 100
    assert not [t for t in catalog if any(isinstance(x, BNode) for x in t)]


def test_dataset_has_stable_identifier_and_bilingual_texts(catalog):
    dataset = Names(BASE).dataset
    assert (dataset, RDF.type, DCAT.Dataset) in catalog
    assert catalog.value(dataset, DCTERMS.identifier) == Literal(str(dataset))
    for predicate in (DCTERMS.title, DCTERMS.description):
        langs = {lit.language for lit in catalog.objects(dataset, predicate)}
        assert langs == {"de", "en"}


def test_distributions_match_the_build_files(catalog, release, settings):
    dists = list(catalog.subjects(RDF.type, DCAT.Distribution))
    entries = {e["name"]: e for e in dump_entries(release.info, "kiezgraph-pankow")}
    assert len(dists) == len(entries) == 5
    for dist in dists:
        assert catalog.value(dist, DCTERMS.license) == URIRef(settings.license)
        assert str(catalog.value(dist, DCTERMS["format"])).startswith(EU_FILE_TYPE)
        assert str(catalog.value(dist, DCAT.mediaType)).startswith(IANA)
        url = str(catalog.value(dist, DCAT.downloadURL))
        entry = entries[url.rsplit("/", 1)[1]]
        size = catalog.value(dist, DCAT.byteSize)
        assert size.datatype == XSD.nonNegativeInteger and int(size) == entry["bytes"]
        checksum = catalog.value(dist, SPDX.checksum)
        assert isinstance(checksum, URIRef)
        assert str(catalog.value(checksum, SPDX.checksumValue)) == entry["sha256"]
        assert catalog.value(dist, DCTERMS.modified).datatype == XSD.date


def test_licence_is_in_the_dcat_ap_de_licence_list(settings):
    vocab = SHARED / "conformance/dcat-ap-de/vocab/dcat-ap-de-licenses-open.rdf"
    if not vocab.is_file():
        pytest.skip(f"no licence vocabulary at {vocab}")
    licences = Graph().parse(vocab, format="xml")
    skos_in_scheme = URIRef("http://www.w3.org/2004/02/skos/core#inScheme")
    assert (URIRef(settings.license), skos_in_scheme,
            URIRef("http://dcat-ap.de/def/licenses")) in licences


def test_sparql_service(catalog):
    names = Names(BASE)
    service = names.service
    assert (service, RDF.type, DCAT.DataService) in catalog
    assert catalog.value(service, DCAT.endpointURL) == URIRef(BASE + "sparql")
    assert catalog.value(service, DCAT.servesDataset) == names.dataset


def test_contributor_id_only_when_configured(release, settings, catalog):
    dcatde = URIRef("http://dcat-ap.de/def/dcatde/contributorID")
    assert not list(catalog.objects(None, dcatde))
    given = "http://dcat-ap.de/def/contributors/bezirksamtPankow"
    configured = catalog_graph(BASE, release.info, settings.replace(contributor_id=given))
    assert list(configured.objects(None, dcatde)) == [URIRef(given)]


def test_contact_point_uses_mailto(release, settings):
    graph = catalog_graph(BASE, release.info, settings.replace(contact_email="kiez@example.org"))
    vcard_email = URIRef("http://www.w3.org/2006/vcard/ns#hasEmail")
    assert list(graph.objects(None, vcard_email)) == [URIRef("mailto:kiez@example.org")]


def test_iris_follow_the_base_given(release, settings):
    graph = catalog_graph("http://127.0.0.1:9999/", release.info, settings)
    ours = {str(x) for t in graph for x in t if isinstance(x, URIRef)}
    assert not [iri for iri in ours if iri.startswith(BASE)]
    assert "http://127.0.0.1:9999/sparql" in ours


def _build(root, out):
    settings = load_settings(env={}, overrides={"out": str(out)})
    return build(Project(root), settings, out).release, settings


@pytest.mark.slow
def test_identifiers_and_modified_stable_until_the_data_changes(tmp_path):
    root = tmp_path / "project"
    shutil.copytree(FIXTURES / "metadata", root)
    out = tmp_path / "out"
    first, settings = _build(root, out)
    # pretend the first build is older, so a same-day rebuild could not hide a change
    index = json.loads((out / "releases.json").read_text())
    for entry in index:
        entry["issued"] = entry["modified"] = "2020-01-01"
    (out / "releases.json").write_text(json.dumps(index))

    again, _ = _build(root, out)
    assert again.version == first.version
    a = catalog_graph(BASE, first.info | {"issued": "2020-01-01", "modified": "2020-01-01"},
                      settings)
    b = catalog_graph(BASE, again.info, settings)
    ids = lambda g: sorted(map(str, g.objects(None, DCTERMS.identifier)))  # noqa: E731
    assert ids(a) == ids(b)
    assert b.value(Names(BASE).dataset, DCTERMS.modified) == Literal("2020-01-01",
                                                                     datatype=XSD.date)
    assert set(a) == set(b)

    data = root / "data" / "organisations.ttl"
    data.write_text(data.read_text().replace("Kooperationsvertrag 2022", "Kooperationsvertrag"))
    changed, _ = _build(root, out)
    c = catalog_graph(BASE, changed.info, settings)
    assert changed.version != first.version
    assert c.value(Names(BASE).dataset, DCTERMS.modified) != Literal("2020-01-01",
                                                                     datatype=XSD.date)
    # every identifier stays; the one added names the release before (the dataset series,
    # issue 25)
    assert set(ids(b)) <= set(ids(c))
    assert set(ids(c)) - set(ids(b)) == {f"{Names(BASE).dataset}-{first.version}"}
