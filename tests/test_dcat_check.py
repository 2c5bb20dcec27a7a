"""/catalog passes the official DCAT-AP.de 3.0 and SEMIC DCAT-AP 3 shapes without violations."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF

from publisher.cli import main
from publisher.metadata.dcat_check import (
    PROFILES,
    DcatShapesMissing,
    check_catalog,
    load_profile,
    load_vocabularies,
)

CONFORMANCE = Path(__file__).resolve().parent.parent.parent / "shared" / "conformance"
DCAT = "http://www.w3.org/ns/dcat#"

pytestmark = pytest.mark.skipif(not (CONFORMANCE / "dcat-ap-de").is_dir(),
                                reason=f"no DCAT-AP.de shapes at {CONFORMANCE}")


@pytest.fixture(scope="session")
def profiles() -> dict[str, Graph]:
    """The shapes of each profile, parsed once (the big part of the check's time)."""
    return {name: load_profile(CONFORMANCE, name) for name in PROFILES}


@pytest.fixture(scope="session")
def vocabularies() -> Graph:
    """The controlled vocabularies and the stand-in."""
    return load_vocabularies(CONFORMANCE)


@pytest.fixture(scope="module")
def served_catalog(app) -> Graph:
    """/catalog as a harvester gets it."""
    response = app.test_client().get("/catalog", headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    return Graph().parse(data=response.get_data(as_text=True), format="turtle")


@pytest.mark.parametrize("profile", list(PROFILES))
def test_served_catalog_has_no_violations(served_catalog, profiles, vocabularies, profile):
    check = check_catalog(served_catalog, profiles[profile], vocabularies, profile)
    assert check.conforms, check.as_text()


def test_a_format_given_as_a_string_is_a_violation(served_catalog, profiles, vocabularies):
    broken = Graph()
    for triple in served_catalog:
        broken.add(triple)
    dist = next(broken.subjects(RDF.type, URIRef(DCAT + "Distribution")))
    broken.remove((dist, DCTERMS.license, None))
    broken.set((dist, DCTERMS["format"], Literal("Turtle")))
    check = check_catalog(broken, profiles["dcat-ap-de-3.0"], vocabularies)
    assert not check.conforms
    paths = {v.path for v in check.violations}
    assert str(DCTERMS.license) in paths and str(DCTERMS["format"]) in paths


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(DcatShapesMissing, match=r"dcat-ap-SHACL\.ttl"):
        load_profile(tmp_path)


def test_cli_validate_catalog(runner, build_dir):
    result = runner.invoke(main, ["validate", "--catalog", "--dcat-shapes", str(CONFORMANCE),
                                  "--out", str(build_dir)])
    assert result.exit_code == 0, result.output
    assert "0 violation(s)" in result.output


def test_cli_validate_catalog_needs_the_shapes(runner, build_dir, tmp_path):
    result = runner.invoke(main, ["validate", "--catalog", "--out", str(build_dir)])
    assert result.exit_code == 2 and "--dcat-shapes" in result.output
    result = runner.invoke(main, ["validate", "--catalog", "--dcat-shapes", str(tmp_path),
                                  "--out", str(build_dir)])
    assert result.exit_code == 2 and "conformance folder" in result.output


@pytest.mark.live
@pytest.mark.parametrize("profile", list(PROFILES))
def test_issue15_catalog_read_through_sparql_conforms(live_server, profiles, vocabularies,
                                                      profile):
    """The store keeps dcat:byteSize as xsd:integer (pyoxigraph canonicalises derived
    integer types); the catalogue read through SPARQL must still pass the shapes."""
    from urllib.parse import urlencode

    query = ("CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } "
             'FILTER(STRENDS(STR(?g), "graph/metadata")) }')
    url = f"{live_server.url}/sparql?" + urlencode({"query": query})
    catalog = Graph().parse(url, format="turtle")
    sizes = list(catalog.objects(None, URIRef(DCAT + "byteSize")))
    assert sizes and all(str(s.datatype).endswith("#nonNegativeInteger") for s in sizes)
    check = check_catalog(catalog, profiles[profile], vocabularies, profile)
    assert check.conforms, check.as_text()
