"""The network picture and the map: what is read from the store and what the SVG holds."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pyoxigraph as ox
import pytest

from publisher.diagram import Places, map_svg, network_svg, read_network, read_places
from publisher.store import EmbeddedStore

BASE = "https://w3id.org/kiezgraph/pankow/"
FIXTURE = Path(__file__).parent / "fixtures" / "network" / "graph.ttl"
SVG = "{http://www.w3.org/2000/svg}"


def load(*extra: str) -> EmbeddedStore:
    """The network fixture, plus extra Turtle, in a real embedded store."""
    store = ox.Store()
    store.load(path=str(FIXTURE), format=ox.RdfFormat.TURTLE, base_iri=BASE)
    for text in extra:
        store.load(text.encode(), format=ox.RdfFormat.TURTLE, base_iri=BASE)
    return EmbeddedStore(store)


@pytest.fixture(scope="module")
def net():
    return read_network(load(), BASE)


def local(iri: str) -> str:
    return "/" + iri.removeprefix(BASE)


def test_reads_agreement_collaboration_and_roles(net):
    assert [n.iri for n in net.agreements] == [BASE + "id/agreement/vertrag"]
    assert [n.iri for n in net.collaborations] == [BASE + "id/collaboration/netz"]
    roles = {g.role.label("de"): [m.label("de") for m in g.members] for g in net.groups if g.role}
    assert roles == {
        "Bezirksamt": ["Bezirksamt Pankow"],
        "Stadtteilzentrum": ["Stadtteilzentrum Weißensee"],
        "Träger eines Stadtteilzentrums": ["Frauenzentrum Paula Panke e. V."],
    }


def test_partner_without_membership_has_its_own_group():
    store = load("<id/agreement/vertrag> <ontology/partner> <id/organisation/neu> . "
                 '<id/organisation/neu> <http://www.w3.org/2000/01/rdf-schema#label> "Neu"@de .')
    groups = read_network(store, BASE).groups
    assert groups[-1].role is None
    assert [m.label() for m in groups[-1].members] == ["Neu"]


def test_svg_is_well_formed_and_every_node_links_to_its_page(net):
    svg = network_svg(net, lang="de", href=local)
    root = ET.fromstring(svg)
    links = {a.get("href") for a in root.iter(SVG + "a")}
    expected = {local(n.iri) for n in net.agreements + net.collaborations}
    expected |= {local(g.role.iri) for g in net.groups if g.role}
    expected |= {local(m.iri) for g in net.groups for m in g.members}
    assert links == expected
    assert root.find(SVG + "title").text.startswith("Das Kooperationsnetz")


def test_svg_speaks_the_language_asked_for(net):
    english = network_svg(net, lang="en", href=local)
    assert "district office" in english and "Cooperation network" in english
    assert "district office" not in network_svg(net, lang="de", href=local)


def test_names_are_escaped():
    store = load('<id/organisation/amt> <http://www.w3.org/2004/02/skos/core#prefLabel> '
                 '"A & <B>"@fr .')
    svg = network_svg(read_network(store, BASE), lang="fr", href=local)
    ET.fromstring(svg)  # still well-formed
    assert "A &amp; &lt;B&gt;" in svg


def test_no_coordinates_no_map():
    places = read_places(load(), BASE)
    assert places.points == []
    assert map_svg(places) is None


def test_points_and_outlines_are_drawn_where_the_data_has_them():
    store = load(
        "@prefix geo: <http://www.w3.org/2003/01/geo/wgs84_pos#> . "
        "@prefix gsp: <http://www.opengis.net/ont/geosparql#> . "
        "@prefix org: <http://www.w3.org/ns/org#> . "
        "<id/stadtteilzentrum/stz-weissensee> org:hasSite <id/site/s> . "
        '<id/site/s> geo:lat "52.55" ; geo:long "13.46" . '
        "<id/place/ortsteil-weissensee> gsp:hasGeometry [ gsp:asWKT "
        '"POLYGON((13.43 52.53, 13.49 52.53, 13.49 52.57, 13.43 52.57, 13.43 52.53))"'
        "^^gsp:wktLiteral ] .")
    places = read_places(store, BASE)
    assert [(n.label(), lon, lat) for n, lon, lat in places.points] == \
        [("Stadtteilzentrum Weißensee", 13.46, 52.55)]
    assert [n.label() for n, _rings in places.outlines] == ["Weißensee"]
    root = ET.fromstring(map_svg(places, href=local))
    assert len(list(root.iter(SVG + "circle"))) == 1
    assert len(list(root.iter(SVG + "path"))) == 1
    circle = next(root.iter(SVG + "circle"))
    # The point lies inside the outline's box: the centre of the drawing, give or take.
    width, height = (float(v) for v in root.get("viewBox").split()[2:])
    assert 0 < float(circle.get("cx")) < width and 0 < float(circle.get("cy")) < height


def test_points_without_outlines_still_make_a_map():
    store = load("@prefix geo: <http://www.w3.org/2003/01/geo/wgs84_pos#> . "
                 '<id/stadtteilzentrum/stz-muehle> geo:lat "52.6" ; geo:long "13.4" .')
    places = read_places(store, BASE)
    assert places.outlines == []
    root = ET.fromstring(map_svg(places, href=local))
    assert [a.get("href") for a in root.iter(SVG + "a")] == ["/id/stadtteilzentrum/stz-muehle"]
    assert list(root.iter(SVG + "path")) == []
    assert map_svg(Places(points=[], outlines=[])) is None
