"""The /network page and /network.svg on the real data."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

SVG = "{http://www.w3.org/2000/svg}"


def test_network_page_shows_the_picture_and_lists_partners(client):
    response = client.get("/network")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<svg" in page
    assert 'href="./doc/agreement/kooperationsvertrag-2022"' in page  # relative to /network
    assert 'href="./doc/stadtteilzentrum/stz-weissensee"' in page
    assert "Stadtteilzentrum Weißensee" in page


def test_every_partner_of_the_agreement_is_in_the_picture(client, app):
    from publisher.web.state import Served

    state: Served = app.extensions["kiezgraph"]
    base = state.settings.base_uri
    agreement = f"<{base}id/agreement/kooperationsvertrag-2022>"
    rows = state.published.store.select(
        f"SELECT ?p WHERE {{ {agreement} <{base}ontology/partner> ?p }}")
    svg = ET.fromstring(client.get("/network.svg").get_data(as_text=True))
    links = {a.get("href") for a in svg.iter(SVG + "a")}
    assert rows
    for row in rows:
        assert "./doc/" + str(row["p"]).removeprefix(base + "id/") in links


def test_network_svg_is_an_image(client):
    response = client.get("/network.svg?lang=en")
    assert response.mimetype == "image/svg+xml"
    assert "neighbourhood centre" in response.get_data(as_text=True)


def test_map_only_with_coordinates(client, app):
    state = app.extensions["kiezgraph"]
    has_points = state.published.store.ask(
        "ASK { ?s <http://www.w3.org/2003/01/geo/wgs84_pos#lat> ?lat }")
    page = client.get("/network").get_data(as_text=True)
    assert bool(re.search(r'<svg[^>]*class="map"', page)) == has_points
    if not has_points:
        assert "keine Koordinaten" in page
